// The JSON merge patches that write and remove one node's entry in status.nodes (docs/adr/0001).
// A merge patch merges objects key by key, so a field left out of an entry keeps its old value: the patch
// that writes an entry therefore sends null for every field of the entry that is absent, and so clears an
// old `error` once the node recovers. `interfaces` is a list and is replaced whole anyway.
import { type NodeStatus, nodeStatus } from "./status.ts";

export type NodeEntryPatch = { status: { nodes: Record<string, Record<string, unknown> | null> } };

const entryFields = Object.keys(nodeStatus.shape) as (keyof NodeStatus)[];

/** The patch by which the agent on `nodeName` replaces its whole entry, and nothing else. */
export function nodeEntryPatch(nodeName: string, entry: NodeStatus): NodeEntryPatch {
  const parsed = nodeStatus.parse(entry);
  const body: Record<string, unknown> = {};
  for (const field of entryFields) body[field] = parsed[field] ?? null;
  return { status: { nodes: { [nodeName]: body } } };
}

/** The patch that removes `nodeName`'s entry. */
export function removeNodeEntryPatch(nodeName: string): NodeEntryPatch {
  return { status: { nodes: { [nodeName]: null } } };
}
