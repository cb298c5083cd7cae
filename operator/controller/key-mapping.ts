// Which XdpCounters an event of a watched object concerns. XdpCounters are cluster-scoped, so a key is a name.
import { API_VERSION, KIND } from "../../api/v1alpha1/index.ts";
import { jsonEqual } from "../status/index.ts";
import type { KubeObject } from "./kube-types.ts";

/** The XdpCounter that controls a DaemonSet (its controller ownerReference), if any. */
export function xdpCounterOfDaemonSet(ds: KubeObject): string | undefined {
  const owner = ds.metadata.ownerReferences?.find(
    (ref) => ref.controller === true && ref.kind === KIND && ref.apiVersion === API_VERSION,
  );
  return owner?.name;
}

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
