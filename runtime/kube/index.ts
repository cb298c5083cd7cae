// The project's one Kubernetes layer, used by the operator and the agent alike: a client of the API server
// (list, watch, get, create, replace, patch, delete over one kept-alive HTTPS connection), informers that keep
// a cache of one resource up to date, a rate-limited work queue, leader election on a Lease, one back-off,
// and the API paths of the resources the project uses.
export { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from "./backoff.ts";
export { HttpKubeClient, loadKubeConfig } from "./client.ts";
export {
  Informer,
  type InformerEvent,
  type InformerEventName,
  type InformerHandlers,
  type InformerOptions,
  informerEventLevel,
} from "./informer.ts";
export {
  type DeleteOptions,
  type KubeClient,
  type KubeObject,
  type ListResult,
  type ObjectMeta,
  type OwnerRef,
  objectKey,
  type PatchType,
  type Query,
  type WatchEvent,
} from "./kube-types.ts";
export { type LeaderElectionOptions, LeaderElector } from "./leader-election.ts";
export {
  configMapsPath,
  daemonSetsPath,
  deploymentsPath,
  eventsPath,
  leasesPath,
  nodesPath,
  podsPath,
  reportsPath,
  xdpCountersPath,
} from "./paths.ts";
export { WorkQueue, type WorkQueueOptions } from "./workqueue.ts";
