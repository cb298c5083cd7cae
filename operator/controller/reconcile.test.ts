import assert from "node:assert/strict";
import { test } from "node:test";
import { AGENT_CONFIG_ENV, parseAgentConfig } from "../../api/v1alpha1/index.ts";
import { FakeCluster, FakeEventSink } from "../../testing/fake-cluster.ts";
import { parseOperatorConfig } from "../config/index.ts";
import type { DaemonSet } from "../daemonset/index.ts";
import { FINALIZER } from "../finalizer/index.ts";
import { DESIRED_HASH_ANNOTATION } from "./desired-daemonset.ts";
import { type ReconcileDeps, ReconcileOutcome, reconcile } from "./reconcile.ts";

const config = parseOperatorConfig({
  XDP_COUNTER_NAMESPACE: "xdp",
  XDP_COUNTER_AGENT_IMAGE: "xdp-counter:test",
});
const NOW = new Date("2026-11-25T12:00:30Z");
const zero = { aborted: "0", drop: "0", pass: "0", tx: "0", redirect: "0" };

function setup() {
  const cluster = new FakeCluster();
  const events = new FakeEventSink();
  const deps: ReconcileDeps = { read: cluster, write: cluster, config, now: () => NOW, events };
  return { cluster, deps, events };
}

function entry(phase: string, pass = "0", reportedAt = "2026-11-25T12:00:25Z") {
  return { phase, reportedAt, interfaces: [], packets: { ...zero, pass }, bytes: { ...zero, pass } };
}

function statusOf<T>(cluster: FakeCluster, name: string): T {
  const obj = cluster.xdpCounters.get(name);
  assert.ok(obj?.status, `${name} has a status`);
  return obj.status as T;
}

function agentConfigOf(ds: DaemonSet) {
  const env = ds.spec.template.spec.containers[0]?.env.find((e) => e.name === AGENT_CONFIG_ENV);
  assert.ok(env && "value" in env);
  return parseAgentConfig(JSON.stringify({ ...JSON.parse(env.value), nodeName: "n" }));
}

test("a missing XdpCounter needs nothing", async () => {
  const { cluster, deps } = setup();
  assert.equal((await reconcile("nope", deps)).outcome, ReconcileOutcome.Gone);
  assert.equal(cluster.writes.length, 0);
});

test("a new XdpCounter gets the finalizer, one owned DaemonSet and a status; a second pass writes nothing", async () => {
  const { cluster, deps } = setup();
  cluster.addNode("n1");
  cluster.addXdpCounter({ metadata: { name: "edge" }, spec: { interfaces: ["eth*"] } });
  const first = await reconcile("edge", deps);
  assert.equal(first.outcome, ReconcileOutcome.Synced);
  assert.deepEqual(
    cluster.writes.map((w) => w.verb),
    ["patch", "apply", "patchStatus"],
  );
  assert.deepEqual(cluster.xdpCounters.get("edge")?.metadata.finalizers, [FINALIZER]);
  const ds = cluster.daemonSets.get("xdp-counter-edge") as unknown as DaemonSet;
  assert.equal(ds.metadata.namespace, "xdp");
  assert.deepEqual(ds.metadata.ownerReferences, [
    {
      apiVersion: "xdpcounter.dev/v1alpha1",
      kind: "XdpCounter",
      name: "edge",
      uid: "uid-edge",
      controller: true,
      blockOwnerDeletion: true,
    },
  ]);
  const agent = agentConfigOf(ds);
  assert.equal(agent.mode, "count");
  assert.deepEqual(agent.interfaces, ["eth*"]);
  const status = cluster.xdpCounters.get("edge")?.status as Record<string, unknown>;
  assert.equal(status.desiredNodes, 1);
  assert.equal(status.observedGeneration, 1);

  cluster.writes = [];
  const second = await reconcile("edge", deps);
  assert.equal(second.outcome, ReconcileOutcome.Synced);
  assert.equal(cluster.writes.length, 0, "nothing changed, nothing written");
  assert.equal(second.requeueAfterMs, undefined, "nothing ages: no timed re-reconcile");
});

