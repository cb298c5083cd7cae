// What the CLI prints: the live table and the JSON records. Counters stay bigint; JSON carries them as
// decimal strings so that no reader loses precision above 2^53.
import {
  type CounterStatus,
  type Counters,
  type NativeRefusal,
  XDP_ACTIONS,
  type XdpAction,
} from "../bpf/index.ts";

export interface Sample {
  iface: string;
  mode: string | undefined;
  action: string | undefined;
  attached: boolean;
  counters: Counters;
  error?: string;
  /** why `auto` runs this interface in generic mode */
  fallback?: NativeRefusal;
}

export interface Rates {
  pps: number;
  bps: number;
}

/** Per-second rates between two samples of the same counters; bigint deltas, then one division. */
export function rates(prev: Counters | undefined, next: Counters, seconds: number): Record<XdpAction, Rates> {
  const out = {} as Record<XdpAction, Rates>;
  for (const a of XDP_ACTIONS) {
    const dp = prev ? next[a].packets - prev[a].packets : 0n;
    const db = prev ? next[a].bytes - prev[a].bytes : 0n;
    out[a] =
      seconds > 0 && dp >= 0n
        ? { pps: Number(dp) / seconds, bps: (Number(db) * 8) / seconds }
        : { pps: 0, bps: 0 };
  }
  return out;
}

const group = (n: bigint): string => n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");

function si(value: number, unit: string): string {
  const prefixes = ["", "k", "M", "G", "T"];
  let v = value;
  let i = 0;
  while (v >= 1000 && i < prefixes.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 2)} ${prefixes[i]}${unit}`;
}

function pad(cells: string[], widths: number[], right: boolean[]): string {
  return cells
    .map((c, i) => (right[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
    .join("  ")
    .trimEnd();
}

/**
 * The live table: one row per interface and XDP action. An interface that `auto` left in generic mode shows
 * `generic*` and, under the table, why the driver refused native XDP.
 */
export function table(
  samples: Sample[],
  rateOf: (iface: string) => Record<XdpAction, Rates> | undefined,
): string {
  const header = ["INTERFACE", "MODE", "VERDICT", "ACTION", "PACKETS", "BYTES", "PACKETS/S", "BITS/S"];
  const right = [false, false, false, false, true, true, true, true];
  const rows: string[][] = [];
  for (const s of samples) {
    if (s.error) {
      rows.push([s.iface, "-", "-", `error: ${s.error}`, "", "", "", ""]);
      continue;
    }
    const r = rateOf(s.iface);
    XDP_ACTIONS.forEach((a, i) => {
      rows.push([
        i === 0 ? s.iface : "",
        i === 0 ? (s.attached ? `${s.mode ?? "?"}${s.fallback ? "*" : ""}` : "detached") : "",
        i === 0 ? (s.action ?? "-") : "",
        a,
        group(s.counters[a].packets),
        group(s.counters[a].bytes),
        r ? si(r[a].pps, "pps") : "-",
        r ? si(r[a].bps, "bit/s") : "-",
      ]);
    });
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const notes = samples
    .filter((s) => s.attached && s.fallback)
    .map((s) => `* ${s.iface}: generic, not native: ${s.fallback?.message} (${s.fallback?.reason})`);
  return [
    pad(header, widths, right),
    ...rows.map((row) => pad(row, widths, right)),
    ...(notes.length > 0 ? ["", ...notes] : []),
  ].join("\n");
}

/** The fallback as JSON records carry it: null when the interface runs native or generic was asked for. */
export const fallbackJson = (f: NativeRefusal | undefined): NativeRefusal | null =>
  f ? { reason: f.reason, message: f.message } : null;

export function countersJson(c: Counters): Record<XdpAction, { packets: string; bytes: string }> {
  const out = {} as Record<XdpAction, { packets: string; bytes: string }>;
  for (const a of XDP_ACTIONS) out[a] = { packets: c[a].packets.toString(), bytes: c[a].bytes.toString() };
  return out;
}

export function statusJson(s: CounterStatus): object {
  return {
    interface: s.iface,
    attached: s.attached,
    mode: s.mode ?? null,
    action: s.action ?? null,
    fallback: fallbackJson(s.fallback),
    counters: s.counters ? countersJson(s.counters) : null,
  };
}
