// Which nodes an XdpCounter counts on, with a DaemonSet's rules: a node is taken on when its labels match
// spec.nodeSelector and its NoSchedule and NoExecute taints are all tolerated (by the spec's tolerations or by
// those the DaemonSet controller adds to every daemon pod); it is kept while the labels match and its NoExecute
// taints are tolerated. A NoSchedule taint added later (a node going NotReady gets one) never stops counting
// that has begun, as it never evicts a daemon pod. The operator places and counts the agents by these rules,
// and each agent decides by them which XdpCounters it counts for (docs/adr/0021), so the two never disagree.
import type { XdpCounterSpec } from "./spec.ts";
import type { Toleration } from "./toleration.ts";

export type Taint = { key: string; value?: string; effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute" };

/** What the operator knows of a Node object. */
export type NodeInfo = { name: string; labels?: Record<string, string>; taints?: Taint[] };

/** The tolerations the DaemonSet controller adds to every daemon pod (hostNetwork ones included). */
export const DAEMONSET_TOLERATIONS: readonly Toleration[] = [
  { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/pid-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/network-unavailable", operator: "Exists", effect: "NoSchedule" },
];

/** The matching rule of core/v1 Toleration.ToleratesTaint. */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (!toleration.key) return toleration.operator === "Exists";
  if (toleration.key !== taint.key) return false;
  if (toleration.operator === "Exists") return true;
  return (toleration.value ?? "") === (taint.value ?? "");
}

/** The node's labels match spec.nodeSelector (every key, exact value). */
export function matchesSelector(spec: Pick<XdpCounterSpec, "nodeSelector">, node: NodeInfo): boolean {
  for (const [key, value] of Object.entries(spec.nodeSelector ?? {})) {
    if (node.labels?.[key] !== value) return false;
  }
  return true;
}

export function isSelected(
  spec: Pick<XdpCounterSpec, "nodeSelector" | "tolerations">,
  node: NodeInfo,
): boolean {
  return matchesSelector(spec, node) && isTolerated(spec, node);
}

/** Every NoSchedule/NoExecute taint of the node is tolerated: a daemon pod can start there. */
export function isTolerated(spec: Pick<XdpCounterSpec, "tolerations">, node: NodeInfo): boolean {
  return untolerated(spec, node, ["NoSchedule", "NoExecute"]) === undefined;
}

/** Every NoExecute taint of the node is tolerated: a daemon pod that runs there stays. */
export function toleratesNoExecute(spec: Pick<XdpCounterSpec, "tolerations">, node: NodeInfo): boolean {
  return untolerated(spec, node, ["NoExecute"]) === undefined;
}

function untolerated(
  spec: Pick<XdpCounterSpec, "tolerations">,
  node: NodeInfo,
  effects: readonly Taint["effect"][],
): Taint | undefined {
  const tolerations = [...(spec.tolerations ?? []), ...DAEMONSET_TOLERATIONS];
  return (node.taints ?? []).find(
    (taint) => effects.includes(taint.effect) && !tolerations.some((t) => tolerates(t, taint)),
  );
}

/**
 * Whether the XdpCounter counts on the node: taken on (isSelected), or, once it `counts` there already, kept
 * while its labels match and its NoExecute taints are tolerated.
 */
export function countsOn(
  spec: Pick<XdpCounterSpec, "nodeSelector" | "tolerations">,
  node: NodeInfo,
  counting: boolean,
): boolean {
  if (!matchesSelector(spec, node)) return false;
  return counting ? toleratesNoExecute(spec, node) : isTolerated(spec, node);
}

export function selectedNodeNames(
  spec: Pick<XdpCounterSpec, "nodeSelector" | "tolerations">,
  nodes: readonly NodeInfo[],
): Set<string> {
  return new Set(nodes.filter((node) => isSelected(spec, node)).map((node) => node.name));
}