test("a spec change re-applies the DaemonSet; an unrelated change (labels, a node heartbeat) does not", async () => {
  const { cluster, deps } = setup();
  cluster.addNode("n1");
  cluster.addXdpCounter({ metadata: { name: "edge" }, spec: {} });
  await reconcile("edge", deps);
  const before = cluster.daemonSets.get("xdp-counter-edge")?.metadata.annotations?.[DESIRED_HASH_ANNOTATION];

  const obj = cluster.xdpCounters.get("edge");
  assert.ok(obj);
  obj.metadata.labels = { team: "net" };
  cluster.addNode("n1");
  cluster.writes = [];
  await reconcile("edge", deps);
  assert.equal(cluster.writes.length, 0);

  obj.spec = { action: "drop", nodeSelector: { pool: "edge" } };
  obj.metadata.generation = 2;
  await reconcile("edge", deps);
  const applied = cluster.writes.filter((w) => w.verb === "apply");
  assert.equal(applied.length, 1);
  const ds = cluster.daemonSets.get("xdp-counter-edge") as unknown as DaemonSet;
  assert.notEqual(
    cluster.daemonSets.get("xdp-counter-edge")?.metadata.annotations?.[DESIRED_HASH_ANNOTATION],
    before,
  );
  assert.equal(agentConfigOf(ds).action, "drop");
  assert.deepEqual(ds.spec.template.spec.nodeSelector, { pool: "edge" });
});

test("totals are the exact sums above 2^53; entries of nodes that are gone are removed", async () => {
  const { cluster, deps } = setup();
  cluster.addNode("n1");
  cluster.addNode("n2");
  cluster.addXdpCounter({ metadata: { name: "edge" }, spec: {} });
  await reconcile("edge", deps);
  cluster.agentReport("edge", "n1", entry("Counting", "9007199254740993"));
  cluster.agentReport("edge", "n2", entry("Counting", "18000000000000000001"));
  cluster.agentReport("edge", "gone", entry("Counting", "5"));
  cluster.setAgentPod("xdp-counter-edge", "n1", true);
  cluster.setAgentPod("xdp-counter-edge", "n2", true);
  cluster.writes = [];
  const result = await reconcile("edge", deps);
  assert.equal(result.wroteStatus, true);
  const status = statusOf<{
    totals: { packets: Record<string, string> };
    nodes: Record<string, unknown>;
    readyNodes: number;
    conditions: { type: string; status: string; reason: string }[];
  }>(cluster, "edge");
  assert.equal(status.totals.packets.pass, (9007199254740993n + 18000000000000000001n).toString());
  assert.deepEqual(Object.keys(status.nodes).sort(), ["n1", "n2"]);
  assert.equal(status.readyNodes, 2);
  assert.equal(status.conditions.find((c) => c.type === "Ready")?.reason, "AllNodesCounting");
  const patch = cluster.writes.find((w) => w.verb === "patchStatus");
  assert.ok(patch && patch.verb === "patchStatus");
  assert.deepEqual(
    (patch.patch.status as { nodes: unknown }).nodes,
    { gone: null },
    "only the stale entry is nulled",
  );

  cluster.nodes.delete("n2");
  await reconcile("edge", deps);
  const after = statusOf<{
    nodes: Record<string, unknown>;
    totals: { packets: { pass: string } };
  }>(cluster, "edge");
  assert.deepEqual(Object.keys(after.nodes), ["n1"]);
  assert.equal(after.totals.packets.pass, "9007199254740993");
});

