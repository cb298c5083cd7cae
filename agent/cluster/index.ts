// The in-cluster agent (`xdp-counter agent`): reconcile, report, metrics, clean mode.
export { Agent, type AgentOptions, type CounterSource, DEFAULT_POLL_MS } from "./agent.ts";
export { backoffDelay, jitteredInterval, shouldReport } from "./backoff.ts";
export {
  AGENT_FIELD_MANAGER,
  AGENT_RBAC_RULES,
  type ClusterApi,
  kubeClusterApi,
  MERGE_PATCH,
  xdpCounterPath,
} from "./cluster-api.ts";
export { AgentError, AgentErrorCode } from "./errors.ts";
export { KubeClient } from "./kube-client.ts";
export { AgentExit, runAgent } from "./main.ts";
export { type AgentHealth, renderMetrics } from "./metrics.ts";
export { buildNodeEntry, changeKey } from "./node-entry.ts";
export { AGENT_HELP, DEFAULT_AGENT_PORT, parseAgentFlags } from "./options.ts";
export { removeOrphans } from "./orphans.ts";
export { dropRefusal, InterfaceReason, type InterfaceState, Reconciler } from "./reconciler.ts";
