// Names and labels of an XdpCounter's agent DaemonSet. XdpCounter names may be DNS subdomains of up to 253
// characters, but a label value holds at most 63, and so does the DaemonSet name we choose (pods add a
// suffix to it): a name that does not fit is cut and ends in a hash of the whole name, so two long names
// that share a prefix still get different DaemonSets.
import { createHash } from "node:crypto";

export const MAX_NAME_LENGTH = 63;
export const DAEMONSET_PREFIX = "xdp-counter-";
export const XDPCOUNTER_LABEL = "xdpcounter.dev/xdpcounter";
export const APP_NAME = "xdp-counter";
export const AGENT_COMPONENT = "agent";

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 8);
}

/** `text` if it fits in `max` characters, else its start, a dash and a hash of all of it. */
export function boundedName(text: string, max = MAX_NAME_LENGTH): string {
  if (text.length <= max) return text;
  const hash = shortHash(text);
  const head = text.slice(0, max - hash.length - 1).replace(/[-.]+$/, "");
  return `${head}-${hash}`;
}

export function daemonSetName(xdpCounterName: string): string {
  return boundedName(`${DAEMONSET_PREFIX}${xdpCounterName}`);
}

/** The labels that select an XdpCounter's agent pods; stable across versions so upgrades don't restart agents. */
export function selectorLabels(xdpCounterName: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": APP_NAME,
    "app.kubernetes.io/component": AGENT_COMPONENT,
    [XDPCOUNTER_LABEL]: boundedName(xdpCounterName),
  };
}
