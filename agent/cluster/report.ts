// A node's XdpCounterReport for one XdpCounter (docs/adr/0022), built from the interface states; its rates
// over the last interval; and the key that tells whether it changed since the last write. Counters leave out
// the actions that counted 0, for the node and for each interface.
import {
  type ActionTotals,
  API_VERSION,
  formatNonZeroCounters,
  type InterfaceStatus,
  REPORT_KIND,
  type ReportPhase,
  type ReportRates,
  reportName,
  XDP_ACTIONS,
  XDPCOUNTER_LABEL,
  type XdpAction,
  type XdpCounterReportInput,
  zeroTotals,
} from "../../api/v1alpha1/index.ts";
import type { Counters } from "../bpf/index.ts";
import type { InterfaceState } from "./reconciler.ts";

export const MAX_REPORT_INTERFACES = 64;
const MAX_ERROR = 1024;
const MAX_FALLBACK = 512;
const U64_MAX = (1n << 64n) - 1n;

const cut = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

function totals(counters: Counters | undefined, what: "packets" | "bytes"): ActionTotals {
  const out = zeroTotals();
  if (counters) for (const a of XDP_ACTIONS) out[a] = counters[a][what];
  return out;
}

/** A report's content: everything but metadata. */
export type ReportBody = Omit<XdpCounterReportInput, "apiVersion" | "kind" | "metadata">;

/** The node's totals over its interfaces, by action: what the rates are measured on. */
export interface NodeTotals {
  packets: ActionTotals;
  bytes: ActionTotals;
}

export function nodeTotals(states: readonly InterfaceState[]): NodeTotals {
  const packets = zeroTotals();
  const bytes = zeroTotals();
  for (const s of states.slice(0, MAX_REPORT_INTERFACES)) {
    const p = totals(s.counters, "packets");
    const b = totals(s.counters, "bytes");
    for (const a of XDP_ACTIONS) {
      packets[a] += p[a];
      bytes[a] += b[a];
    }
  }
  return { packets: clamp(packets), bytes: clamp(bytes) };
}

export function buildReport(opts: {
  xdpCounter: { name: string; uid: string; generation: number };
  nodeName: string;
  states: readonly InterfaceState[];
  now: Date;
  /** Cleaning while detaching; else Counting or Error, derived */
  phase?: ReportPhase;
  nodeProblem?: string | undefined;
  rates?: ReportRates | undefined;
}): ReportBody {
  const states = opts.states.slice(0, MAX_REPORT_INTERFACES);
  const interfaces: InterfaceStatus[] = states.map((s) => {
    const entry: InterfaceStatus = {
      name: s.name,
      mode: s.attached ? s.mode : "",
      attached: s.attached,
      packets: formatNonZeroCounters(totals(s.counters, "packets")),
      bytes: formatNonZeroCounters(totals(s.counters, "bytes")),
    };
    if (s.problem) {
      entry.reason = s.problem.reason;
      entry.error = cut(s.problem.error, MAX_ERROR);
      if (s.problem.heldBy) entry.heldBy = s.problem.heldBy;
    }
    if (s.attached && s.fallback) {
      entry.fallback = { reason: s.fallback.reason, message: cut(s.fallback.message, MAX_FALLBACK) };
    }
    return entry;
  });
  let phase = opts.phase;
  let error: string | undefined;
  if (phase === undefined) {
    const counting = states.some((s) => s.attached && !s.problem);
    const problems = [
      ...(opts.nodeProblem ? [opts.nodeProblem] : []),
      ...states.filter((s) => s.problem).map((s) => `${s.name}: ${s.problem?.error}`),
    ];
    // An interface that cannot count is reported on the interface; the node is in Error only when it
    // counts on nothing at all.
    if (!counting && (problems.length > 0 || states.length === 0)) {
      phase = "Error";
      error = cut(problems.join("; ") || "no interface to count on", MAX_ERROR);
    } else phase = "Counting";
  }
  const { packets, bytes } = nodeTotals(states);
  const body: ReportBody = {
    nodeName: opts.nodeName,
    xdpCounter: { name: opts.xdpCounter.name, uid: opts.xdpCounter.uid },
    generation: opts.xdpCounter.generation,
    phase,
    reportedAt: opts.now.toISOString(),
    interfaces,
    packets: formatNonZeroCounters(packets),
    bytes: formatNonZeroCounters(bytes),
  };
  if (error) body.error = error;
  if (opts.rates) body.rates = opts.rates;
  return body;
}

