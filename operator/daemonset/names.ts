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
/**
 * On the cleanup DaemonSet and its pods only (value CLEANUP_ROLE): the DaemonSet that keeps a clean-mode agent
 * on nodes the XdpCounter no longer selects (docs/adr/0012). The counting DaemonSet carries no such label, so
 * its selector and template stay as they were.
 */
export const ROLE_LABEL = "xdpcounter.dev/role";
export const CLEANUP_ROLE = "cleanup";
export const CLEANUP_SUFFIX = "-cleanup";

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

/**
 * The cleanup DaemonSet's name: the counting DaemonSet's with `-cleanup`, bounded like it (a long name keeps
 * the suffix, cut before it and hashed). An XdpCounter named `<name>-cleanup` would want the same name for its
 * counting DaemonSet; whichever comes second sees a DaemonSet it does not own and reports DaemonSetConflict.
 */
export function cleanupDaemonSetName(xdpCounterName: string): string {
  const full = `${DAEMONSET_PREFIX}${xdpCounterName}${CLEANUP_SUFFIX}`;
  if (full.length <= MAX_NAME_LENGTH) return full;
  return `${boundedName(full, MAX_NAME_LENGTH - CLEANUP_SUFFIX.length)}${CLEANUP_SUFFIX}`;
}

/** The labels that select an XdpCounter's agent pods; stable across versions so upgrades don't restart agents. */
export function selectorLabels(xdpCounterName: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": APP_NAME,
    "app.kubernetes.io/component": AGENT_COMPONENT,
    [XDPCOUNTER_LABEL]: boundedName(xdpCounterName),
  };
}

/** The labels that select an XdpCounter's cleanup agent pods: the agent's, plus the cleanup role. */
export function cleanupSelectorLabels(xdpCounterName: string): Record<string, string> {
  return { ...selectorLabels(xdpCounterName), [ROLE_LABEL]: CLEANUP_ROLE };
}
