// Names and labels of the one agent DaemonSet (docs/adr/0021) and of the node label that places its pods.
import { GROUP } from "../../api/v1alpha1/index.ts";

export const APP_NAME = "xdp-counter";
export const AGENT_COMPONENT = "agent";
/**
 * The node label the operator keeps on every node that some XdpCounter selects, or that still holds a report
 * (its agent is cleaning up); the agent DaemonSet's nodeSelector.
 */
export const AGENT_NODE_LABEL = `${GROUP}/agent`;
export const AGENT_NODE_LABEL_VALUE = "true";

/** The labels that select the agent pods; stable across versions so upgrades don't restart agents. */
export function selectorLabels(): Record<string, string> {
  return { "app.kubernetes.io/name": APP_NAME, "app.kubernetes.io/component": AGENT_COMPONENT };
}