test("a node is ready while its entry says Counting and its agent pod is Ready, whatever the entry's age", async () => {
  const { cluster, deps } = setup();
  cluster.addNode("n1");
  cluster.addNode("n2");
  cluster.addXdpCounter({ metadata: { name: "edge" }, spec: {} });
  await reconcile("edge", deps);
  // Written a day ago and unchanged since: no heartbeat, still ready.
  cluster.agentReport("edge", "n1", entry("Counting", "7", "2026-11-24T12:00:30Z"));
  cluster.agentReport("edge", "n2", entry("Counting", "8"));
  cluster.setAgentPod("xdp-counter-edge", "n1", true);
  cluster.setAgentPod("xdp-counter-edge", "n2", false);
  cluster.setAgentPod("xdp-counter-other", "n2", true); // another XdpCounter's agent says nothing about ours
  await reconcile("edge", deps);
  type S = { readyNodes: number; conditions: { type: string; reason: string; message: string }[] };
  let status = statusOf<S>(cluster, "edge");
  assert.equal(status.readyNodes, 1);
  const ready = status.conditions.find((c) => c.type === "Ready");
  assert.equal(ready?.reason, "NodesNotReady");
  assert.match(ready?.message ?? "", /1 of 2 nodes counting; not ready: n2\./);

  cluster.setAgentPod("xdp-counter-edge", "n2", true);
  await reconcile("edge", deps);
  status = statusOf<S>(cluster, "edge");
  assert.equal(status.readyNodes, 2);
  assert.equal(status.conditions.find((c) => c.type === "Ready")?.reason, "AllNodesCounting");

  cluster.agentPods.delete("xdp-counter-edge/n1");
  await reconcile("edge", deps);
  assert.equal(statusOf<S>(cluster, "edge").readyNodes, 1, "a node without an agent pod is not ready");
});

test("deletion: clean mode, finalizer kept until every reporting node is Clean, then removed", async () => {
  const { cluster, deps } = setup();
  cluster.addNode("n1");
  cluster.addNode("n2");
  cluster.addXdpCounter({ metadata: { name: "edge" }, spec: {} });
  await reconcile("edge", deps);
  cluster.agentReport("edge", "n1", entry("Counting", "7"));
  cluster.agentReport("edge", "n2", entry("Counting", "8"));
  cluster.markDeleted("edge");

  const waiting = await reconcile("edge", deps);
  assert.equal(waiting.outcome, ReconcileOutcome.WaitingForClean);
  assert.deepEqual(waiting.waitingFor, ["n1", "n2"]);
  const ds = cluster.daemonSets.get("xdp-counter-edge") as unknown as DaemonSet;
  assert.equal(agentConfigOf(ds).mode, "clean");
  const ready = statusOf<{ conditions: { type: string; reason: string }[] }>(cluster, "edge").conditions;
  assert.equal(ready.find((c) => c.type === "Ready")?.reason, "Deleting");

  cluster.agentReport("edge", "n1", entry("Clean", "7"));
  const still = await reconcile("edge", deps);
  assert.deepEqual(still.waitingFor, ["n2"]);
  assert.ok(cluster.xdpCounters.has("edge"));

  cluster.agentReport("edge", "n2", entry("Clean", "8"));
  const done = await reconcile("edge", deps);
  assert.equal(done.outcome, ReconcileOutcome.FinalizerRemoved);
  assert.equal(cluster.xdpCounters.has("edge"), false);
  assert.equal(cluster.daemonSets.has("xdp-counter-edge"), false, "collected through its ownerReference");
  assert.equal((await reconcile("edge", deps)).outcome, ReconcileOutcome.Gone);
});

test("deletion does not wait for a node that is gone", async () => {
  const { cluster, deps } = setup();
  cluster.addNode("n1");
  cluster.addXdpCounter({ metadata: { name: "edge", finalizers: [FINALIZER] }, spec: {} });
  cluster.agentReport("edge", "n1", entry("Counting"));
  cluster.markDeleted("edge");
  assert.equal((await reconcile("edge", deps)).outcome, ReconcileOutcome.WaitingForClean);
  cluster.nodes.delete("n1");
  assert.equal((await reconcile("edge", deps)).outcome, ReconcileOutcome.FinalizerRemoved);
});

test("being deleted without our finalizer: nothing to do", async () => {
  const { cluster, deps } = setup();
  cluster.addXdpCounter({ metadata: { name: "edge", finalizers: ["other"] }, spec: {} });
  cluster.markDeleted("edge");
  assert.equal((await reconcile("edge", deps)).outcome, ReconcileOutcome.Released);
  assert.equal(cluster.writes.length, 0);
});

