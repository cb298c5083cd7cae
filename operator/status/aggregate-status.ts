// What the operator concludes from the node entries the agents wrote: exact cluster totals, how many nodes
// should and do count, a one-line interface summary, the problems to show as conditions, and which node
// entries to remove because their node is gone or no longer selected.
import {
  addCounters,
  formatCounters,
  type Totals,
  U64_MAX,
  XDP_ACTIONS,
  type XdpCounter,
  zeroTotals,
} from "../../api/v1alpha1/index.ts";
import { type NodeInfo, retainedNodeNames, selectedNodeNames } from "./node-selection.ts";

export const MAX_INTERFACES_SUMMARY = 256;

export type NodesInfo = {
  nodes: readonly NodeInfo[];
  /** Nodes where this XdpCounter's agent pod is Ready (readyAgentNodes in agent-pods.ts). */
  readyAgents: ReadonlySet<string>;
};
export type NodeProblem = { node: string; message: string };
export type InterfaceProblem = { node: string; interface: string; reason: string; message: string };

export type AggregatedStatus = {
  totals: Totals;
  desiredNodes: number;
  readyNodes: number;
  interfaces?: string;
  /** Keys of status.nodes to remove with a null in the merge patch. */
  staleNodes: string[];
  /** Deselected nodes whose agent is still cleaning up: entries kept, not counted (docs/adr/0012). */
  cleaningNodes: string[];
  /** Selected nodes that are not ready (no Counting entry, or no Ready agent pod), sorted. */
  notReadyNodes: string[];
  nodeErrors: NodeProblem[];
  interfaceErrors: InterfaceProblem[];
};

export function aggregateStatus(xdpc: XdpCounter, info: NodesInfo): AggregatedStatus {
  const entries = xdpc.status?.nodes ?? {};
  const existing = new Set(info.nodes.map((node) => node.name));
  const selected = selectedNodeNames(xdpc.spec, info.nodes);
  const deleting = Boolean(xdpc.metadata.deletionTimestamp);
  const retained = new Set(retainedNodeNames(xdpc.spec, entries, info.nodes));
  // Ready: the agent says Counting, and its pod is Ready (alive, and its last reconcile attached what it
  // could). Entries carry no heartbeat; a dead agent or node shows in its pod, not in the entry's age.
  const isReady = (node: string) => entries[node]?.phase === "Counting" && info.readyAgents.has(node);

  const packets = zeroTotals();
  const bytes = zeroTotals();
  const staleNodes: string[] = [];
  const nodeErrors: NodeProblem[] = [];
  const interfaceErrors: InterfaceProblem[] = [];
  const attached = new Map<string, number>();
  let readyNodes = 0;

  for (const [node, entry] of Object.entries(entries).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    // While cleaning up, an entry is kept until its node is gone: the finalizer waits on it. A deselected
    // node's entry is kept until it is Clean (its agent runs on there in clean mode), then removed.
    const stale = deleting ? !existing.has(node) : !selected.has(node) && !retained.has(node);
    if (stale) {
      staleNodes.push(node);
      continue;
    }
    if (!deleting && retained.has(node)) continue;
    addCounters(packets, entry.packets);
    addCounters(bytes, entry.bytes);
    if (selected.has(node) && isReady(node)) readyNodes++;
    if (entry.phase === "Error")
      nodeErrors.push({ node, message: entry.error ?? "the agent reports an error" });
    for (const iface of entry.interfaces) {
      if (iface.attached) {
        const why = iface.fallback ? `(${iface.fallback.reason})` : "";
        const key = `${iface.name}/${iface.mode || "unknown"}${why}`;
        attached.set(key, (attached.get(key) ?? 0) + 1);
      }
      if (iface.error || iface.reason) {
        interfaceErrors.push({
          node,
          interface: iface.name,
          reason: iface.reason ?? "InterfaceError",
          message: iface.error ?? iface.reason ?? "",
        });
      }
    }
  }

  const notReadyNodes = [...selected].filter((node) => !isReady(node)).sort();

  const result: AggregatedStatus = {
    totals: { packets: formatCounters(saturate(packets)), bytes: formatCounters(saturate(bytes)) },
    desiredNodes: selected.size,
    readyNodes,
    staleNodes,
    cleaningNodes: [...retained],
    notReadyNodes,
    nodeErrors,
    interfaceErrors,
  };
  const summary = summarizeInterfaces(attached);
  if (summary) result.interfaces = summary;
  return result;
}

/** Cluster sums can exceed what one u64 holds only with thousands of nodes near 2^64; they stop there. */
function saturate(totals: ReturnType<typeof zeroTotals>): ReturnType<typeof zeroTotals> {
  for (const action of XDP_ACTIONS) if (totals[action] > U64_MAX) totals[action] = U64_MAX;
  return totals;
}

/**
 * `eth0/native=12, ens5/generic(NativeMtuTooLarge)=3`: most common first, cut to fit the wide column's
 * bound. The reason after a generic mode is why `auto` fell back there.
 */
export function summarizeInterfaces(attached: ReadonlyMap<string, number>): string | undefined {
  const parts = [...attached]
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, count]) => `${key}=${count}`);
  if (parts.length === 0) return undefined;
  let text = "";
  for (let i = 0; i < parts.length; i++) {
    const next = text ? `${text}, ${parts[i]}` : (parts[i] as string);
    const more = parts.length - i - 1;
    const reserve = more > 0 ? `, +${more} more`.length : 0;
    if (next.length + reserve > MAX_INTERFACES_SUMMARY) {
      return text ? `${text}, +${parts.length - i} more` : `+${parts.length} interfaces`;
    }
    text = next;
  }
  return text;
}
