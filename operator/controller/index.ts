// The operator's controller: reconcile, events, metrics and RBAC, on the Kubernetes layer of runtime/kube.
export { Controller, type ControllerOptions } from "./controller.ts";
export { DESIRED_HASH_ANNOTATION, desiredHash, isUpToDate, withDesiredHash } from "./desired-daemonset.ts";
export {
  EVENTS_NAMESPACE,
  EventRecorder,
  type EventRecorderOptions,
  type EventRegarding,
  type EventSink,
  type EventType,
  type OperatorEvent,
  REPORTING_CONTROLLER,
} from "./events.ts";
export { allXdpCounterKeys, nodeChangeMatters, reportChangeMatters } from "./key-mapping.ts";
export { createMetrics, type OperatorMetrics } from "./metrics.ts";
export {
  OPERATOR_CLUSTER_RULES,
  OPERATOR_EVENTS_NAMESPACE,
  OPERATOR_EVENTS_RULES,
  OPERATOR_NAMESPACE_RULES,
  type PolicyRule,
} from "./rbac.ts";
export {
  AGENTS_KEY,
  type ReconcileDeps,
  ReconcileOutcome,
  type ReconcileResult,
  reconcile,
  toNodeInfo,
} from "./reconcile.ts";
export { FIELD_MANAGER, kubeWriter, type ReconcileReader, type ReconcileWriter } from "./reconcile-api.ts";