/** The whole object as the agent applies it: named, labelled, and owned by its Node (deleted with it). */
export function reportObject(body: ReportBody, node: { name: string; uid: string }): XdpCounterReportInput {
  return {
    apiVersion: API_VERSION,
    kind: REPORT_KIND,
    metadata: {
      name: reportName(body.xdpCounter.name, body.nodeName),
      labels: { [XDPCOUNTER_LABEL]: body.xdpCounter.name },
      ownerReferences: [{ apiVersion: "v1", kind: "Node", name: node.name, uid: node.uid }],
    },
    ...body,
  } as XdpCounterReportInput;
}

/** Everything but the time: two reports with the same key need not both be written. */
export function changeKey(body: ReportBody): string {
  const { reportedAt: _, ...rest } = body;
  return JSON.stringify(rest);
}

/** A node total above 2^64−1 stops there rather than failing the write (docs/adr/0003). */
function clamp(t: ActionTotals): ActionTotals {
  for (const a of XDP_ACTIONS) if (t[a] > U64_MAX) t[a] = U64_MAX;
  return t;
}

/** Each interface's totals by name (the interfaces a report holds): what the rates are measured on. */
export function interfaceTotals(states: readonly InterfaceState[]): Map<string, NodeTotals> {
  const out = new Map<string, NodeTotals>();
  for (const s of states.slice(0, MAX_REPORT_INTERFACES))
    out.set(s.name, { packets: totals(s.counters, "packets"), bytes: totals(s.counters, "bytes") });
  return out;
}

/** What a counter counted between two readings: all of it if it is new or went down (it started from 0). */
function counted(now: bigint, before: bigint | undefined): bigint {
  return before === undefined || now < before ? now : now - before;
}

/**
 * Rates between successive readings of a node's interfaces: packets/s and bits/s by action over the time
 * between them, summed over the interfaces. Each interface is measured on its own, so that one whose counter
 * went down (its pins were lost: the interface was re-created, or the node rebooted) counts what it counted
 * since it started again from 0, and one that is gone counts nothing, while the others count what they
 * counted: a rate is never negative, and never the whole total of the node. Actions with no traffic are left
 * out; with no traffic at all there are no rates.
 */
export class RateMeter {
  #last: { at: number; totals: ReadonlyMap<string, NodeTotals> } | undefined;

  /** The rates since the previous reading, or undefined at the first. */
  sample(totals: ReadonlyMap<string, NodeTotals>, atMs: number): ReportRates | undefined {
    const last = this.#last;
    this.#last = { at: atMs, totals };
    if (!last || atMs <= last.at) return undefined;
    const seconds = (atMs - last.at) / 1000;
    const packets = zeroTotals();
    const bytes = zeroTotals();
    for (const [name, now] of totals) {
      const before = last.totals.get(name);
      for (const a of XDP_ACTIONS) {
        packets[a] += counted(now.packets[a], before?.packets[a]);
        bytes[a] += counted(now.bytes[a], before?.bytes[a]);
      }
    }
    const rate = (delta: bigint): number => Math.round((Number(delta) / seconds) * 1000) / 1000;
    const pps: Partial<Record<XdpAction, number>> = {};
    const bps: Partial<Record<XdpAction, number>> = {};
    for (const a of XDP_ACTIONS) {
      const p = rate(packets[a]);
      const b = rate(bytes[a] * 8n);
      if (p > 0) pps[a] = p;
      if (b > 0) bps[a] = b;
    }
    // no traffic: no rates at all, so an idle report stays the same from one interval to the next
    if (Object.keys(pps).length === 0 && Object.keys(bps).length === 0) return undefined;
    return { packetsPerSecond: pps, bitsPerSecond: bps, seconds: Math.round(seconds * 1000) / 1000 };
  }
}