test("an invalid spec becomes condition InvalidSpec naming the field, with no DaemonSet write and no throw", async () => {
  const { cluster, deps } = setup();
  cluster.addNode("n1");
  cluster.addXdpCounter({ metadata: { name: "edge" }, spec: { reportInterval: "2h" } });
  const result = await reconcile("edge", deps);
  assert.equal(result.outcome, ReconcileOutcome.InvalidSpec);
  assert.equal(cluster.writes.filter((w) => w.verb === "apply").length, 0);
  const conditions = statusOf<{
    conditions: { type: string; status: string; reason: string; message: string }[];
  }>(cluster, "edge").conditions;
  const ready = conditions.find((c) => c.type === "Ready");
  assert.equal(ready?.status, "False");
  assert.equal(ready?.reason, "InvalidSpec");
  assert.match(ready?.message ?? "", /spec\.reportInterval/);
  cluster.writes = [];
  await reconcile("edge", deps);
  assert.equal(cluster.writes.length, 0, "the same verdict is not written twice");
});

test("an invalid XdpCounter being deleted still loses its finalizer once nothing is left to clean", async () => {
  const { cluster, deps } = setup();
  cluster.addXdpCounter({ metadata: { name: "edge", finalizers: [FINALIZER] }, spec: { action: "bounce" } });
  cluster.markDeleted("edge");
  assert.equal((await reconcile("edge", deps)).outcome, ReconcileOutcome.FinalizerRemoved);
});

test("a finalizer write on a stale object fails with a conflict (the queue retries it)", async () => {
  const { cluster, deps } = setup();
  cluster.addXdpCounter({ metadata: { name: "edge" }, spec: {} });
  const stale = cluster.getXdpCounter("edge");
  cluster.agentReport("edge", "n1", entry("Counting"));
  const read = {
    ...cluster,
    getXdpCounter: () => stale,
    getDaemonSet: () => undefined,
    listNodes: () => [],
    listAgentPods: () => [],
  };
  await assert.rejects(reconcile("edge", { ...deps, read }), { statusCode: 409 });
});

test("an invalid node entry is set aside and reported, the others still count", async () => {
  const { cluster, deps } = setup();
  cluster.addNode("n1");
  cluster.addNode("n2");
  cluster.addXdpCounter({ metadata: { name: "edge", finalizers: [FINALIZER] }, spec: {} });
  cluster.agentReport("edge", "n1", entry("Counting", "3"));
  cluster.agentReport("edge", "n2", { ...entry("Counting"), packets: { pass: "-1" } });
  await reconcile("edge", deps);
  const status = statusOf<{
    totals: { packets: { pass: string } };
    conditions: { type: string; reason: string; message: string }[];
  }>(cluster, "edge");
  assert.equal(status.totals.packets.pass, "3");
  const degraded = status.conditions.find((c) => c.type === "Degraded");
  assert.equal(degraded?.reason, "NodeErrors");
  assert.match(degraded?.message ?? "", /n2/);
});

test("foreground deletion: no DaemonSet while the collector deletes it, clean mode once it is done", async () => {
  const { cluster, deps } = setup();
  cluster.addNode("n1");
  cluster.addXdpCounter({ metadata: { name: "edge" }, spec: {} });
  await reconcile("edge", deps);
  cluster.agentReport("edge", "n1", entry("Counting"));
  cluster.markDeleted("edge");
  const obj = cluster.xdpCounters.get("edge");
  assert.ok(obj);
  obj.metadata.finalizers = [FINALIZER, "foregroundDeletion"];
  cluster.daemonSets.clear();
  cluster.writes = [];
  const waiting = await reconcile("edge", deps);
  assert.equal(waiting.outcome, ReconcileOutcome.WaitingForClean);
  assert.equal(
    cluster.writes.filter((w) => w.verb === "apply").length,
    0,
    "not recreated under the collector",
  );
  assert.equal(cluster.daemonSets.size, 0);

  const done = cluster.xdpCounters.get("edge");
  assert.ok(done);
  done.metadata.finalizers = [FINALIZER];
  await reconcile("edge", deps);
  const ds = cluster.daemonSets.get("xdp-counter-edge") as unknown as DaemonSet;
  assert.equal(agentConfigOf(ds).mode, "clean", "recreated in clean mode after the collector is done");
});

