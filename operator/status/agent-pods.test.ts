import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type AgentPod,
  agentPodChangeMatters,
  agentPodState,
  ownerDaemonSet,
  readyAgentNodes,
  slimAgentPod,
} from "./agent-pods.ts";

function pod(node: string | undefined, ready: string | undefined, extra: Partial<AgentPod["metadata"]> = {}) {
  return {
    metadata: {
      name: `agent-${node}`,
      namespace: "xdp-counter",
      resourceVersion: "7",
      ownerReferences: [
        { apiVersion: "apps/v1", kind: "DaemonSet", name: "xdp-counter-edge", uid: "u1", controller: true },
      ],
      ...extra,
    },
    ...(node ? { spec: { nodeName: node } } : {}),
    ...(ready ? { status: { conditions: [{ type: "Ready", status: ready }] } } : {}),
  } satisfies AgentPod;
}

describe("agent pods", () => {
  it("a node has a ready agent only for a Ready pod that is scheduled and not being deleted", () => {
    assert.deepEqual(agentPodState(pod("a", "True")), { node: "a", ready: true });
    assert.deepEqual(agentPodState(pod("a", "False")), { node: "a", ready: false });
    assert.deepEqual(agentPodState(pod("a", undefined)), { node: "a", ready: false });
    assert.deepEqual(agentPodState(pod(undefined, "True")), { node: undefined, ready: false });
    const terminating = pod("a", "True", { deletionTimestamp: "2026-11-25T12:00:00Z" });
    assert.deepEqual(agentPodState(terminating), { node: "a", ready: false });
  });

  it("readyAgentNodes: any ready pod on a node makes it ready (a rolling update's new pod next to the old)", () => {
    const nodes = readyAgentNodes([pod("a", "True"), pod("b", "False"), pod("b", "True"), pod("c", "False")]);
    assert.deepEqual([...nodes].sort(), ["a", "b"]);
  });

  it("keeps only the fields that matter, and the Ready condition alone", () => {
    const full = {
      ...pod("a", "True"),
      metadata: { ...pod("a", "True").metadata, labels: { x: "y" }, annotations: { big: "z".repeat(1000) } },
      spec: { nodeName: "a", containers: [{ name: "agent", image: "i" }] },
      status: {
        phase: "Running",
        conditions: [
          { type: "PodScheduled", status: "True" },
          { type: "Ready", status: "True" },
        ],
      },
    };
    const slim = slimAgentPod(full as AgentPod);
    assert.deepEqual(slim, {
      metadata: {
        name: "agent-a",
        namespace: "xdp-counter",
        resourceVersion: "7",
        ownerReferences: full.metadata.ownerReferences,
      },
      spec: { nodeName: "a" },
      status: { conditions: [{ type: "Ready", status: "True" }] },
    });
    assert.equal(ownerDaemonSet(slim), "xdp-counter-edge");
  });

  it("an update matters only when node, readiness, deletion or owner changes", () => {
    assert.equal(agentPodChangeMatters(pod("a", "True"), pod("a", "True", { resourceVersion: "8" })), false);
    assert.equal(agentPodChangeMatters(pod("a", "True"), pod("a", "False")), true);
    assert.equal(
      agentPodChangeMatters(
        pod("a", "True"),
        pod("a", "True", { deletionTimestamp: "2026-11-25T12:00:00Z" }),
      ),
      true,
    );
    assert.equal(agentPodChangeMatters(undefined, pod("a", "True")), true);
  });

  it("a pod without a DaemonSet controller has no owner", () => {
    assert.equal(ownerDaemonSet(pod("a", "True", { ownerReferences: [] })), undefined);
    const rs = pod("a", "True", {
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "x", uid: "u", controller: true }],
    });
    assert.equal(ownerDaemonSet(rs), undefined);
  });
});
