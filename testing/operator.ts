// Builders of XdpCounters, reports and agent pods for the operator's tests and benchmarks.
import {
  type XdpCounter,
  type XdpCounterInput,
  type XdpCounterReport,
  type XdpCounterReportInput,
  xdpCounter,
  xdpCounterReport,
} from "../api/v1alpha1/index.ts";
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

/** A node's report for an XdpCounter as its agent writes it (zero actions left out; here: all of them). */
export function makeReport(
  xdpc: Pick<XdpCounter, "metadata">,
  node: string,
  overrides: Partial<Omit<XdpCounterReportInput, "apiVersion" | "kind">> = {},
): XdpCounterReport {
  return xdpCounterReport.parse({
    apiVersion: "xdpcounter.dev/v1alpha1",
    kind: "XdpCounterReport",
    metadata: {
      name: `${xdpc.metadata.name}.${node}`,
      labels: { "xdpcounter.dev/xdpcounter": xdpc.metadata.name },
    },
    nodeName: node,
    xdpCounter: { name: xdpc.metadata.name, uid: xdpc.metadata.uid ?? "" },
    generation: xdpc.metadata.generation ?? 1,
    phase: "Counting",
    reportedAt: "2026-12-03T12:00:00Z",
    interfaces: [],
    packets: {},
    bytes: {},
    ...overrides,
  });
}

/**
 * An agent Pod of the one agent DaemonSet on `node`, as the DaemonSet controller makes it: the DaemonSet's
 * selector labels and its controller reference (its status is set apart, through /status: agentPodStatus).
 */
export function agentPodManifest(
  daemonSet: { name: string; uid: string },
  node: string,
  image: string,
): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `${daemonSet.name}-${node}`,
      labels: selectorLabels(),
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
