export {
  AGENT_COMPONENT,
  APP_NAME,
  boundedName,
  DAEMONSET_PREFIX,
  daemonSetName,
  MAX_NAME_LENGTH,
  selectorLabels,
  XDPCOUNTER_LABEL,
} from "./names.ts";
export {
  AGENT_CONTAINER,
  AGENT_NODE_OPTIONS,
  BPFFS_PATH,
  HOST_SYS_MOUNT,
  type RenderConfig,
  renderDaemonSet,
} from "./render-daemonset.ts";
export type { Container, DaemonSet, EnvVar, OwnerReference, Probe } from "./types.ts";
