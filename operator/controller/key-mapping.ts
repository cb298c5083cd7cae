// Which XdpCounters an event of a watched object concerns. XdpCounters are cluster-scoped, so a key is a name.
import type { KubeObject } from "../../runtime/kube/kube-types.ts";
import { jsonEqual } from "../status/index.ts";

/** The parts of a Node that decide where agents run and which entries stay: labels and taints. */
function placement(node: KubeObject): unknown {
  const spec = (node.spec ?? {}) as { taints?: unknown };
  return { labels: node.metadata.labels ?? {}, taints: spec.taints ?? [] };
}

/**
 * Whether a Node event can change any XdpCounter: additions, deletions, and updates of labels or taints.
 * Heartbeats (status updates every few seconds on real clusters) cannot, and are ignored.
 */
export function nodeChangeMatters(old: KubeObject | undefined, node: KubeObject | undefined): boolean {
  if (!old || !node) return true;
  return !jsonEqual(placement(old), placement(node));
}

/** Every XdpCounter key, for an event that may concern all of them (a Node came, went or changed). */
export function allXdpCounterKeys(xdpCounters: readonly KubeObject[]): string[] {
  return xdpCounters.map((x) => x.metadata.name);
}

/**
 * Whether a report's update can change its XdpCounter's status: anything but the time it was written (an
 * agent writes only when something else changed, so this is rarely false; a resync delivers the same object).
 */
export function reportChangeMatters(old: KubeObject | undefined, report: KubeObject | undefined): boolean {
  if (!old || !report) return true;
  const { reportedAt: _a, metadata: _m, ...a } = old as KubeObject & { reportedAt?: string };
  const { reportedAt: _b, metadata: _n, ...b } = report as KubeObject & { reportedAt?: string };
  return !jsonEqual(a as never, b as never);
}
