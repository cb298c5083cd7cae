// The operator survives what clusters do to it: its own restart, broken watches, and a resume that the
// server refuses with 410 Gone because its resourceVersion fell out of the watch history.
import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import type { DaemonSet } from "../../operator/daemonset/index.ts";
import { daemonSetsPath } from "../../runtime/kube/index.ts";
import {
  type Cluster,
  eventually,
  NAMESPACE,
  startCluster,
  startController,
  xdpCounterYaml,
} from "./harness.ts";

// One control plane for the file, emptied before each test. Nodes are watched from etcd itself (no watch
// cache), whose history the 410 test compacts.
let cluster: Cluster;
before(async () => {
  cluster = await startCluster({ watchCacheOff: ["nodes"] });
});
beforeEach(async () => {
  await cluster.reset();
});
after(async () => {
  await cluster?.stop();
});

async function apply(name: string, spec: Record<string, unknown>): Promise<void> {
  const res = await cluster.kubectl(["apply", "-f", "-"], xdpCounterYaml(name, spec));
  assert.equal(res.code, 0, res.stderr);
}

type Status = { desiredNodes?: number; reportingNodes?: number; totals?: { packets: { pass: string } } };
async function status(name: string): Promise<Status | undefined> {
  return (await cluster.getXdpCounter(name))?.status as Status | undefined;
}

async function spec(name: string): Promise<Record<string, unknown> | undefined> {
  return (await cluster.agentSpecs())?.[name];
}

async function oneDaemonSet(): Promise<void> {
  assert.equal((await cluster.admin.list(daemonSetsPath(NAMESPACE))).items.length, 1, "one DaemonSet");
}

test("an operator restarted mid-way converges: spec change, node gone, deletion all made while it was down", async (t) => {
  await cluster.addNode("n1");
  await cluster.addNode("n2");
  let operator = await startController(cluster);
  await apply("edge", { action: "pass", reportInterval: "1s" });
  await eventually(async () => (await spec("edge"))?.action === "pass", "the agents' spec");
  await cluster.report("edge", "n1", { packets: { pass: "1" } });
  await cluster.report("edge", "n2", { packets: { pass: "2" } });
  await eventually(async () => (await status("edge"))?.totals?.packets.pass === "3", "both reports summed");
  const ds = await cluster.daemonSet();
  await operator.stop();

  await apply("edge", { action: "drop", reportInterval: "1s" });
  await cluster.deleteNode("n2");
  operator = await startController(cluster);
  await eventually(async () => (await spec("edge"))?.action === "drop", "the updated spec");
  await eventually(async () => {
    const s = await status("edge");
    return s?.desiredNodes === 1 && s.reportingNodes === 1 && s.totals?.packets.pass === "1";
  }, "n2 gone from the status");
  assert.equal((await cluster.daemonSet())?.metadata.resourceVersion, ds?.metadata.resourceVersion);
  await oneDaemonSet();

  await operator.stop();
  const del = await cluster.kubectl(["delete", "xdpc", "edge", "--wait=false"]);
  assert.equal(del.code, 0, del.stderr);
  operator = await startController(cluster);
  t.after(() => operator.stop());
  await eventually(async () => (await spec("edge"))?.mode === "clean", "clean mode");
  assert.ok(await cluster.getXdpCounter("edge"), "kept until n1 has cleaned up");
  await cluster.deleteReport("edge", "n1");
  await eventually(async () => (await cluster.getXdpCounter("edge")) === undefined, "the XdpCounter gone");
  await eventually(async () => (await spec("edge")) === undefined, "its key removed");
  await eventually(async () => !(await cluster.hasAgentLabel("n1")), "n1's label removed");
});

test("watches broken by the server resume, and changes made meanwhile are seen", async (t) => {
  await cluster.addNode("n1");
  const operator = await startController(cluster);
  t.after(() => operator.stop());
  await apply("edge", {});
  await eventually(() => spec("edge"), "the agents' spec");
  const connectsBefore = operator.events.filter((e) => e.type === "connect").length;

  // Like an API server restart: every connection drops and is refused for a moment.
  cluster.proxy.breakAll({ refuse: true });
  await apply("edge", { action: "drop" });
  await cluster.addNode("n2");
  await eventually(
    () => operator.events.some((e) => e.type === "disconnect" && e.informer === "xdpcounters"),
    "a disconnect event",
  );
  cluster.proxy.accept();
  await eventually(async () => (await spec("edge"))?.action === "drop", "the updated spec");
  await eventually(async () => (await status("edge"))?.desiredNodes === 2, "the new node counted");
  await eventually(() => cluster.hasAgentLabel("n2"), "the new node labelled");
  const connects = operator.events.filter((e) => e.type === "connect").length;
  assert.ok(connects >= connectsBefore + 3, "the informers connected again");
  assert.equal(operator.events.filter((e) => e.type === "give-up").length, 0);
  await oneDaemonSet();
});

test("a resume refused with 410 Gone lists afresh, and deletions missed meanwhile are noticed", async (t) => {
  await cluster.addNode("n1");
  await cluster.addNode("n2");
  const operator = await startController(cluster);
  t.after(() => operator.stop());
  await apply("edge", { nodeSelector: { pool: "x" } });
  await eventually(() => spec("edge"), "the agents' spec");
  await apply("edge", {});
  await cluster.report("edge", "n1", {});
  await cluster.report("edge", "n2", {});
  await eventually(async () => (await status("edge"))?.reportingNodes === 2, "two reports");

  cluster.proxy.breakAll({ refuse: true });
  await cluster.deleteNode("n2");
  for (let i = 0; i < 15; i++) await cluster.addNode(`filler-${i}`, { role: "filler" });
  await apply("edge", { nodeSelector: { role: "nothing" }, action: "drop" });
  await apply("edge", { action: "drop" });
  await cluster.compact();
  cluster.proxy.accept();

  await eventually(
    () => operator.events.some((e) => e.type === "gone" && e.informer === "nodes"),
    "a 410 Gone on the nodes watch",
  );
  await eventually(
    () => operator.events.some((e) => e.type === "relist" && e.reason === "gone" && e.informer === "nodes"),
    "a fresh list of nodes",
  );
  await eventually(async () => {
    const s = await status("edge");
    return s?.desiredNodes === 16 && s.reportingNodes === 1;
  }, "every node desired, n2 gone");
  await eventually(async () => {
    const s = await spec("edge");
    return s?.action === "drop" && s.nodeSelector === undefined;
  }, "the updated spec, without the selector");
  await eventually(() => cluster.hasAgentLabel("filler-14"), "the new nodes labelled");
  const ds = (await cluster.daemonSet()) as unknown as DaemonSet;
  assert.deepEqual(ds.spec.template.spec.nodeSelector, { "xdpcounter.dev/agent": "true" });
  await oneDaemonSet();
});
