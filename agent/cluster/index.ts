// The in-cluster agent (`xdp-counter agent`): one per node for every XdpCounter (docs/adr/0021): specs from the
// agents' ConfigMap, counters by XdpCounter, one report per XdpCounter, metrics.
export { jitteredInterval, reportBackoff, shouldReport } from "./backoff.ts";
export { type CounterSource, CounterUnit, type ReportSink } from "./counter-unit.ts";
export { AgentError, AgentErrorCode } from "./errors.ts";
export { AgentExit, runAgent, USER_AGENT } from "./main.ts";
export { type AgentHealth, emptyHealth, renderMetrics, type UnitMetrics } from "./metrics.ts";
export {
  AGENT_FIELD_MANAGER,
  DEFAULT_POLL_MS,
  NodeAgent,
  type NodeAgentOptions,
  specsConfigMapName,
} from "./node-agent.ts";
export { AGENT_HELP, DEFAULT_AGENT_PORT, parseAgentFlags } from "./options.ts";
export { AGENT_RBAC_RULES, agentNamespaceRules, agentReportPolicy, NODE_NAME_CLAIM } from "./rbac.ts";
export { dropRefusal, InterfaceReason, type InterfaceState, Reconciler } from "./reconciler.ts";
export {
  buildReport,
  changeKey,
  interfaceTotals,
  nodeTotals,
  RateMeter,
  type ReportBody,
  reportObject,
} from "./report.ts";
export { type NodeFacts, nodeFacts } from "./selection.ts";