test("a DaemonSet of the same name owned by something else is left alone and reported", async () => {
  const { cluster, deps } = setup();
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
          uid: "old-uid",
          controller: true,
        },
      ],
    },
  });
  const result = await reconcile("edge", deps);
  assert.equal(result.outcome, ReconcileOutcome.DaemonSetConflict);
  assert.ok(result.requeueAfterMs);
  assert.equal(cluster.writes.filter((w) => w.verb === "apply").length, 0);
  const ready = statusOf<{ conditions: { type: string; reason: string; message: string }[] }>(
    cluster,
    "edge",
  ).conditions.find((c) => c.type === "Ready");
  assert.equal(ready?.reason, "DaemonSetConflict");
  assert.match(ready?.message ?? "", /old-uid/);

  cluster.daemonSets.clear();
  assert.equal((await reconcile("edge", deps)).outcome, ReconcileOutcome.Synced);
  assert.equal(cluster.writes.filter((w) => w.verb === "apply").length, 1);
});

test("an XdpCounter deleted between the cached read and the write is gone, not an error", async () => {
  const { cluster, deps } = setup();
  cluster.addXdpCounter({ metadata: { name: "edge" }, spec: {} });
  const cached = cluster.getXdpCounter("edge");
  cluster.xdpCounters.delete("edge");
  const read = {
    getXdpCounter: () => cached,
    getDaemonSet: () => undefined,
    listNodes: () => [],
    listAgentPods: () => [],
  };
  assert.equal((await reconcile("edge", { ...deps, read })).outcome, ReconcileOutcome.Gone);
});

