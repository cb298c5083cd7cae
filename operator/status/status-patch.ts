// The operator's status write: a JSON merge patch on /status of the fields the operator owns (all of them:
// agents write reports, not status, docs/adr/0022), or null when nothing would change, so the operator writes
// only when something did.
import type { Condition, XdpCounterStatus } from "../../api/v1alpha1/index.ts";
import type { AggregatedReports } from "./aggregate-reports.ts";
import { diffMergePatch, type JsonObject } from "./merge-patch.ts";

export const OPERATOR_STATUS_FIELDS = [
  "observedGeneration",
  "totals",
  "rates",
  "desiredNodes",
  "reportingNodes",
  "readyNodes",
  "interfaces",
  "conditions",
] as const;
export type OperatorStatusField = (typeof OPERATOR_STATUS_FIELDS)[number];

/** What the operator wants its fields to be; `interfaces` absent means remove it. */
export type OperatorStatus = Pick<XdpCounterStatus, OperatorStatusField>;
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
  return Object.keys(patch).length > 0 ? { status: patch } : null;
}

/** The operator's fields from an aggregate and the conditions computed for it. */
export function toOperatorStatus(
  aggregate: Pick<
    AggregatedReports,
    "totals" | "rates" | "desiredNodes" | "reportingNodes" | "readyNodes" | "interfaces"
  >,
  conditions: Condition[],
  generation: number,
): OperatorStatus {
  const status: OperatorStatus = {
    observedGeneration: generation,
    totals: aggregate.totals,
    rates: aggregate.rates,
    desiredNodes: aggregate.desiredNodes,
    reportingNodes: aggregate.reportingNodes,
    readyNodes: aggregate.readyNodes,
    conditions,
  };
  if (aggregate.interfaces !== undefined) status.interfaces = aggregate.interfaces;
  return status;
}
