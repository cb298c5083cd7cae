// The Events reconcile emits: one per transition, none when a pass changes nothing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeCluster, FakeEventSink } from "../../testing/fake-cluster.ts";
import { parseOperatorConfig } from "../config/index.ts";
import { FINALIZER } from "../finalizer/index.ts";
import type { JsonObject } from "../status/index.ts";
import { type ReconcileDeps, reconcile } from "./reconcile.ts";

const config = parseOperatorConfig({
  XDP_COUNTER_NAMESPACE: "xdp",
  XDP_COUNTER_AGENT_IMAGE: "xdp-counter:test",
});
const zero = { aborted: "0", drop: "0", pass: "0", tx: "0", redirect: "0" };

function setup() {
  const cluster = new FakeCluster();
  const events = new FakeEventSink();
  const deps: ReconcileDeps = {
    read: cluster,
    write: cluster,
    config,
    now: () => new Date("2026-11-25T12:00:30Z"),
    events,
  };
  return { cluster, deps, events };
}

function entry(phase: string, interfaces: JsonObject[] = []) {
  return { phase, reportedAt: "2026-11-25T12:00:25Z", interfaces, packets: zero, bytes: zero };
}

test("creation, readiness and its loss are told once each; passes that change nothing tell nothing", async () => {
  const { cluster, deps, events } = setup();
  cluster.addNode("n1");
  cluster.addNode("n2");
  cluster.addXdpCounter({ metadata: { name: "edge" }, spec: {} });
  await reconcile("edge", deps);
  const created = events.events[0];
  assert.deepEqual(events.take(), ["Normal/DaemonSetCreated"]);
  assert.equal(created?.action, "Create");
  assert.equal(created?.note, "Created DaemonSet xdp/xdp-counter-edge for the agents.");
  const { resourceVersion, ...regarding } = created?.regarding ?? { resourceVersion: undefined };
  assert.deepEqual(regarding, {
    apiVersion: "xdpcounter.dev/v1alpha1",
    kind: "XdpCounter",
    name: "edge",
    uid: "uid-edge",
  });
  assert.match(resourceVersion ?? "", /^\d+$/);
  // Not ready from the start is no transition (the condition says so).
  await reconcile("edge", deps);
  assert.deepEqual(events.take(), []);

  for (const node of ["n1", "n2"]) {
    cluster.agentReport("edge", node, entry("Counting"));
    cluster.setAgentPod("xdp-counter-edge", node, true);
  }
  await reconcile("edge", deps);
  const counting = events.events[0];
  assert.deepEqual(events.take(), ["Normal/AllNodesCounting"]);
  assert.equal(counting?.note, "All 2 selected nodes are counting.");
  await reconcile("edge", deps);
  assert.deepEqual(events.take(), [], "nothing changed");

  cluster.setAgentPod("xdp-counter-edge", "n2", false);
  await reconcile("edge", deps);
  const lost = events.events[0];
  assert.deepEqual(events.take(), ["Warning/NodesNotReady"]);
  assert.match(lost?.note ?? "", /1 of 2 nodes counting; not ready: n2\./);
  cluster.setAgentPod("xdp-counter-edge", "n1", false);
  await reconcile("edge", deps);
  assert.deepEqual(events.take(), [], "still not ready: no new Event for a changed message");
});

test("a spec change updates the DaemonSet and says so; an unrelated change does not", async () => {
  const { cluster, deps, events } = setup();
  cluster.addNode("n1");
  cluster.addXdpCounter({ metadata: { name: "edge" }, spec: {} });
  await reconcile("edge", deps);
  events.take();
  const obj = cluster.xdpCounters.get("edge");
  assert.ok(obj);
  obj.metadata.labels = { team: "net" };
  await reconcile("edge", deps);
  assert.deepEqual(events.take(), []);
  obj.spec = { action: "drop" };
  obj.metadata.generation = 2;
  await reconcile("edge", deps);
  const updated = events.events[0];
  assert.deepEqual(events.take(), ["Normal/DaemonSetUpdated"]);
  assert.equal(updated?.note, "Updated DaemonSet xdp/xdp-counter-edge for generation 2.");
});

