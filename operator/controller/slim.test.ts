import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "../../runtime/kube/kube-types.ts";
import { makeReport, makeXdpCounter } from "../../testing/operator.ts";
import { nodeChangeMatters } from "./key-mapping.ts";
import { toNodeInfo } from "./reconcile.ts";
import { slimNode, slimReport } from "./slim.ts";

/** A Node as a kubelet of a cloud node keeps it: most of it is status. */
function cloudNode(labels: Record<string, string>, taints?: unknown[]): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: "ip-10-0-3-232.eu-west-1.compute.internal",
      uid: "0c5e7f64-1f1e-4b1e-9d1e-3a4f5e6d7c8b",
      resourceVersion: "4711",
      labels,
      annotations: {
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
      },
      managedFields: [{ manager: "kubelet", operation: "Update", fieldsV1: { "f:status": {} } }],
    } as KubeObject["metadata"],
    spec: { podCIDR: "10.244.3.0/24", providerID: "aws:///eu-west-1a/i-0abc", ...(taints ? { taints } : {}) },
    status: {
      capacity: { cpu: "8", memory: "32Gi", pods: "110" },
      conditions: [{ type: "Ready", status: "True", lastHeartbeatTime: "2026-12-03T12:00:00Z" }],
      addresses: [{ type: "InternalIP", address: "10.0.3.232" }],
      images: Array.from({ length: 40 }, (_, i) => ({
        names: [`registry.example/team/image-${i}@sha256:${"ab".repeat(32)}`],
        sizeBytes: 123_456_789,
      })),
    },
  };
}

test("a cached Node keeps its name, uid, resourceVersion, labels and taints, nothing else", () => {
  const taints = [{ key: "dedicated", value: "edge", effect: "NoSchedule" }];
  const node = cloudNode({ "kubernetes.io/hostname": "n", role: "edge" }, taints);
  assert.deepEqual(slimNode(node), {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: "ip-10-0-3-232.eu-west-1.compute.internal",
      uid: "0c5e7f64-1f1e-4b1e-9d1e-3a4f5e6d7c8b",
      resourceVersion: "4711",
      labels: { "kubernetes.io/hostname": "n", role: "edge" },
    },
    spec: { taints },
  });
  assert.ok(JSON.stringify(slimNode(node)).length * 20 < JSON.stringify(node).length, "a twentieth or less");
  // what placement and the change filter read is the same on the full and on the slim object
  assert.deepEqual(toNodeInfo(slimNode(node)), toNodeInfo(node));
  const relabelled = cloudNode({ "kubernetes.io/hostname": "n", role: "core" }, taints);
  assert.equal(nodeChangeMatters(slimNode(node), slimNode(relabelled)), true);
  assert.equal(
    nodeChangeMatters(slimNode(node), slimNode(cloudNode(node.metadata.labels ?? {}, taints))),
    false,
  );
});

test("a Node without labels or taints stays without them", () => {
  const node = cloudNode({});
  delete node.metadata.labels;
  assert.deepEqual(slimNode(node), {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: node.metadata.name, uid: node.metadata.uid, resourceVersion: "4711" },
  });
});

test("a cached report loses managedFields and annotations, and keeps everything the operator sums", () => {
  const report = makeReport(makeXdpCounter("edge"), "n1", { packets: { pass: "18446744073709551615" } });
  const stored = {
    ...report,
    metadata: {
      ...report.metadata,
      annotations: { note: "x" },
      managedFields: [{ manager: "xdp-counter-agent", operation: "Apply", fieldsV1: { "f:packets": {} } }],
    },
  } as unknown as KubeObject;
  const slim = slimReport(stored) as unknown as typeof report;
  assert.deepEqual(slim, report);
  assert.equal(slim.packets.pass, "18446744073709551615");
  // the object given is not changed: the informer hands the slim one on
  assert.ok("managedFields" in (stored.metadata as object));
});
