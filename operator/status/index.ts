export {
  type AgentPod,
  agentPodChangeMatters,
  agentPodState,
  ownerDaemonSet,
  readyAgentNodes,
  slimAgentPod,
} from "./agent-pods.ts";
export {
  type AggregatedStatus,
  aggregateStatus,
  type InterfaceProblem,
  MAX_INTERFACES_SUMMARY,
  type NodeProblem,
  type NodesInfo,
  summarizeInterfaces,
} from "./aggregate-status.ts";
export { ConditionReason, computeConditions, listSome, type Observations } from "./conditions.ts";
export { applyMergePatch, diffMergePatch, type Json, type JsonObject, jsonEqual } from "./merge-patch.ts";
export {
  DAEMONSET_TOLERATIONS,
  isSelected,
  isTolerated,
  matchesSelector,
  type NodeInfo,
  retainedNodeNames,
  selectedNodeNames,
  type Taint,
  tolerates,
} from "./node-selection.ts";
export {
  OPERATOR_STATUS_FIELDS,
  type OperatorStatus,
  type OperatorStatusField,
  type StatusPatch,
  statusPatch,
  toOperatorStatus,
} from "./status-patch.ts";
