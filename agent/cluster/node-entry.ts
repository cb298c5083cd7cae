// The node's entry in status.nodes (docs/adr/0001), built from the interface states, and the key that tells
// whether it changed since the last write. Counters leave out the actions that counted 0, for the node and
// for each interface; nodeEntryPatch sends null for them, so an earlier value does not stay behind.
import {
  type ActionTotals,
  formatNonZeroCounters,
  type InterfaceStatus,
  type NodePhase,
  type NodeStatus,
  XDP_ACTIONS,
  zeroTotals,
} from "../../api/v1alpha1/index.ts";
import type { Counters } from "../bpf/index.ts";
import type { InterfaceState } from "./reconciler.ts";

export const MAX_ENTRY_INTERFACES = 64;
const MAX_ERROR = 1024;
const MAX_FALLBACK = 512;

const cut = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

function totals(counters: Counters | undefined, what: "packets" | "bytes"): ActionTotals {
  const out = zeroTotals();
  if (counters) for (const a of XDP_ACTIONS) out[a] = counters[a][what];
  return out;
}

export function buildNodeEntry(opts: {
  states: readonly InterfaceState[];
  generation: number;
  now: Date;
  /** Cleaning or Clean in clean mode; else Counting or Error, derived */
  phase?: NodePhase;
  nodeProblem?: string | undefined;
}): NodeStatus {
  const states = opts.states.slice(0, MAX_ENTRY_INTERFACES);
  const packets = zeroTotals();
  const bytes = zeroTotals();
  const interfaces: InterfaceStatus[] = states.map((s) => {
    const p = totals(s.counters, "packets");
    const b = totals(s.counters, "bytes");
    for (const a of XDP_ACTIONS) {
      packets[a] += p[a];
      bytes[a] += b[a];
    }
    const entry: InterfaceStatus = {
      name: s.name,
      mode: s.attached ? s.mode : "",
      attached: s.attached,
      packets: formatNonZeroCounters(p),
      bytes: formatNonZeroCounters(b),
    };
    if (s.problem) {
      entry.reason = s.problem.reason;
      entry.error = cut(s.problem.error, MAX_ERROR);
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
  const entry: NodeStatus = {
    phase,
    reportedAt: opts.now.toISOString(),
    generation: opts.generation,
    interfaces,
    packets: formatNonZeroCounters(clamp(packets)),
    bytes: formatNonZeroCounters(clamp(bytes)),
  };
  if (error) entry.error = error;
  return entry;
}

const U64_MAX = (1n << 64n) - 1n;
/** A node total above 2^64−1 stops there rather than failing the write (docs/adr/0003). */
function clamp(t: ActionTotals): ActionTotals {
  for (const a of XDP_ACTIONS) if (t[a] > U64_MAX) t[a] = U64_MAX;
  return t;
}

/** Everything but the time: two entries with the same key need not both be written. */
export function changeKey(entry: NodeStatus): string {
  const { reportedAt: _, ...rest } = entry;
  return JSON.stringify(rest);
}
