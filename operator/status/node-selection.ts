// Which nodes an XdpCounter's DaemonSet runs on: the nodes whose labels match spec.nodeSelector and whose
// NoSchedule/NoExecute taints are all tolerated, by the spec's tolerations or by those the DaemonSet
// controller adds to every daemon pod. (Node affinity and resources are not considered: the spec has none.)
import type { Toleration, XdpCounterSpec } from "../../api/v1alpha1/index.ts";

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

export function isSelected(
  spec: Pick<XdpCounterSpec, "nodeSelector" | "tolerations">,
  node: NodeInfo,
): boolean {
  for (const [key, value] of Object.entries(spec.nodeSelector ?? {})) {
    if (node.labels?.[key] !== value) return false;
  }
  const tolerations = [...(spec.tolerations ?? []), ...DAEMONSET_TOLERATIONS];
  for (const taint of node.taints ?? []) {
    if (taint.effect === "PreferNoSchedule") continue;
    if (!tolerations.some((t) => tolerates(t, taint))) return false;
  }
  return true;
}

export function selectedNodeNames(
  spec: Pick<XdpCounterSpec, "nodeSelector" | "tolerations">,
  nodes: readonly NodeInfo[],
): Set<string> {
  return new Set(nodes.filter((node) => isSelected(spec, node)).map((node) => node.name));
}
