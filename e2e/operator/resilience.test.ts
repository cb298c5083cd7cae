// The operator survives what clusters do to it: its own restart, broken watches, and a resume that the
// server refuses with 410 Gone because its resourceVersion fell out of the watch history.
import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import { daemonSetsPath, type KubeObject } from "../../operator/controller/index.ts";
import type { DaemonSet } from "../../operator/daemonset/index.ts";
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

async function theDaemonSet(cluster: Cluster): Promise<KubeObject | undefined> {
  const { items } = await cluster.admin.list(daemonSetsPath(NAMESPACE));
  assert.ok(items.length <= 1, "at most one DaemonSet");
  return items[0];
}

function agentConfig(ds: KubeObject | undefined): Record<string, unknown> {
  const env = (ds as unknown as DaemonSet | undefined)?.spec.template.spec.containers[0]?.env.find(
    (e) => e.name === "XDP_COUNTER_CONFIG",
  );
  return env && "value" in env ? (JSON.parse(env.value) as Record<string, unknown>) : {};
}

async function apply(cluster: Cluster, name: string, spec: Record<string, unknown>): Promise<void> {
  const res = await cluster.kubectl(["apply", "-f", "-"], xdpCounterYaml(name, spec));
  assert.equal(res.code, 0, res.stderr);
}

async function desiredNodes(cluster: Cluster, name: string): Promise<number | undefined> {
  const xdpc = await cluster.getXdpCounter(name);
  return (xdpc?.status as { desiredNodes?: number } | undefined)?.desiredNodes;
}

async function nodeNames(cluster: Cluster, name: string): Promise<string[]> {
  const xdpc = await cluster.getXdpCounter(name);
  return Object.keys((xdpc?.status as { nodes?: object } | undefined)?.nodes ?? {}).sort();
}

test("an operator restarted mid-way converges: spec change, node gone, deletion all made while it was down", async (t) => {
  await cluster.addNode("n1");
  await cluster.addNode("n2");
  let operator = await startController(cluster);
  await apply(cluster, "edge", { action: "pass" });
  await eventually(async () => agentConfig(await theDaemonSet(cluster)).action === "pass", "the DaemonSet");
  await cluster.report("edge", "n1", {});
  await cluster.report("edge", "n2", {});
  await operator.stop();

  await apply(cluster, "edge", { action: "drop" });
  await cluster.deleteNode("n2");
  operator = await startController(cluster);
  await eventually(
    async () => agentConfig(await theDaemonSet(cluster)).action === "drop",
    "the updated DaemonSet",
  );
  await eventually(async () => (await nodeNames(cluster, "edge")).join() === "n1", "n2's entry removed");

  await operator.stop();
  const del = await cluster.kubectl(["delete", "xdpc", "edge", "--wait=false"]);
  assert.equal(del.code, 0, del.stderr);
  operator = await startController(cluster);
  t.after(() => operator.stop());
  await eventually(async () => agentConfig(await theDaemonSet(cluster)).mode === "clean", "clean mode");
  assert.ok(await cluster.getXdpCounter("edge"), "kept until n1 is clean");
  await cluster.report("edge", "n1", { phase: "Clean" });
  await eventually(async () => (await cluster.getXdpCounter("edge")) === undefined, "the XdpCounter gone");
  await eventually(async () => (await theDaemonSet(cluster)) === undefined, "the DaemonSet collected");
});

test("watches broken by the server resume, and changes made meanwhile are seen", async (t) => {
  await cluster.addNode("n1");
  const operator = await startController(cluster);
  t.after(() => operator.stop());
  await apply(cluster, "edge", {});
  await eventually(async () => (await theDaemonSet(cluster)) !== undefined, "the DaemonSet");
  const connectsBefore = operator.events.filter((e) => e.type === "connect").length;

  // Like an API server restart: every connection drops and is refused for a moment.
  cluster.proxy.breakAll({ refuse: true });
  await apply(cluster, "edge", { action: "drop" });
  await cluster.addNode("n2");
  await eventually(
    () => operator.events.some((e) => e.type === "disconnect" && e.informer === "xdpcounters"),
    "a disconnect event",
  );
  cluster.proxy.accept();
  await eventually(
    async () => agentConfig(await theDaemonSet(cluster)).action === "drop",
    "the updated DaemonSet",
  );
  await eventually(async () => (await desiredNodes(cluster, "edge")) === 2, "the new node counted");
  const connects = operator.events.filter((e) => e.type === "connect").length;
  assert.ok(connects >= connectsBefore + 3, "each informer connected again");
  assert.equal(operator.events.filter((e) => e.type === "give-up").length, 0);
});

test("a resume refused with 410 Gone lists afresh, and deletions missed meanwhile are noticed", async (t) => {
  await cluster.addNode("n1");
  await cluster.addNode("n2");
  const operator = await startController(cluster);
  t.after(() => operator.stop());
  await apply(cluster, "edge", {});
  await cluster.report("edge", "n1", {});
  await cluster.report("edge", "n2", {});
  await eventually(async () => (await nodeNames(cluster, "edge")).join() === "n1,n2", "two entries");

  cluster.proxy.breakAll({ refuse: true });
  await cluster.deleteNode("n2");
  for (let i = 0; i < 15; i++) await cluster.addNode(`filler-${i}`, { role: "filler" });
  await apply(cluster, "edge", { nodeSelector: { kubernetes_io_role: "x" }, action: "drop" });
  await apply(cluster, "edge", { action: "drop" });
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
  await eventually(
    async () => (await nodeNames(cluster, "edge")).join() === "n1",
    "n2's entry removed after the relist",
  );
  await eventually(
    async () => agentConfig(await theDaemonSet(cluster)).action === "drop",
    "the updated DaemonSet",
  );
  const ds = (await theDaemonSet(cluster)) as unknown as DaemonSet;
  assert.equal(
    ds.spec.template.spec.nodeSelector,
    undefined,
    "server-side apply removed the dropped nodeSelector",
  );
  await eventually(async () => (await desiredNodes(cluster, "edge")) === 16, "every node counted");
});
