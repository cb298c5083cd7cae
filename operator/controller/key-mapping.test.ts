import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "../../runtime/kube/kube-types.ts";
import { makeReport, makeXdpCounter } from "../../testing/operator.ts";
import { allXdpCounterKeys, nodeChangeMatters, reportChangeMatters } from "./key-mapping.ts";

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
  // the operator's own label is a label like any other: its writes come back as events
  assert.equal(nodeChangeMatters(node({}), node({ "xdpcounter.dev/agent": "true" })), true);
});

test("a Node event concerns every XdpCounter", () => {
  assert.deepEqual(allXdpCounterKeys([{ metadata: { name: "a" } }, { metadata: { name: "b" } }]), ["a", "b"]);
  assert.deepEqual(allXdpCounterKeys([]), []);
});

test("a report's change matters unless only its time and metadata changed", () => {
  const xdpc = makeXdpCounter("edge");
  const base = makeReport(xdpc, "n1", { packets: { pass: "10" } });
  const asObject = (r: unknown) => r as KubeObject;
  const withMeta = (r: typeof base, resourceVersion: string) =>
    asObject({ ...r, metadata: { ...r.metadata, resourceVersion } });

  assert.equal(reportChangeMatters(undefined, asObject(base)), true, "added");
  assert.equal(reportChangeMatters(asObject(base), undefined), true, "deleted");
  assert.equal(reportChangeMatters(asObject(base), asObject(base)), false, "a resync");
  const later = { ...base, reportedAt: "2026-12-03T12:00:10Z" };
  assert.equal(reportChangeMatters(withMeta(base, "1"), withMeta(later, "2")), false, "time only");

  const changes: Partial<typeof base>[] = [
    { packets: { pass: "11" } },
    { bytes: { drop: "64" } },
    { phase: "Error", error: "EPERM" },
    { generation: 5 },
    { rates: { packetsPerSecond: { pass: 1 }, bitsPerSecond: {}, seconds: 10 } },
    { interfaces: [{ name: "eth0", mode: "native", attached: true, packets: {}, bytes: {} }] },
    { xdpCounter: { name: "edge", uid: "another" } },
  ];
  for (const change of changes) {
    assert.equal(
      reportChangeMatters(withMeta(base, "1"), withMeta({ ...later, ...change }, "2")),
      true,
      JSON.stringify(change),
    );
  }
});
