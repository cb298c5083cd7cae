// The Events reconcile emits: one per transition, none when a pass changes nothing.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { InterfaceStatus } from "../../api/v1alpha1/index.ts";
import { FakeCluster, FakeEventSink } from "../../testing/fake-cluster.ts";
import { makeReport } from "../../testing/operator.ts";
import { parseOperatorConfig } from "../config/index.ts";
import { AGENTS_KEY, type ReconcileDeps, reconcile } from "./reconcile.ts";

const config = parseOperatorConfig({
  XDP_COUNTER_NAMESPACE: "xdp",
  XDP_COUNTER_AGENT_IMAGE: "xdp-counter:test",
});
/** Longer than any report interval here: the next status write is never throttled. */
const LATER_MS = 3_600_000;

async function setup() {
  const cluster = new FakeCluster();
  const events = new FakeEventSink();
  const clock = { ms: Date.parse("2026-12-03T12:00:00Z") };
  const deps: ReconcileDeps = {
    read: cluster,
    write: cluster,
    config,
    now: () => new Date(clock.ms),
    events,
    statusWrites: new Map(),
  };
  /** A pass over the XdpCounter, later than its report interval. */
  const pass = async (name = "edge") => {
    clock.ms += LATER_MS;
    await reconcile(AGENTS_KEY, deps);
    return reconcile(name, deps);
  };
  return { cluster, deps, events, pass };
}

function report(
  cluster: FakeCluster,
  node: string,
  overrides: Parameters<typeof makeReport>[2] = {},
  name = "edge",
): void {
  const obj = cluster.xdpCounters.get(name);
  assert.ok(obj);
  cluster.putReport(makeReport(obj, node, overrides));
}

function iface(overrides: Partial<InterfaceStatus>): InterfaceStatus {
  return { name: "eth0", mode: "", attached: false, packets: {}, bytes: {}, ...overrides };
}

test("readiness and its loss are told once each; passes that change nothing tell nothing", async () => {
  const { cluster, events, pass } = await setup();
  cluster.addNode("n1");
  cluster.addNode("n2");
  cluster.addXdpCounter({ metadata: { name: "edge" }, spec: {} });
  report(cluster, "n1");
  report(cluster, "n2");
  await pass();
  // Not ready from the start is no transition (the condition says so).
  assert.deepEqual(events.take(), []);

  cluster.setAgentPod("n1", true);
  cluster.setAgentPod("n2", true);
  await pass();
  const counting = events.events[0];
  assert.deepEqual(events.take(), ["Normal/AllNodesCounting"]);
  assert.equal(counting?.note, "All 2 selected nodes are counting.");
  assert.equal(counting?.action, "Reconcile");
  const { resourceVersion, ...regarding } = counting?.regarding ?? { resourceVersion: undefined };
  assert.deepEqual(regarding, {
    apiVersion: "xdpcounter.dev/v1alpha1",
    kind: "XdpCounter",
    name: "edge",
    uid: "uid-edge",
  });
  assert.match(resourceVersion ?? "", /^\d+$/);
  await pass();
  assert.deepEqual(events.take(), [], "nothing changed");

  cluster.setAgentPod("n2", false);
  await pass();
  const lost = events.events[0];
  assert.deepEqual(events.take(), ["Warning/NodesNotReady"]);
  assert.match(lost?.note ?? "", /1 of 2 nodes counting; not ready: n2\./);
  cluster.setAgentPod("n1", false);
  await pass();
  assert.deepEqual(events.take(), [], "still not ready: no new Event for a changed message");
});

test("a transition within the report interval is told when the status is written, once", async () => {
  const { cluster, deps, events, pass } = await setup();
  cluster.addNode("n1");
  cluster.addXdpCounter({ metadata: { name: "edge" }, spec: { reportInterval: "10s" } });
  report(cluster, "n1");
  await pass();
  events.take();
  cluster.setAgentPod("n1", true);
  assert.equal((await reconcile("edge", deps)).outcome, "Throttled");
  assert.deepEqual(events.take(), [], "not written, not told");
  await pass();
  assert.deepEqual(events.take(), ["Normal/AllNodesCounting"]);
});

