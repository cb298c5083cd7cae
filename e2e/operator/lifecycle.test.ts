// The operator against the project's test API server, driven with the real kubectl: create, update,
// status aggregation, node removal, deletion through clean mode.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { daemonSetsPath, type KubeObject, xdpCountersPath } from "../../operator/controller/index.ts";
import type { DaemonSet } from "../../operator/daemonset/index.ts";
import { FINALIZER } from "../../operator/finalizer/index.ts";
import {
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
  await cluster.addNode("node-a", { pool: "edge" });
  await cluster.addNode("node-b", { pool: "edge" });
  await cluster.addNode("node-c", { pool: "core" });
  operator = await startController(cluster);
});

after(async () => {
  await operator?.stop();
  await cluster?.stop();
});

async function daemonSets(): Promise<KubeObject[]> {
  return (await cluster.admin.list(daemonSetsPath(NAMESPACE))).items;
}

function agentConfig(ds: KubeObject): Record<string, unknown> {
  const container = (ds as unknown as DaemonSet).spec.template.spec.containers[0];
  const env = container?.env.find((e) => e.name === "XDP_COUNTER_CONFIG");
  assert.ok(env && "value" in env, "the DaemonSet carries the agent configuration");
  return JSON.parse(env.value) as Record<string, unknown>;
}

async function jsonpath(name: string, path: string): Promise<string> {
  const res = await cluster.kubectl(["get", "xdpc", name, "-o", `jsonpath={${path}}`]);
  assert.equal(res.code, 0, res.stderr);
  return res.stdout;
}

test("kubectl apply of an XdpCounter makes exactly one owned DaemonSet with the right spec", async () => {
  const res = await cluster.kubectl(
    ["apply", "-f", "-"],
    xdpCounterYaml("edge", { nodeSelector: { pool: "edge" }, interfaces: ["eth*"], reportInterval: "5s" }),
  );
  assert.equal(res.code, 0, res.stderr);
  const [ds] = await eventually(async () => {
    const list = await daemonSets();
    return list.length > 0 && list;
  }, "the DaemonSet");
  assert.ok(ds);
  const xdpc = await cluster.getXdpCounter("edge");
  assert.ok(xdpc);
  assert.equal(ds.metadata.name, "xdp-counter-edge");
  assert.deepEqual(ds.metadata.ownerReferences, [
    {
      apiVersion: "xdpcounter.dev/v1alpha1",
      kind: "XdpCounter",
      name: "edge",
      uid: xdpc.metadata.uid,
      controller: true,
      blockOwnerDeletion: true,
    },
  ]);
  const spec = (ds as unknown as DaemonSet).spec;
  assert.deepEqual(spec.template.spec.nodeSelector, { pool: "edge" });
  assert.equal(spec.template.spec.containers[0]?.image, "xdp-counter:e2e");
  const config = agentConfig(ds);
  assert.equal(config.mode, "count");
  assert.deepEqual(config.interfaces, ["eth*"]);
  assert.equal(config.reportIntervalMs, 5_000);
  assert.deepEqual(xdpc.metadata.finalizers, [FINALIZER]);
  assert.equal(
    await eventually(async () => (await jsonpath("edge", ".status.desiredNodes")) || undefined, "status"),
    "2",
  );
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await daemonSets()).length, 1, "exactly one DaemonSet");
});

test("a spec change updates the DaemonSet; unrelated changes cause no operator writes", async () => {
  const res = await cluster.kubectl(
    ["apply", "-f", "-"],
    xdpCounterYaml("edge", {
      nodeSelector: { pool: "edge" },
      interfaces: ["eth*", "ens5"],
      action: "drop",
      reportInterval: "5s",
    }),
  );
  assert.equal(res.code, 0, res.stderr);
  await eventually(async () => {
    const [ds] = await daemonSets();
    return (
      ds && agentConfig(ds).action === "drop" && (agentConfig(ds).interfaces as string[]).includes("ens5")
    );
  }, "the updated DaemonSet");
  await eventually(
    async () => (await jsonpath("edge", ".status.observedGeneration")) === "2",
    "observedGeneration 2",
  );
  await new Promise((r) => setTimeout(r, 300));

  const writesBefore = cluster.operatorWrites().length;
  const rvBefore = (await daemonSets())[0]?.metadata.resourceVersion;
  const label = await cluster.kubectl(["label", "xdpc", "edge", "team=net"]);
  assert.equal(label.code, 0, label.stderr);
  const annotate = await cluster.kubectl(["annotate", "node", "node-a", "note=heartbeat-like"]);
  assert.equal(annotate.code, 0, annotate.stderr);
  await new Promise((r) => setTimeout(r, 700));
  assert.deepEqual(cluster.operatorWrites().slice(writesBefore), [], "no writes for unrelated changes");
  assert.equal((await daemonSets())[0]?.metadata.resourceVersion, rvBefore);
});

