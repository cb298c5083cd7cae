// The JSON merge patches that write and remove one node's entry in status.nodes (docs/adr/0001).
// A merge patch merges objects key by key, so a field left out of an entry keeps its old value: the patch
// that writes an entry therefore sends null for every field of the entry that is absent, and so clears an
// old `error` once the node recovers. The same holds one level down: the node's `packets` and `bytes` leave
// out actions that counted 0, so the patch sends null for each absent action, or an earlier non-zero count
// (before the counters were reset) or an earlier "0" would stay. `interfaces` is a list and is replaced
// whole anyway.
import { type ActionCounters, XDP_ACTIONS } from "./counters.ts";
import { type NodeStatus, nodeStatus } from "./status.ts";

export type NodeEntryPatch = { status: { nodes: Record<string, Record<string, unknown> | null> } };

const entryFields = Object.keys(nodeStatus.shape) as (keyof NodeStatus)[];

/** Every action: its count, or null to remove what an earlier write left there. */
function counterPatch(counters: ActionCounters): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const action of XDP_ACTIONS) out[action] = counters[action] ?? null;
  return out;
}

/** The patch by which the agent on `nodeName` replaces its whole entry, and nothing else. */
export function nodeEntryPatch(nodeName: string, entry: NodeStatus): NodeEntryPatch {
  const parsed = nodeStatus.parse(entry);
  const body: Record<string, unknown> = {};
  for (const field of entryFields) body[field] = parsed[field] ?? null;
  body.packets = counterPatch(parsed.packets);
  body.bytes = counterPatch(parsed.bytes);
  return { status: { nodes: { [nodeName]: body } } };
}

/** The patch that removes `nodeName`'s entry. */
export function removeNodeEntryPatch(nodeName: string): NodeEntryPatch {
  return { status: { nodes: { [nodeName]: null } } };
}
