// Which nodes have a live, ready agent: read from the agent pods' Ready condition, which the kubelet keeps
// from the agent's readiness probe (and the node lifecycle controller turns False when a node stops
// reporting). The status entries themselves carry no heartbeat: an agent writes only when its entry changed
// (docs/adr/0016).

/** The fields of an agent Pod that matter here; everything else is dropped from the operator's cache. */
export type AgentPod = {
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    deletionTimestamp?: string;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  };
  spec?: { nodeName?: string };
  status?: { conditions?: { type: string; status: string }[] };
};

/** A Pod reduced to what agentPodState and the owner lookup need (name, owner, node, readiness, deletion). */
export function slimAgentPod(pod: AgentPod): AgentPod {
  const m = pod.metadata;
  const metadata: AgentPod["metadata"] = { name: m.name };
  if (m.namespace !== undefined) metadata.namespace = m.namespace;
  if (m.uid !== undefined) metadata.uid = m.uid;
  if (m.resourceVersion !== undefined) metadata.resourceVersion = m.resourceVersion;
  if (m.deletionTimestamp !== undefined) metadata.deletionTimestamp = m.deletionTimestamp;
  if (m.ownerReferences !== undefined) metadata.ownerReferences = m.ownerReferences;
  const slim: AgentPod = { metadata };
  if (pod.spec?.nodeName) slim.spec = { nodeName: pod.spec.nodeName };
  const ready = pod.status?.conditions?.find((c) => c.type === "Ready");
  if (ready) slim.status = { conditions: [{ type: "Ready", status: ready.status }] };
  return slim;
}

/** The DaemonSet that controls a Pod (its controller ownerReference), if any. */
export function ownerDaemonSet(pod: AgentPod): string | undefined {
  return pod.metadata.ownerReferences?.find(
    (ref) => ref.controller === true && ref.kind === "DaemonSet" && ref.apiVersion === "apps/v1",
  )?.name;
}

/** What the operator reads from an agent Pod: its node, and whether it counts as a ready agent there. */
export function agentPodState(pod: AgentPod): { node: string | undefined; ready: boolean } {
  const node = pod.spec?.nodeName || undefined;
  const ready =
    !pod.metadata.deletionTimestamp &&
    (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
  return { node, ready: ready && node !== undefined };
}

/** Whether an update of an agent Pod can change what the operator concludes (node, readiness, deletion). */
export function agentPodChangeMatters(old: AgentPod | undefined, pod: AgentPod | undefined): boolean {
  if (!old || !pod) return true;
  const a = agentPodState(old);
  const b = agentPodState(pod);
  return a.node !== b.node || a.ready !== b.ready || ownerDaemonSet(old) !== ownerDaemonSet(pod);
}

/** The nodes on which at least one of these agent pods is ready. */
export function readyAgentNodes(pods: readonly AgentPod[]): Set<string> {
  const nodes = new Set<string>();
  for (const pod of pods) {
    const { node, ready } = agentPodState(pod);
    if (ready && node) nodes.add(node);
  }
  return nodes;
}