test("a deselected node gets a clean-mode agent from the cleanup DaemonSet until it is Clean; the counting DaemonSet is never rewritten", async () => {
  const { cluster, deps } = setup();
  cluster.addNode("n1", { pool: "edge" });
  cluster.addNode("n2", { pool: "edge" });
  cluster.addNode("n3", { pool: "edge" });
  cluster.addXdpCounter({ metadata: { name: "edge" }, spec: { nodeSelector: { pool: "edge" } } });
  await reconcile("edge", deps);
  for (const [node, pass] of [
    ["n1", "3"],
    ["n2", "4"],
    ["n3", "5"],
  ] as const) {
    cluster.agentReport("edge", node, entry("Counting", pass));
  }
  await reconcile("edge", deps);
  const dsOf = () => cluster.daemonSets.get("xdp-counter-edge") as unknown as DaemonSet;
  const cleanupOf = () =>
    cluster.daemonSets.get("xdp-counter-edge-cleanup") as unknown as DaemonSet | undefined;
  const hash = () =>
    (dsOf().metadata as { annotations?: Record<string, string> }).annotations?.[DESIRED_HASH_ANNOTATION];
  const countingHash = hash();
  assert.deepEqual(dsOf().spec.template.spec.nodeSelector, { pool: "edge" });
  assert.deepEqual(agentConfigOf(dsOf()).nodeSelector, { pool: "edge" });
  assert.equal(cleanupOf(), undefined, "no cleanup DaemonSet while no node is retained");
  const countingWrites = () =>
    cluster.writes.filter((w) => w.verb === "apply" && w.name === "xdp-counter-edge").length;
  const before = countingWrites();
  const cleanupNodes = () =>
    cleanupOf()?.spec.template.spec.affinity?.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
      .nodeSelectorTerms[0]?.matchFields?.[0]?.values;

  cluster.addNode("n2", { pool: "core" });
  const first = await reconcile("edge", deps);
  assert.equal(first.wroteDaemonSet, true);
  assert.deepEqual(cleanupNodes(), ["n2"]);
  const cleanup = cleanupOf();
  assert.ok(cleanup);
  assert.equal(agentConfigOf(cleanup).mode, "clean");
  assert.equal(cleanup.metadata.ownerReferences[0]?.uid, "uid-edge");
  assert.equal(cleanup.metadata.ownerReferences[0]?.controller, true);
  type S = { nodes: Record<string, unknown>; desiredNodes: number; totals: { packets: { pass: string } } };
  let status = statusOf<S>(cluster, "edge");
  assert.deepEqual(Object.keys(status.nodes).sort(), ["n1", "n2", "n3"], "kept while it cleans up");
  assert.equal(status.desiredNodes, 2);
  assert.equal(status.totals.packets.pass, "8", "not counted");

  // A second node deselected: the cleanup DaemonSet grows; an unchanged pass writes nothing.
  cluster.addNode("n3", { pool: "core" });
  await reconcile("edge", deps);
  assert.deepEqual(cleanupNodes(), ["n2", "n3"]);
  const writes = cluster.writes.length;
  assert.equal((await reconcile("edge", deps)).wroteDaemonSet, false);
  assert.equal(cluster.writes.length, writes);

  cluster.agentReport("edge", "n2", entry("Clean"));
  await reconcile("edge", deps);
  assert.deepEqual(cleanupNodes(), ["n3"], "n2 is done");
  assert.deepEqual(Object.keys(statusOf<S>(cluster, "edge").nodes).sort(), ["n1", "n3"]);

  cluster.agentReport("edge", "n3", entry("Clean"));
  await reconcile("edge", deps);
  assert.equal(cleanupOf(), undefined, "deleted once no node is retained");
  assert.deepEqual(
    cluster.writes.filter((w) => w.verb === "deleteDaemonSet"),
    [{ verb: "deleteDaemonSet", name: "xdp-counter-edge-cleanup", uid: "uid-xdp-counter-edge-cleanup" }],
  );
  status = statusOf<S>(cluster, "edge");
  assert.deepEqual(Object.keys(status.nodes), ["n1"]);

  assert.equal(hash(), countingHash, "the counting DaemonSet's desired hash never changed");
  assert.equal(countingWrites(), before, "and it was never written");
  assert.deepEqual(dsOf().spec.template.spec.nodeSelector, { pool: "edge" });
  assert.equal(dsOf().spec.template.spec.affinity, undefined);
});

test("the cleanup DaemonSet's name held by another owner: left alone and reported while needed, never deleted", async () => {
  const { cluster, deps } = setup();
  cluster.addNode("n1", { pool: "edge" });
  cluster.addNode("n2", { pool: "core" });
  cluster.addXdpCounter({
    metadata: { name: "edge", finalizers: [FINALIZER] },
    spec: { nodeSelector: { pool: "edge" } },
  });
  const foreign = {
    metadata: {
      name: "xdp-counter-edge-cleanup",
      namespace: "xdp",
      uid: "foreign",
      ownerReferences: [
        {
          apiVersion: "xdpcounter.dev/v1alpha1",
          kind: "XdpCounter",
          name: "edge-cleanup",
          uid: "uid-edge-cleanup",
          controller: true,
        },
      ],
    },
  };
  cluster.daemonSets.set("xdp-counter-edge-cleanup", foreign);
  assert.equal((await reconcile("edge", deps)).outcome, ReconcileOutcome.Synced, "not needed: no conflict");
  assert.equal(cluster.writes.filter((w) => w.verb === "deleteDaemonSet").length, 0, "not ours to delete");

  cluster.agentReport("edge", "n2", entry("Counting"));
  const result = await reconcile("edge", deps);
  assert.equal(result.outcome, ReconcileOutcome.DaemonSetConflict);
  assert.ok(result.requeueAfterMs);
  assert.equal(cluster.daemonSets.get("xdp-counter-edge-cleanup"), foreign);
  const ready = statusOf<{ conditions: { type: string; reason: string; message: string }[] }>(
    cluster,
    "edge",
  ).conditions.find((c) => c.type === "Ready");
  assert.equal(ready?.reason, "DaemonSetConflict");
  assert.match(ready?.message ?? "", /xdp-counter-edge-cleanup.*XdpCounter edge-cleanup/);

  cluster.daemonSets.delete("xdp-counter-edge-cleanup");
  assert.equal((await reconcile("edge", deps)).outcome, ReconcileOutcome.Synced);
  assert.ok(cluster.daemonSets.has("xdp-counter-edge-cleanup"));
});

