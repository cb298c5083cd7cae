import assert from "node:assert/strict";
import { test } from "node:test";
import { allXdpCounterKeys, nodeChangeMatters, xdpCounterOfDaemonSet } from "./key-mapping.ts";
import type { KubeObject } from "./kube-types.ts";

function ds(ownerReferences: NonNullable<KubeObject["metadata"]["ownerReferences"]>): KubeObject {
  return { metadata: { name: "xdp-counter-edge", namespace: "xdp", ownerReferences } };
}

test("a DaemonSet maps to the XdpCounter that controls it", () => {
  assert.equal(
    xdpCounterOfDaemonSet(
      ds([
        {
          apiVersion: "xdpcounter.dev/v1alpha1",
          kind: "XdpCounter",
          name: "edge",
          uid: "u",
          controller: true,
        },
      ]),
    ),
    "edge",
  );
});

test("a DaemonSet without an XdpCounter controller maps to nothing", () => {
  assert.equal(xdpCounterOfDaemonSet(ds([])), undefined);
  assert.equal(
    xdpCounterOfDaemonSet(
      ds([
        {
          apiVersion: "xdpcounter.dev/v1alpha1",
          kind: "XdpCounter",
          name: "edge",
          uid: "u",
          controller: false,
        },
      ]),
    ),
    undefined,
  );
  assert.equal(
    xdpCounterOfDaemonSet(
      ds([{ apiVersion: "apps/v1", kind: "Deployment", name: "x", uid: "u", controller: true }]),
    ),
    undefined,
  );
});

test("Node events matter when a node comes or goes, or its labels or taints change; heartbeats do not", () => {
  const node = (labels: Record<string, string>, taints: unknown[] = [], heartbeat = "t1"): KubeObject => ({
    metadata: { name: "n1", labels, resourceVersion: heartbeat },
    spec: { taints },
    status: { conditions: [{ type: "Ready", lastHeartbeatTime: heartbeat }] },
  });
  assert.equal(nodeChangeMatters(undefined, node({})), true);
  assert.equal(nodeChangeMatters(node({}), undefined), true);
  assert.equal(nodeChangeMatters(node({ a: "1" }), node({ a: "1" }, [], "t2")), false);
  assert.equal(nodeChangeMatters(node({ a: "1" }), node({ a: "2" })), true);
  assert.equal(nodeChangeMatters(node({}), node({}, [{ key: "k", effect: "NoSchedule" }])), true);
});

test("a Node event concerns every XdpCounter", () => {
  assert.deepEqual(allXdpCounterKeys([{ metadata: { name: "a" } }, { metadata: { name: "b" } }]), ["a", "b"]);
});
