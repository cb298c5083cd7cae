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

/** Every NoSchedule/NoExecute taint of the node is tolerated: a daemon pod can run there. */
export function isTolerated(spec: Pick<XdpCounterSpec, "tolerations">, node: NodeInfo): boolean {
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

/**
 * Nodes no longer selected whose entry is not Clean: they still hold the XdpCounter's program and pins, so
 * the cleanup DaemonSet keeps a clean-mode agent there (by node name) until it has cleaned up (docs/adr/0012). A node whose
 * taints are not tolerated cannot run an agent at all and is not kept. Sorted.
 */
export function retainedNodeNames(
  spec: Pick<XdpCounterSpec, "nodeSelector" | "tolerations">,
  entries: Readonly<Record<string, { phase?: string }>>,
  nodes: readonly NodeInfo[],
): string[] {
  const byName = new Map(nodes.map((node) => [node.name, node]));
  return Object.entries(entries)
    .filter(([name, entry]) => {
      const node = byName.get(name);
      return node && entry.phase !== "Clean" && !matchesSelector(spec, node) && isTolerated(spec, node);
    })
    .map(([name]) => name)
    .sort();
}