test("an invalid spec is a Warning with the message, told again only for a different error", async () => {
  const { cluster, deps, events } = setup();
  cluster.addNode("n1");
  cluster.addXdpCounter({ metadata: { name: "edge" }, spec: { reportInterval: "2h" } });
  await reconcile("edge", deps);
  const warning = events.events[0];
  assert.deepEqual(events.take(), ["Warning/InvalidSpec"]);
  assert.match(warning?.note ?? "", /^Fix the spec: .*spec\.reportInterval/);
  await reconcile("edge", deps);
  assert.deepEqual(events.take(), []);
  const obj = cluster.xdpCounters.get("edge");
  assert.ok(obj);
  obj.spec = { action: "bounce" };
  obj.metadata.generation = 2;
  await reconcile("edge", deps);
  assert.deepEqual(events.take(), ["Warning/InvalidSpec"]);

  const again = cluster.xdpCounters.get("edge");
  assert.ok(again);
  again.spec = {};
  again.metadata.generation = 3;
  await reconcile("edge", deps);
  assert.deepEqual(events.take(), ["Normal/DaemonSetCreated"]);
});

test("agent errors appearing are a Warning with the Degraded reason, once", async () => {
  const { cluster, deps, events } = setup();
  cluster.addNode("n1");
  cluster.addXdpCounter({ metadata: { name: "edge" }, spec: {} });
  await reconcile("edge", deps);
  events.take();
  const foreign = {
    name: "eth0",
    mode: "",
    attached: false,
    packets: zero,
    bytes: zero,
    reason: "ForeignXdpProgram",
    error: "program 42 (cilium) is attached",
  };
  cluster.agentReport("edge", "n1", entry("Counting", [foreign]));
  await reconcile("edge", deps);
  const warning = events.events[0];
  assert.deepEqual(events.take(), ["Warning/ForeignXdpProgram"]);
  assert.match(warning?.note ?? "", /n1\/eth0/);
  await reconcile("edge", deps);
  assert.deepEqual(events.take(), []);
});

test("a DaemonSet name held by another owner is a Warning, once", async () => {
  const { cluster, deps, events } = setup();
  cluster.addNode("n1");
  cluster.addXdpCounter({ metadata: { name: "edge", finalizers: [FINALIZER] }, spec: {} });
  cluster.daemonSets.set("xdp-counter-edge", {
    metadata: {
      name: "xdp-counter-edge",
      namespace: "xdp",
      ownerReferences: [
        {
          apiVersion: "xdpcounter.dev/v1alpha1",
          kind: "XdpCounter",
          name: "edge",
          uid: "old",
          controller: true,
        },
      ],
    },
  });
  await reconcile("edge", deps);
  assert.deepEqual(events.take(), ["Warning/DaemonSetConflict"]);
  await reconcile("edge", deps);
  assert.deepEqual(events.take(), []);
  cluster.daemonSets.clear();
  await reconcile("edge", deps);
  assert.deepEqual(events.take(), ["Normal/DaemonSetCreated"]);
});

test("a deselected node's cleanup DaemonSet, clean mode and the finalizer's removal are told", async () => {
  const { cluster, deps, events } = setup();
  cluster.addNode("n1", { pool: "edge" });
  cluster.addNode("n2", { pool: "edge" });
  cluster.addXdpCounter({ metadata: { name: "edge" }, spec: { nodeSelector: { pool: "edge" } } });
  await reconcile("edge", deps);
  cluster.agentReport("edge", "n1", entry("Counting"));
  cluster.agentReport("edge", "n2", entry("Counting"));
  events.take();
  cluster.addNode("n2", {});
  await reconcile("edge", deps);
  const created = events.events[0];
  assert.deepEqual(events.take(), ["Normal/CleanupDaemonSetCreated"]);
  assert.match(created?.note ?? "", /xdp\/xdp-counter-edge-cleanup .*: n2\.$/);
  cluster.agentReport("edge", "n2", entry("Clean"));
  await reconcile("edge", deps);
  assert.deepEqual(events.take(), ["Normal/CleanupDaemonSetDeleted"]);

  cluster.markDeleted("edge");
  await reconcile("edge", deps);
  assert.deepEqual(events.take(), ["Normal/DaemonSetUpdated"], "clean mode");
  await reconcile("edge", deps);
  assert.deepEqual(events.take(), []);
  cluster.agentReport("edge", "n1", entry("Clean"));
  await reconcile("edge", deps);
  assert.deepEqual(events.take(), ["Normal/CleanedUp"]);
});
