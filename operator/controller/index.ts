// The operator's controller: API client, informers, work queue, reconcile, metrics.
export { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from "./backoff.ts";
export { Controller, type ControllerOptions } from "./controller.ts";
export { DESIRED_HASH_ANNOTATION, desiredHash, isUpToDate, withDesiredHash } from "./desired-daemonset.ts";
export { ControllerError, ControllerErrorCode, errorMessage, isStatus } from "./errors.ts";
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
export { HttpKubeClient, loadKubeConfig } from "./http-client.ts";
export {
  Informer,
  type InformerEvent,
  type InformerEventName,
  type InformerHandlers,
  type InformerOptions,
} from "./informer.ts";
export { allXdpCounterKeys, nodeChangeMatters, xdpCounterOfDaemonSet } from "./key-mapping.ts";
export type {
  KubeClient,
  KubeObject,
  ListResult,
  ObjectMeta,
  PatchType,
  Query,
  WatchEvent,
} from "./kube-types.ts";
export { type LeaderElectionOptions, LeaderElector } from "./leader-election.ts";
export { createMetrics, type OperatorMetrics } from "./metrics.ts";
export {
  OPERATOR_CLUSTER_RULES,
  OPERATOR_EVENTS_NAMESPACE,
  OPERATOR_EVENTS_RULES,
  OPERATOR_NAMESPACE_RULES,
  type PolicyRule,
} from "./rbac.ts";
export {
  type ReconcileDeps,
  ReconcileOutcome,
  type ReconcileResult,
  reconcile,
  toNodeInfo,
} from "./reconcile.ts";
export { FIELD_MANAGER, kubeWriter, type ReconcileReader, type ReconcileWriter } from "./reconcile-api.ts";
export { daemonSetsPath, eventsPath, leasesPath, nodesPath, xdpCountersPath } from "./resources.ts";
export { WorkQueue, type WorkQueueOptions } from "./workqueue.ts";
