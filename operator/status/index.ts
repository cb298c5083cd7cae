export {
  DAEMONSET_TOLERATIONS,
  isSelected,
  isTolerated,
  matchesSelector,
  type NodeInfo,
  selectedNodeNames,
  type Taint,
  tolerates,
} from "../../api/v1alpha1/node-selection.ts";
export {
  type AgentPod,
  agentPodChangeMatters,
  agentPodState,
  ownerDaemonSet,
  readyAgentNodes,
  slimAgentPod,
} from "./agent-pods.ts";
export {
  type AggregatedReports,
  aggregateReports,
  type InterfaceProblem,
  MAX_INTERFACES_SUMMARY,
  type NodeProblem,
  type ReportsInfo,
  summarizeInterfaces,
} from "./aggregate-reports.ts";
export { ConditionReason, computeConditions, listSome, type Observations } from "./conditions.ts";
export { applyMergePatch, diffMergePatch, type Json, type JsonObject, jsonEqual } from "./merge-patch.ts";
export {
  OPERATOR_STATUS_FIELDS,
  type OperatorStatus,
  type OperatorStatusField,
  type StatusPatch,
  statusPatch,
  toOperatorStatus,
} from "./status-patch.ts";
