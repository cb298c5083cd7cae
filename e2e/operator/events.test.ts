// What the operator did and why, where users look: `kubectl describe xdpcounter` (the real kubectl) lists the
// operator's Events, written as events.k8s.io/v1 Events into namespace default and found there by kubectl's
// involvedObject field selectors.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { eventsPath, type KubeObject } from "../../runtime/kube/index.ts";
import {
  applyOnceAccepted,
  type Cluster,
  eventually,
  type InProcessOperator,
  startCluster,
  startController,
  xdpCounterYaml,
} from "./harness.ts";

let cluster: Cluster;
let operator: InProcessOperator;

before(async () => {
  cluster = await startCluster();
  operator = await startController(cluster);
});

after(async () => {
  await operator?.stop();
  await cluster?.stop();
});

/** The Events section of `kubectl describe xdpcounter NAME`. */
async function describedEvents(name: string): Promise<string> {
  const res = await cluster.kubectl(["describe", "xdpcounter", name]);
  assert.equal(res.code, 0, res.stderr);
  return res.stdout.slice(res.stdout.indexOf("\nEvents:"));
}

type StoredEvent = KubeObject & {
  regarding: Record<string, unknown>;
  reportingController: string;
  reportingInstance: string;
  series?: { count?: number };
};

async function storedEvents(): Promise<StoredEvent[]> {
  return (await cluster.admin.list(eventsPath("default"))).items as StoredEvent[];
}

test("kubectl describe shows all nodes counting, then a node not ready", async () => {
  await cluster.addNode("n1");
  await cluster.addNode("n2");
  const apply = await cluster.kubectl(["apply", "-f", "-"], xdpCounterYaml("edge", { reportInterval: "1s" }));
  assert.equal(apply.code, 0, apply.stderr);
  await eventually(() => cluster.daemonSet(), "the agent DaemonSet");
  for (const node of ["n1", "n2"]) {
    await cluster.report("edge", node, {});
    await cluster.agentPod(node, true);
  }
  const counting = await eventually(async () => {
    const out = await describedEvents("edge");
    return /AllNodesCounting/.test(out) && out;
  }, "AllNodesCounting in kubectl describe");
  assert.match(
    counting,
    /Normal\s+AllNodesCounting\s+\S+\s+xdpcounter\.dev\/operator\s+All 2 selected nodes are counting\./,
  );

  await cluster.agentPod("n2", false);
  const lost = await eventually(async () => {
    const out = await describedEvents("edge");
    return /NodesNotReady/.test(out) && out;
  }, "NodesNotReady in kubectl describe");
  assert.match(lost, /Warning\s+NodesNotReady\s+.*1 of 2 nodes counting; not ready: n2\./);

  // Stored in default, in the events.k8s.io/v1 shape, about the cluster-scoped XdpCounter.
  const uid = (await cluster.getXdpCounter("edge"))?.metadata.uid;
  const ready = (await storedEvents()).find((e) => e.reason === "AllNodesCounting");
  assert.ok(ready);
  assert.equal(ready.reportingController, "xdpcounter.dev/operator");
  assert.equal(ready.reportingInstance, "xdp-counter-operator", "the leader election identity");
  assert.equal(ready.regarding.kind, "XdpCounter");
  assert.equal(ready.regarding.uid, uid);
  assert.equal(ready.regarding.namespace, undefined);
});

test("an invalid spec the API server let through is a Warning in kubectl describe", async () => {
  // let through by a CRD older than the operator (without the CEL rule the current one has)
  const restore = await cluster.withOlderCrd();
  try {
    await applyOnceAccepted(cluster, "too-slow", { reportInterval: "2h" });
  } finally {
    await restore();
  }
  const out = await eventually(async () => {
    const text = await describedEvents("too-slow");
    return /InvalidSpec/.test(text) && text;
  }, "InvalidSpec in kubectl describe");
  assert.match(out, /Warning\s+InvalidSpec\s+.*Fix the spec: .*spec\.reportInterval: must be at most 1h/);
  assert.doesNotMatch(out, /AllNodesCounting|NodesNotReady/, "Events of another XdpCounter are not listed");
});

test("the same Event again is counted in its series, not written twice", async () => {
  // Ready flips back and forth: the second NodesNotReady joins the first's series.
  await cluster.agentPod("n2", true);
  await eventually(async () => {
    const list = await storedEvents();
    const ready = list.filter((e) => e.reason === "AllNodesCounting");
    return ready.length === 1 && ready[0]?.series?.count === 2;
  }, "AllNodesCounting again, in its series");
  await cluster.agentPod("n2", false);
  const notReady = await eventually(async () => {
    const list = (await storedEvents()).filter((e) => e.reason === "NodesNotReady");
    return list.length === 1 && list[0]?.series?.count === 2 && list;
  }, "NodesNotReady with series count 2");
  assert.equal(notReady.length, 1);
  const out = await describedEvents("edge");
  assert.match(out, /Warning\s+NodesNotReady\s+\S+ \(x2 over \S+\)/);
});

test("the deletion's end is told: CleanedUp once the last report is gone", async () => {
  const del = await cluster.kubectl(["delete", "xdpc", "edge", "--wait=false"]);
  assert.equal(del.code, 0, del.stderr);
  await cluster.deleteReport("edge", "n1");
  await cluster.deleteReport("edge", "n2");
  await eventually(async () => (await cluster.getXdpCounter("edge")) === undefined, "edge gone");
  await operator.controller.flushEvents();
  const cleaned = await eventually(
    async () => (await storedEvents()).find((e) => e.reason === "CleanedUp"),
    "a CleanedUp Event",
  );
  assert.equal(cleaned.regarding.name, "edge");
  assert.match(String(cleaned.note), /Every node has detached and unpinned; finalizer removed\./);
});
