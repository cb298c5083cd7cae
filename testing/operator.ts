// Builders of XdpCounters, node entries and agent pods for the operator's tests and benchmarks.
import { type NodeStatus, type XdpCounter, type XdpCounterInput, xdpCounter } from "../api/v1alpha1/index.ts";
import { selectorLabels } from "../operator/daemonset/index.ts";

export function makeXdpCounter(
  name = "edge",
  spec: XdpCounterInput["spec"] = {},
  status?: XdpCounterInput["status"],
  metadata: Partial<XdpCounterInput["metadata"]> = {},
): XdpCounter {
  return xdpCounter.parse({
    apiVersion: "xdpcounter.dev/v1alpha1",
    kind: "XdpCounter",
    metadata: { name, uid: "0b7c2a7e-uid", generation: 2, ...metadata },
    spec,
    status,
  });
}

/** A node entry as agents write it: zero actions left out (here: all of them). */
export function nodeEntry(overrides: Partial<NodeStatus> = {}): NodeStatus {
  return {
    phase: "Counting",
    reportedAt: "2026-11-25T12:00:00Z",
    interfaces: [],
    packets: {},
    bytes: {},
    ...overrides,
  };
}

/**
 * An agent Pod of an XdpCounter's DaemonSet on `node`, as the DaemonSet controller makes it (its status is set
 * apart, through /status: agentPodStatus).
 */
export function agentPodManifest(
  xdpCounter: string,
  daemonSet: { name: string; uid: string },
  node: string,
  image: string,
): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `${daemonSet.name}-${node}`,
      labels: selectorLabels(xdpCounter),
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "DaemonSet",
          name: daemonSet.name,
          uid: daemonSet.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: { nodeName: node, containers: [{ name: "agent", image }] },
  };
}

/** What the kubelet writes to an agent Pod's /status: running, Ready or not (a merge patch). */
export function agentPodStatus(ready: boolean): { status: Record<string, unknown> } {
  return { status: { phase: "Running", conditions: [{ type: "Ready", status: ready ? "True" : "False" }] } };
}
