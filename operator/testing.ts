// Builders of XdpCounters and node entries for the operator's tests.
import { type NodeStatus, type XdpCounter, type XdpCounterInput, xdpCounter } from "../api/v1alpha1/index.ts";

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
