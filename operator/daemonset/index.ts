export {
  AGENT_COMPONENT,
  AGENT_NODE_LABEL,
  AGENT_NODE_LABEL_VALUE,
  APP_NAME,
  selectorLabels,
} from "./names.ts";
export {
  AGENT_CAPABILITIES,
  AGENT_CONTAINER,
  AGENT_NODE_OPTIONS,
  AGENT_SECURITY_CONTEXT,
  BPFFS_PATH,
  type Owner,
  type RenderConfig,
  renderAgentDaemonSet,
} from "./render-daemonset.ts";
export type { Container, DaemonSet, EnvVar, OwnerReference, Probe } from "./types.ts";
