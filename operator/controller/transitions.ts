// Which Events a change of the conditions deserves: transitions only, never a pass that changed nothing.
//   Ready flips to True → Normal AllNodesCounting; Ready flips from True to False → Warning with its reason
//   (NodesNotReady, NoNodesSelected; the others are told by Degraded); Degraded takes an error reason it did
//   not have → Warning with that reason and message (an InvalidSpec whose message changes, after a new edit,
//   is told again).
import type { Condition } from "../../api/v1alpha1/index.ts";
import type { OperatorEvent } from "./events.ts";

const READY_LOST_REASONS = new Set(["NodesNotReady", "NoNodesSelected"]);
const DEGRADED_REASONS = new Set([
  "InvalidSpec",
  "DaemonSetConflict",
  "ForeignXdpProgram",
  "InterfaceErrors",
  "NodeErrors",
]);

export function conditionEvents(
  previous: readonly Condition[] | undefined,
  next: readonly Condition[],
): OperatorEvent[] {
  const events: OperatorEvent[] = [];
  const find = (list: readonly Condition[] | undefined, type: string) => list?.find((c) => c.type === type);
  const readyBefore = find(previous, "Ready");
  const ready = find(next, "Ready");
  if (ready && ready.status !== readyBefore?.status) {
    if (ready.status === "True") {
      events.push({ type: "Normal", reason: ready.reason, action: "Reconcile", note: ready.message });
    } else if (readyBefore?.status === "True" && READY_LOST_REASONS.has(ready.reason)) {
      events.push({ type: "Warning", reason: ready.reason, action: "Reconcile", note: ready.message });
    }
  }
  const degradedBefore = find(previous, "Degraded");
  const degraded = find(next, "Degraded");
  if (degraded?.status === "True" && DEGRADED_REASONS.has(degraded.reason)) {
    const appeared = degradedBefore?.status !== "True" || degradedBefore.reason !== degraded.reason;
    const newSpecError = degraded.reason === "InvalidSpec" && degradedBefore?.message !== degraded.message;
    if (appeared || newSpecError) {
      events.push({ type: "Warning", reason: degraded.reason, action: "Reconcile", note: degraded.message });
    }
  }
  return events;
}