test("node entries written concurrently both survive; totals are their exact sum above 2^53", async () => {
  const big = "9007199254740993"; // 2^53 + 1
  const bigger = "18446744073709551000";
  // node-a's agent writes as agents did before zero actions were left out; node-b's as they do now
  const counters = (pass: string) => ({ aborted: "0", drop: "1", pass, tx: "0", redirect: "0" });
  const sparse = (pass: string) => ({ drop: "1", pass });
  await Promise.all([
    cluster.report("edge", "node-a", { packets: counters(big), bytes: counters(bigger) }),
    cluster.report("edge", "node-b", { packets: sparse("7"), bytes: sparse("1000") }),
    cluster.agentPod("edge", "node-a"),
    cluster.agentPod("edge", "node-b"),
  ]);
  const expectedPackets = (BigInt(big) + 7n).toString();
  await eventually(
    async () => (await jsonpath("edge", ".status.totals.packets.pass")) === expectedPackets,
    "exact totals",
  );
  assert.equal(await jsonpath("edge", ".status.nodes.node-a.packets.pass"), big);
  assert.equal(await jsonpath("edge", ".status.nodes.node-b.packets.pass"), "7");
  assert.equal(await jsonpath("edge", ".status.totals.packets.drop"), "2");
  assert.equal(await jsonpath("edge", ".status.nodes.node-b.packets.tx"), "", "left out");
  assert.equal(await jsonpath("edge", ".status.totals.packets.tx"), "0", "the totals carry all five actions");
  // The byte sum exceeds 2^64-1 and stops there rather than failing the write.
  assert.equal(await jsonpath("edge", ".status.totals.bytes.pass"), "18446744073709551615");
  assert.equal(await jsonpath("edge", ".status.readyNodes"), "2");
  assert.equal(await jsonpath("edge", '.status.conditions[?(@.type=="Ready")].reason'), "AllNodesCounting");
});

test("a node is ready while its agent pod is: no heartbeat needed, a NotReady pod shows at once", async () => {
  await cluster.agentPod("edge", "node-b", false);
  await eventually(async () => (await jsonpath("edge", ".status.readyNodes")) === "1", "node-b not ready");
  assert.equal(await jsonpath("edge", '.status.conditions[?(@.type=="Ready")].reason'), "NodesNotReady");
  assert.match(
    await jsonpath("edge", '.status.conditions[?(@.type=="Ready")].message'),
    /1 of 2 nodes counting; not ready: node-b\./,
  );
  assert.equal(await jsonpath("edge", ".status.totals.packets.pass"), (9007199254740993n + 7n).toString());
  await cluster.agentPod("edge", "node-b", true);
  await eventually(async () => (await jsonpath("edge", ".status.readyNodes")) === "2", "node-b ready again");
  // Nothing ages: while nothing changes, the node stays ready and the operator writes nothing.
  const writes = cluster.operatorWrites().length;
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(await jsonpath("edge", ".status.readyNodes"), "2");
  assert.deepEqual(cluster.operatorWrites().slice(writes), [], "no operator writes while nothing changes");
});

test("an upgraded agent's first write removes the zero actions of its old entry", async () => {
  await cluster.report("edge", "node-a", {
    packets: { drop: "1", pass: "9007199254740993" },
    bytes: { drop: "1", pass: "18446744073709551000" },
  });
  await eventually(
    async () => (await jsonpath("edge", ".status.nodes.node-a.packets.aborted")) === "",
    "node-a's zeros removed",
  );
  assert.deepEqual(JSON.parse(await jsonpath("edge", ".status.nodes.node-a.packets")), {
    drop: "1",
    pass: "9007199254740993",
  });
  assert.equal(await jsonpath("edge", ".status.totals.packets.pass"), (9007199254740993n + 7n).toString());
  assert.equal(await jsonpath("edge", ".status.totals.packets.aborted"), "0");
});

test("a Node removed: its entry is removed and the totals follow", async () => {
  await cluster.deleteNode("node-b");
  await eventually(
    async () => (await jsonpath("edge", ".status.nodes.node-b")) === "",
    "node-b's entry removed",
  );
  assert.equal(await jsonpath("edge", ".status.totals.packets.pass"), "9007199254740993");
  assert.equal(await jsonpath("edge", ".status.desiredNodes"), "1");
});

