// What the agent knows of its Node, from the Node object it watches: the labels and taints that decide which
// XdpCounters count on it (the operator's rule, api/v1alpha1/node-selection.ts: countsOn), and its InternalIPs,
// on whose interface action drop is refused.
import { countsOn, type NodeInfo, type Taint } from "../../api/v1alpha1/index.ts";
import type { KubeObject } from "../../runtime/kube/index.ts";

export { countsOn };

export interface NodeFacts extends NodeInfo {
  internalIps: string[];
}

export function nodeFacts(node: KubeObject): NodeFacts {
  const spec = node.spec as { taints?: Taint[] } | undefined;
  const status = node.status as { addresses?: { type?: string; address?: string }[] } | undefined;
  return {
    name: node.metadata.name,
    labels: node.metadata.labels ?? {},
    taints: spec?.taints ?? [],
    internalIps: (status?.addresses ?? [])
      .filter((a) => a.type === "InternalIP" && typeof a.address === "string")
      .map((a) => a.address as string),
  };
}