test("deletion: the cleanup DaemonSet stays while deselected nodes clean up, the finalizer waits for them too", async () => {
  const { cluster, deps } = setup();
  cluster.addNode("n1", { pool: "edge" });
  cluster.addNode("n2", { pool: "edge" });
  cluster.addXdpCounter({ metadata: { name: "edge" }, spec: { nodeSelector: { pool: "edge" } } });
  await reconcile("edge", deps);
  cluster.agentReport("edge", "n1", entry("Counting"));
  cluster.agentReport("edge", "n2", entry("Counting"));
  cluster.addNode("n2", { pool: "core" });
  await reconcile("edge", deps);
  const cleanup = () =>
    cluster.daemonSets.get("xdp-counter-edge-cleanup") as unknown as DaemonSet | undefined;
  const cleanupHash = (cleanup()?.metadata as { annotations?: Record<string, string> } | undefined)
    ?.annotations?.[DESIRED_HASH_ANNOTATION];
  assert.ok(cleanupHash);

  cluster.markDeleted("edge");
  const waiting = await reconcile("edge", deps);
  assert.equal(waiting.outcome, ReconcileOutcome.WaitingForClean);
  assert.deepEqual(waiting.waitingFor, ["n1", "n2"]);
  const counting = cluster.daemonSets.get("xdp-counter-edge") as unknown as DaemonSet;
  assert.equal(agentConfigOf(counting).mode, "clean");
  assert.deepEqual(counting.spec.template.spec.nodeSelector, { pool: "edge" });
  assert.equal(
    (cleanup()?.metadata as { annotations?: Record<string, string> } | undefined)?.annotations?.[
      DESIRED_HASH_ANNOTATION
    ],
    cleanupHash,
    "already in clean mode: not rolled by the deletion",
  );

  cluster.agentReport("edge", "n1", entry("Clean"));
  assert.deepEqual((await reconcile("edge", deps)).waitingFor, ["n2"]);
  assert.ok(cleanup(), "n2 still cleaning");

  cluster.agentReport("edge", "n2", entry("Clean"));
  assert.equal((await reconcile("edge", deps)).outcome, ReconcileOutcome.FinalizerRemoved);
  assert.equal(cluster.daemonSets.size, 0, "both collected through their ownerReference");
});

test("foreground deletion: neither DaemonSet is written while the collector deletes them", async () => {
  const { cluster, deps } = setup();
  cluster.addNode("n1", { pool: "core" });
  cluster.addXdpCounter({ metadata: { name: "edge" }, spec: { nodeSelector: { pool: "edge" } } });
  await reconcile("edge", deps);
  cluster.agentReport("edge", "n1", entry("Counting"));
  await reconcile("edge", deps);
  assert.ok(cluster.daemonSets.has("xdp-counter-edge-cleanup"));
  cluster.markDeleted("edge");
  const obj = cluster.xdpCounters.get("edge");
  assert.ok(obj);
  obj.metadata.finalizers = [FINALIZER, "foregroundDeletion"];
  cluster.daemonSets.clear();
  cluster.writes = [];
  await reconcile("edge", deps);
  assert.equal(cluster.writes.filter((w) => w.verb === "apply" || w.verb === "deleteDaemonSet").length, 0);

  const done = cluster.xdpCounters.get("edge");
  assert.ok(done);
  done.metadata.finalizers = [FINALIZER];
  await reconcile("edge", deps);
  assert.ok(cluster.daemonSets.has("xdp-counter-edge"));
  assert.ok(cluster.daemonSets.has("xdp-counter-edge-cleanup"), "n1 still needs its clean-mode agent");
});
