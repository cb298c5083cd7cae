// The local cluster: the test API server, simulated nodes and the local controllers that run their pods.
export {
  type Cluster,
  type ClusterOptions,
  type CommandResult,
  type NodeSpec,
  type PodInfo,
  type SimNode,
  startCluster,
} from "./cluster.ts";
export type { LinkStats } from "./network.ts";
export { until } from "./wait.ts";
export { KUBELET_FINALIZER, type Taint } from "./workloads.ts";
