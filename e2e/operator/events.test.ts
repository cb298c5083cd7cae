// What the operator did and why, where users look: `kubectl describe xdpcounter` (the real kubectl) lists the
// operator's Events, written as events.k8s.io/v1 Events into namespace default and found there by kubectl's
// involvedObject field selectors.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { daemonSetsPath, eventsPath, type KubeObject } from "../../operator/controller/index.ts";
import {
  applyOnceAccepted,
  type Cluster,
  eventually,
  type InProcessOperator,
  NAMESPACE,
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

test("kubectl describe shows the DaemonSet created, all nodes counting, then a node not ready", async () => {
  await cluster.addNode("n1");
  await cluster.addNode("n2");
  const apply = await cluster.kubectl(["apply", "-f", "-"], xdpCounterYaml("edge", {}));
  assert.equal(apply.code, 0, apply.stderr);
  await eventually(
    async () => (await cluster.admin.list(daemonSetsPath(NAMESPACE))).items.length === 1,
    "the DaemonSet",
  );
  for (const node of ["n1", "n2"]) {
    await cluster.report("edge", node, {});
    await cluster.agentPod("edge", node, true);
  }
  const counting = await eventually(async () => {
    const out = await describedEvents("edge");
    return /AllNodesCounting/.test(out) && out;
  }, "AllNodesCounting in kubectl describe");
  assert.match(
    counting,
    /Normal\s+DaemonSetCreated\s+\S+\s+xdpcounter\.dev\/operator\s+Created DaemonSet xdp-counter\/xdp-counter-edge for the agents\./,
  );
  assert.match(counting, /Normal\s+AllNodesCounting\s+.*All 2 selected nodes are counting\./);

  await cluster.agentPod("edge", "n2", false);
  const lost = await eventually(async () => {
    const out = await describedEvents("edge");
    return /NodesNotReady/.test(out) && out;
  }, "NodesNotReady in kubectl describe");
  assert.match(lost, /Warning\s+NodesNotReady\s+.*1 of 2 nodes counting; not ready: n2\./);

  // Stored in default, in the events.k8s.io/v1 shape, about the cluster-scoped XdpCounter.
  const uid = (await cluster.getXdpCounter("edge"))?.metadata.uid;
  const stored = (await cluster.admin.list(eventsPath("default"))).items as (KubeObject & {
    regarding: Record<string, unknown>;
    reportingController: string;
    reportingInstance: string;
  })[];
  const created = stored.find((e) => e.reason === "DaemonSetCreated");
  assert.ok(created);
  assert.equal(created.reportingController, "xdpcounter.dev/operator");
  assert.equal(created.reportingInstance, "xdp-counter-operator", "the leader election identity");
  assert.equal(created.regarding.kind, "XdpCounter");
  assert.equal(created.regarding.uid, uid);
  assert.equal(created.regarding.namespace, undefined);
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
  assert.doesNotMatch(out, /DaemonSetCreated/, "Events of another XdpCounter are not listed");
});

test("the same Event again is counted in its series, not written twice", async () => {
  // Ready flips back and forth: the second NodesNotReady joins the first's series.
  await cluster.agentPod("edge", "n2", true);
  await eventually(async () => {
    const list = (await cluster.admin.list(eventsPath("default"))).items;
    return list.filter((e) => e.reason === "AllNodesCounting").length === 1 && list;
  }, "AllNodesCounting in its series");
  await cluster.agentPod("edge", "n2", false);
  const notReady = await eventually(async () => {
    const list = (await cluster.admin.list(eventsPath("default"))).items.filter(
      (e) => e.reason === "NodesNotReady",
    );
    const series = list[0]?.series as { count?: number } | undefined;
    return list.length === 1 && series?.count === 2 && list;
  }, "NodesNotReady with series count 2");
  assert.equal(notReady.length, 1);
  const out = await describedEvents("edge");
  assert.match(out, /Warning\s+NodesNotReady\s+\S+ \(x2 over \S+\)/);
});
