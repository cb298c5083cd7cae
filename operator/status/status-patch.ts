// The operator's status write: a JSON merge patch on /status touching only the fields the operator owns
// (docs/adr/0001), plus nulls that remove stale node entries, or null when nothing would change, so the
// operator writes only when something did.
import type { Condition, XdpCounterStatus } from "../../api/v1alpha1/index.ts";
import type { AggregatedStatus } from "./aggregate-status.ts";
import { diffMergePatch, type JsonObject } from "./merge-patch.ts";

export const OPERATOR_STATUS_FIELDS = [
  "observedGeneration",
  "totals",
  "desiredNodes",
  "readyNodes",
  "interfaces",
  "conditions",
] as const;
export type OperatorStatusField = (typeof OPERATOR_STATUS_FIELDS)[number];

/** What the operator wants its fields to be; `interfaces` absent means remove it. */
export type OperatorStatus = Pick<XdpCounterStatus, OperatorStatusField> & { staleNodes?: readonly string[] };
export type StatusPatch = { status: JsonObject };

function owned(status: Partial<XdpCounterStatus> | undefined): JsonObject {
  const out: JsonObject = {};
  for (const field of OPERATOR_STATUS_FIELDS) {
    const value = status?.[field];
    if (value !== undefined) out[field] = value as JsonObject[string];
  }
  return out;
}

export function statusPatch(prev: XdpCounterStatus | undefined, next: OperatorStatus): StatusPatch | null {
  const patch = diffMergePatch(owned(prev), owned(next)) ?? {};
  const present = prev?.nodes ?? {};
  const removals: JsonObject = {};
  for (const node of next.staleNodes ?? []) if (node in present) removals[node] = null;
  if (Object.keys(removals).length > 0) patch.nodes = removals;
  return Object.keys(patch).length > 0 ? { status: patch } : null;
}

/** The operator's fields from an aggregate and the conditions computed for it. */
export function toOperatorStatus(
  aggregate: Pick<AggregatedStatus, "totals" | "desiredNodes" | "readyNodes" | "interfaces" | "staleNodes">,
  conditions: Condition[],
  generation: number,
): OperatorStatus {
  const status: OperatorStatus = {
    observedGeneration: generation,
    totals: aggregate.totals,
    desiredNodes: aggregate.desiredNodes,
    readyNodes: aggregate.readyNodes,
    conditions,
    staleNodes: aggregate.staleNodes,
  };
  if (aggregate.interfaces !== undefined) status.interfaces = aggregate.interfaces;
  return status;
}