test("an invalid spec is a Warning with the message, told again only for a different error", async () => {
  const { cluster, events, pass } = await setup();
  cluster.addNode("n1");
  cluster.addXdpCounter({ metadata: { name: "edge" }, spec: { reportInterval: "2h" } });
  await pass();
  const warning = events.events[0];
  assert.deepEqual(events.take(), ["Warning/InvalidSpec"]);
  assert.match(warning?.note ?? "", /^Fix the spec: .*spec\.reportInterval/);
  await pass();
  assert.deepEqual(events.take(), []);
  cluster.setSpec("edge", { action: "bounce" });
  await pass();
  const again = events.events[0];
  assert.deepEqual(events.take(), ["Warning/InvalidSpec"]);
  assert.match(again?.note ?? "", /spec\.action/);
  await pass();
  assert.deepEqual(events.take(), []);
});

test("Degraded reasons appearing are a Warning each, once: an interface held by another XdpCounter, a foreign program, a node error", async () => {
  const { cluster, events, pass } = await setup();
  cluster.addNode("n1");
  cluster.addXdpCounter({ metadata: { name: "edge" }, spec: {} });
  report(cluster, "n1");
  cluster.setAgentPod("n1", true);
  await pass();
  assert.deepEqual(events.take(), ["Normal/AllNodesCounting"]);

  report(cluster, "n1", {
    interfaces: [
      iface({
        reason: "HeldByXdpCounter",
        heldBy: "core",
        error: "eth0 is counted by XdpCounter core; this one counts there once it lets go",
      }),
    ],
  });
  await pass();
  const held = events.events[0];
  assert.deepEqual(events.take(), ["Warning/InterfaceErrors"]);
  assert.match(held?.note ?? "", /n1\/eth0: eth0 is counted by XdpCounter core/);
  await pass();
  assert.deepEqual(events.take(), [], "told once");

  report(cluster, "n1", {
    interfaces: [iface({ reason: "ForeignXdpProgram", error: "program 42 (cilium) is attached" })],
  });
  await pass();
  const foreign = events.events[0];
  assert.deepEqual(events.take(), ["Warning/ForeignXdpProgram"]);
  assert.match(foreign?.note ?? "", /n1\/eth0/);
  await pass();
  assert.deepEqual(events.take(), [], "told once");

  report(cluster, "n1", { phase: "Error", error: "cannot load the program: EPERM" });
  await pass();
  const nodeError = events.events;
  assert.deepEqual(events.take(), ["Warning/NodesNotReady", "Warning/NodeErrors"]);
  assert.match(nodeError[1]?.note ?? "", /n1: cannot load the program: EPERM/);
  await pass();
  assert.deepEqual(events.take(), []);

  report(cluster, "n1");
  await pass();
  assert.deepEqual(events.take(), ["Normal/AllNodesCounting"], "recovery of Degraded is not told");
});

test("the finalizer's removal is told once, as CleanedUp; waiting for the agents is not", async () => {
  const { cluster, events, pass } = await setup();
  cluster.addNode("n1");
  cluster.addXdpCounter({ metadata: { name: "edge" }, spec: {} });
  report(cluster, "n1");
  await pass();
  events.take();
  cluster.markDeleted("edge");
  await pass();
  await pass();
  assert.deepEqual(events.take(), []);
  cluster.removeReport("edge.n1");
  await pass();
  const cleaned = events.events[0];
  assert.deepEqual(events.take(), ["Normal/CleanedUp"]);
  assert.equal(cleaned?.action, "RemoveFinalizer");
  assert.equal(cleaned?.regarding.name, "edge");
  assert.equal(cleaned?.regarding.uid, "uid-edge");
  await pass();
  assert.deepEqual(events.take(), [], "gone: nothing more");
});

test("the deletion of an XdpCounter with an invalid spec is told as CleanedUp too", async () => {
  const { cluster, events, pass } = await setup();
  cluster.addNode("n1");
  cluster.addXdpCounter({ metadata: { name: "edge" }, spec: {} });
  await pass();
  cluster.setSpec("edge", { action: "bounce" });
  await pass();
  assert.deepEqual(events.take(), ["Warning/InvalidSpec"]);
  cluster.markDeleted("edge");
  await pass();
  assert.deepEqual(events.take(), ["Normal/CleanedUp"]);
});
