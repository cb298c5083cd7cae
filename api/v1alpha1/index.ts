// The XdpCounter API, version v1alpha1: the zod schema, the types inferred from it, the agent
// configuration, u64 and duration helpers, and the CRD built from the schema.
export {
  AGENT_CONFIG_ENV,
  AGENT_MODES,
  type AgentConfig,
  type AgentMode,
  agentConfig,
  NODE_NAME_ENV,
  nodeMatchesSelector,
  parseAgentConfig,
  type RenderedAgentConfig,
  renderAgentConfig,
  renderedAgentConfig,
  serializeAgentConfig,
} from "./agent-config.ts";
export {
  AGENT_SPECS_SUFFIX,
  assertNoSpecErrors,
  type ParsedAgentSpecs,
  parseAgentSpecs,
  renderAgentSpecs,
} from "./agent-specs.ts";
export { celString } from "./cel.ts";
export {
  CONDITION_STATUSES,
  CONDITION_TYPES,
  type Condition,
  type ConditionStatus,
  type ConditionType,
  condition,
} from "./condition.ts";
export {
  type ActionCounters,
  type ActionTotals,
  addCounters,
  byteCounters,
  type CompleteActionCounters,
  completeByteCounters,
  completePacketCounters,
  counterOf,
  formatCounters,
  formatNonZeroCounters,
  packetCounters,
  parseCounters,
  XDP_ACTIONS,
  type XdpAction,
  zeroCounters,
  zeroTotals,
} from "./counters.ts";
export {
  buildCrd,
  buildReportCrd,
  openApiSchema,
  PRINTER_COLUMNS,
  REPORT_PRINTER_COLUMNS,
  reportOpenApiSchema,
} from "./crd.ts";
export { CRD_PATH, REPORT_CRD_PATH } from "./crd-path.ts";
export {
  DEFAULT_REPORT_INTERVAL,
  DURATION_PATTERN,
  formatDuration,
  MAX_REPORT_INTERVAL_MS,
  MIN_REPORT_INTERVAL_MS,
  parseDuration,
  REPORT_INTERVAL_CEL,
} from "./duration.ts";
export { ApiError, ApiErrorCode } from "./errors.ts";
export {
  API_VERSION,
  CATEGORIES,
  CRD_NAME,
  GROUP,
  KIND,
  LIST_KIND,
  MAX_XDPCOUNTER_NAME,
  PLURAL,
  REPORT_CRD_NAME,
  REPORT_KIND,
  REPORT_LIST_KIND,
  REPORT_PLURAL,
  REPORT_SHORT_NAMES,
  REPORT_SINGULAR,
  SHORT_NAMES,
  SINGULAR,
  VERSION,
  XDPCOUNTER_LABEL,
} from "./group.ts";
export {
  BACKWARD_RANGE_CEL,
  backwardRange,
  GLOB_SETS_PATTERN,
  hasWellFormedSets,
  INTERFACE_PATTERN,
  interfacePattern,
  MAX_INTERFACES,
  SET_CHARACTERS,
} from "./interface-name.ts";
export {
  isLabelKey,
  isLabelValue,
  LABEL_KEY_PATTERN,
  LABEL_VALUE_PATTERN,
  labelKey,
  labelValue,
} from "./label.ts";
export {
  countsOn,
  DAEMONSET_TOLERATIONS,
  isSelected,
  isTolerated,
  matchesSelector,
  type NodeInfo,
  selectedNodeNames,
  type Taint,
  tolerates,
  toleratesNoExecute,
} from "./node-selection.ts";
export {
  REPORT_PHASES,
  type ReportPhase,
  type ReportRates,
  reportName,
  reportRates,
  type XdpCounterReport,
  type XdpCounterReportInput,
  xdpCounterReport,
  xdpCounterReportBody,
} from "./report.ts";
export {
  ACTIONS,
  type Action,
  ATTACH_MODES,
  type AttachMode,
  type XdpCounterSpec,
  type XdpCounterSpecInput,
  xdpCounterSpec,
} from "./spec.ts";
export {
  ATTACHED_MODES,
  type AttachFallback,
  attachFallback,
  type ClusterRates,
  clusterRates,
  FALLBACK_REASONS,
  type InterfaceStatus,
  interfaceStatus,
  type Totals,
  totals,
  type XdpCounterStatus,
  xdpCounterStatus,
} from "./status.ts";
export { type JsonSchema, structuralSchema } from "./structural-schema.ts";
export { type Toleration, toleration } from "./toleration.ts";
export {
  formatU64,
  isU64String,
  parseU64,
  U64_MAX,
  U64_MAX_CEL,
  U64_MAX_STRING,
  U64_PATTERN,
  u64String,
} from "./u64.ts";
export { objectMeta, type XdpCounter, type XdpCounterInput, xdpCounter } from "./xdpcounter.ts";