test("delete: the XdpCounter stays until every node entry is Clean, agents in clean mode, then all is gone", async () => {
  await cluster.addNode("node-d", { pool: "edge" });
  await cluster.report("edge", "node-d", {});
  const del = await cluster.kubectl(["delete", "xdpc", "edge", "--wait=false"]);
  assert.equal(del.code, 0, del.stderr);
  await eventually(async () => {
    const [ds] = await daemonSets();
    return ds && agentConfig(ds).mode === "clean";
  }, "clean mode in the DaemonSet");
  assert.equal(await jsonpath("edge", '.status.conditions[?(@.type=="Ready")].reason'), "Deleting");

  await cluster.report("edge", "node-a", { phase: "Cleaning" });
  await cluster.report("edge", "node-d", { phase: "Clean" });
  await new Promise((r) => setTimeout(r, 500));
  const still = await cluster.getXdpCounter("edge");
  assert.ok(still, "kept while node-a is still cleaning");
  assert.deepEqual(still.metadata.finalizers, [FINALIZER]);
  assert.equal((await daemonSets()).length, 1);

  await cluster.report("edge", "node-a", { phase: "Clean" });
  await eventually(async () => (await cluster.getXdpCounter("edge")) === undefined, "the XdpCounter gone");
  await eventually(async () => (await daemonSets()).length === 0, "the DaemonSet collected");
  const get = await cluster.kubectl(["get", "xdpc", "edge"]);
  assert.notEqual(get.code, 0);
  assert.match(get.stderr, /NotFound|not found/);
  assert.equal((await cluster.admin.get(xdpCountersPath("edge"))) === undefined, true);
});

test("foreground delete: the collector removes the DaemonSet, the operator brings it back in clean mode", async () => {
  const res = await cluster.kubectl(
    ["apply", "-f", "-"],
    xdpCounterYaml("fg", { nodeSelector: { pool: "core" } }),
  );
  assert.equal(res.code, 0, res.stderr);
  await eventually(
    async () => (await daemonSets()).some((d) => d.metadata.name === "xdp-counter-fg"),
    "fg's DaemonSet",
  );
  await cluster.report("fg", "node-c", {});
  const before = (await daemonSets()).find((d) => d.metadata.name === "xdp-counter-fg")?.metadata.uid;
  const del = await cluster.kubectl(["delete", "xdpc", "fg", "--cascade=foreground", "--wait=false"]);
  assert.equal(del.code, 0, del.stderr);
  await eventually(async () => {
    const ds = (await daemonSets()).find((d) => d.metadata.name === "xdp-counter-fg");
    return ds && !ds.metadata.deletionTimestamp && agentConfig(ds).mode === "clean" && ds.metadata.uid;
  }, "fg's DaemonSet in clean mode");
  const after = (await daemonSets()).find((d) => d.metadata.name === "xdp-counter-fg")?.metadata.uid;
  assert.notEqual(after, before, "a new DaemonSet, made after the collector deleted the old one");
  const xdpc = await cluster.getXdpCounter("fg");
  assert.deepEqual(xdpc?.metadata.finalizers, [FINALIZER], "the collector is done, our finalizer holds");
  await cluster.report("fg", "node-c", { phase: "Clean" });
  await eventually(async () => (await cluster.getXdpCounter("fg")) === undefined, "fg gone");
  await eventually(async () => (await daemonSets()).length === 0, "fg's DaemonSet collected");
});

test("a field taken out of the spec is taken out of the DaemonSet (server-side apply drops it)", async () => {
  const withSelector = await cluster.kubectl(
    ["apply", "-f", "-"],
    xdpCounterYaml("sel", { nodeSelector: { pool: "edge" }, tolerations: [{ operator: "Exists" }] }),
  );
  assert.equal(withSelector.code, 0, withSelector.stderr);
  const selected = async () => {
    const ds = (await daemonSets()).find((d) => d.metadata.name === "xdp-counter-sel") as unknown as
      | DaemonSet
      | undefined;
    return ds?.spec.template.spec;
  };
  await eventually(async () => (await selected())?.nodeSelector?.pool === "edge", "nodeSelector applied");
  const without = await cluster.kubectl(["apply", "-f", "-"], xdpCounterYaml("sel", {}));
  assert.equal(without.code, 0, without.stderr);
  await eventually(async () => {
    const spec = await selected();
    // An empty map selects every node, as an absent one does (the test server leaves `{}` behind).
    return spec && Object.keys(spec.nodeSelector ?? {}).length === 0 && spec.tolerations === undefined;
  }, "nodeSelector and tolerations removed");
});
