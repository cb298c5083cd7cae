// The CLI's commands on top of the BPF core. Each returns when done; `watch` runs until its signal or count.
import { setTimeout as sleep } from "node:timers/promises";
import {
  type AttachedCounter,
  attachCounter,
  BpfError,
  type CounterStatus,
  counterStatus,
  detachCounter,
  listCounters,
  pinnedInterfaces,
  STANDALONE_OWNER,
  type XdpAction,
} from "../bpf/index.ts";
import { countersJson, fallbackJson, type Rates, rates, type Sample, statusJson, table } from "./format.ts";
import type { Options } from "./options.ts";

export interface Output {
  out: (line: string) => void;
  err: (line: string) => void;
  isTTY: boolean;
}

const owner = STANDALONE_OWNER;

/** Attaches to every interface or to none: on a failure, what this call attached is detached again. */
function attachAll(opts: Options): AttachedCounter[] {
  const done: AttachedCounter[] = [];
  try {
    for (const iface of opts.iface) {
      done.push(
        attachCounter({ iface, owner, pinRoot: opts["pin-root"], mode: opts.mode, action: opts.action }),
      );
    }
    return done;
  } catch (err) {
    for (const c of done) {
      c.close();
      if (c.outcome === "attached") detachCounter({ iface: c.iface, owner, pinRoot: opts["pin-root"] });
    }
    throw err;
  }
}

const OUTCOME_TEXT = {
  attached: "attached",
  adopted: "already counting; left as it was",
  replaced: "already counting; program replaced, counters kept",
  upgraded: "already counting an earlier build's program; swapped for this one, counters kept",
  reattached: "already counting; re-attached in the new mode, counters kept",
} as const;

/** "eth1: attached (generic mode, action pass); not native: the veth driver …" */
function attachedLine(c: AttachedCounter): string {
  const line = `${c.iface}: ${OUTCOME_TEXT[c.outcome]} (${c.mode} mode, action ${c.action})`;
  return c.fallback ? `${line}; not native: ${c.fallback.message} (${c.fallback.reason})` : line;
}

export function attach(opts: Options, io: Output): void {
  const counters = attachAll(opts);
  for (const c of counters) {
    if (opts.json) {
      io.out(
        JSON.stringify({
          interface: c.iface,
          outcome: c.outcome,
          mode: c.mode,
          action: c.action,
          fallback: fallbackJson(c.fallback),
          counters: countersJson(c.read()),
        }),
      );
    } else {
      io.out(attachedLine(c));
    }
    c.close();
  }
}

export function detach(opts: Options, io: Output): void {
  const ifaces = opts.all ? pinnedInterfaces(opts["pin-root"], owner) : opts.iface;
  if (ifaces.length === 0 && !opts.json) io.out("nothing to detach");
  for (const iface of ifaces) {
    const final = detachCounter({ iface, owner, pinRoot: opts["pin-root"] });
    if (opts.json) {
      io.out(
        JSON.stringify({
          interface: iface,
          detached: final !== undefined,
          counters: final ? countersJson(final) : null,
        }),
      );
    } else if (final) {
      io.out(`${iface}: detached; final totals: ${summary(final)}`);
    } else {
      io.out(`${iface}: no counter of this CLI was there`);
    }
  }
}

function summary(c: NonNullable<CounterStatus["counters"]>): string {
  return (["pass", "drop", "aborted", "tx", "redirect"] as const)
    .filter((a) => a === "pass" || a === "drop" || c[a].packets > 0n)
    .map((a) => `${a} ${c[a].packets} packets / ${c[a].bytes} bytes`)
    .join(", ");
}

export function status(opts: Options, io: Output): void {
  const all =
    opts.iface.length > 0
      ? opts.iface.map((iface) => counterStatus({ iface, owner, pinRoot: opts["pin-root"] }))
      : listCounters(owner, opts["pin-root"]);
  if (opts.json) {
    io.out(JSON.stringify({ interfaces: all.map(statusJson) }));
    return;
  }
  const samples = all.filter((s) => s.counters).map((s) => toSample(s));
  if (samples.length === 0) {
    io.out(
      "no counters: start one with `xdp-counter attach --iface NAME` or `xdp-counter watch --iface NAME`",
    );
    return;
  }
  io.out(table(samples, () => undefined));
}

const toSample = (s: CounterStatus): Sample => ({
  iface: s.iface,
  mode: s.mode,
  action: s.action,
  attached: s.attached,
  counters: s.counters ?? ({} as Sample["counters"]),
  fallback: s.fallback,
});

export async function watch(opts: Options, io: Output, signal: AbortSignal): Promise<void> {
  const counters = attachAll(opts);
  const pinRoot = opts["pin-root"];
  try {
    if (!opts.json) {
      for (const c of counters) io.err(attachedLine(c));
      io.err(
        `counting; every ${opts.interval} ms a new table. Ctrl-C to stop${opts.keep ? " (counters stay attached)" : ""}.`,
      );
    }
    const prev = new Map<string, { counters: Sample["counters"]; at: bigint }>();
    let last: Sample[] = [];
    for (let tick = 1; !signal.aborted; tick++) {
      const at = process.hrtime.bigint();
      const rateMap = new Map<string, Record<XdpAction, Rates>>();
      last = counters.map((c) => {
        try {
          const now = c.read();
          const before = prev.get(c.iface);
          rateMap.set(c.iface, rates(before?.counters, now, before ? Number(at - before.at) / 1e9 : 0));
          prev.set(c.iface, { counters: now, at });
          return {
            iface: c.iface,
            mode: c.mode,
            action: c.action,
            attached: true,
            counters: now,
            fallback: c.fallback,
          };
        } catch (err) {
          const message = err instanceof BpfError ? err.message : String(err);
          return {
            iface: c.iface,
            mode: c.mode,
            action: c.action,
            attached: false,
            counters: prev.get(c.iface)?.counters ?? ({} as Sample["counters"]),
            error: message,
          };
        }
      });
      if (opts.json) {
        io.out(
          JSON.stringify({
            time: new Date().toISOString(),
            interfaces: last.map((s) => ({
              interface: s.iface,
              mode: s.mode,
              action: s.action,
              fallback: fallbackJson(s.fallback),
              ...(s.error
                ? { error: s.error }
                : { counters: countersJson(s.counters), rates: rateMap.get(s.iface) }),
            })),
          }),
        );
      } else {
        const text = `xdp-counter watch   ${new Date().toISOString()}\n\n${table(last, (i) => rateMap.get(i))}`;
        io.out(io.isTTY ? `\x1b[H\x1b[2J${text}` : `${text}\n`);
      }
      if (opts.count !== undefined && tick >= opts.count) break;
      await sleep(opts.interval, undefined, { signal }).catch(() => undefined);
    }
  } finally {
    for (const c of counters) c.close();
    if (!opts.keep) {
      for (const c of counters) {
        if (c.outcome !== "attached") continue; // adopted counters were someone else's to remove
        const final = detachCounter({ iface: c.iface, owner, pinRoot });
        if (!opts.json && final) io.err(`${c.iface}: detached; final totals: ${summary(final)}`);
      }
    }
  }
}
