export {
  AGENT_COMPONENT,
  APP_NAME,
  boundedName,
  CLEANUP_ROLE,
  CLEANUP_SUFFIX,
  cleanupDaemonSetName,
  cleanupSelectorLabels,
  DAEMONSET_PREFIX,
  daemonSetName,
  MAX_NAME_LENGTH,
  ROLE_LABEL,
  selectorLabels,
  XDPCOUNTER_LABEL,
} from "./names.ts";
export {
  AGENT_CAPABILITIES,
  AGENT_CONTAINER,
  AGENT_NODE_OPTIONS,
  AGENT_SECURITY_CONTEXT,
  BPFFS_PATH,
  HOST_SYS_MOUNT,
  type RenderConfig,
  renderCleanupDaemonSet,
  renderDaemonSet,
} from "./render-daemonset.ts";
export type { Container, DaemonSet, EnvVar, OwnerReference, Probe } from "./types.ts";
