// The whole operator (startOperator, as `xdp-counter operator` runs it, in-process) on the real API server,
// driven with the real kubectl (docs/adr/0021, 0022): the one agent DaemonSet owned by the operator's
// Deployment, the agents' ConfigMap of specs, the node label, reports summed into the status (exactly, at most
// once per interval), a node removed or deselected, deletion through the agents' clean-up, and the reports of a
// deleted XdpCounter.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { DaemonSet } from "../../operator/daemonset/index.ts";
import { FINALIZER } from "../../operator/finalizer/index.ts";
import type { RunningOperator } from "../../operator/run-operator.ts";
import { daemonSetsPath, deploymentsPath, xdpCountersPath } from "../../runtime/kube/index.ts";
import {
  AGENT_DAEMONSET,
  type Cluster,
  eventually,
  NAMESPACE,
  startCluster,
  startWholeOperator,
  xdpCounterYaml,
} from "./harness.ts";

const DEPLOYMENT = "xdp-counter-operator";
let cluster: Cluster;
let operator: RunningOperator;
let deploymentUid: string;

before(async () => {
  cluster = await startCluster();
  await cluster.addNode("node-a", { pool: "edge" });
  await cluster.addNode("node-b", { pool: "edge" });
  await cluster.addNode("node-c", { pool: "core" });
  // The operator's own Deployment, as the chart makes it (no Deployment controller runs: it stays an object).
  const labels = { app: "xdp-counter-operator" };
  const deployment = await cluster.admin.create(deploymentsPath(NAMESPACE), {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: DEPLOYMENT },
    spec: {
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: "operator", image: "xdp-counter:e2e" }] },
      },
    },
  });
  deploymentUid = deployment.metadata.uid ?? "";
  ({ operator } = await startWholeOperator(cluster, { XDP_COUNTER_OWNER_DEPLOYMENT: DEPLOYMENT }));
});

after(async () => {
  await operator?.stop();
  await cluster?.stop();
});

async function jsonpath(name: string, path: string): Promise<string> {
  const res = await cluster.kubectl(["get", "xdpc", name, "-o", `jsonpath={${path}}`]);
  assert.equal(res.code, 0, res.stderr);
  return res.stdout;
}

async function apply(name: string, spec: Record<string, unknown>): Promise<void> {
  const res = await cluster.kubectl(["apply", "-f", "-"], xdpCounterYaml(name, spec));
  assert.equal(res.code, 0, res.stderr);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const ownedByTheDeployment = () => [
  {
    apiVersion: "apps/v1",
    kind: "Deployment",
    name: DEPLOYMENT,
    uid: deploymentUid,
    controller: true,
  },
];

test("kubectl apply of an XdpCounter: the one agent DaemonSet, the agents' spec and the label on selected nodes", async () => {
  await apply("edge", { nodeSelector: { pool: "edge" }, interfaces: ["eth*"], reportInterval: "5s" });
  const ds = (await eventually(() => cluster.daemonSet(), "the agent DaemonSet")) as unknown as DaemonSet;
  assert.equal(ds.metadata.name, AGENT_DAEMONSET);
  assert.deepEqual(ds.metadata.ownerReferences, ownedByTheDeployment(), "owned by the operator's Deployment");
  const pod = ds.spec.template.spec;
  assert.deepEqual(pod.nodeSelector, { "xdpcounter.dev/agent": "true" });
  assert.deepEqual(pod.tolerations, [{ operator: "Exists" }]);
  assert.equal(pod.containers[0]?.image, "xdp-counter:e2e");

  const specs = await eventually(
    async () => (await cluster.agentSpecs())?.edge && cluster.agentSpecs(),
    "spec",
  );
  const xdpc = await cluster.getXdpCounter("edge");
  assert.ok(specs && xdpc);
  assert.deepEqual(Object.keys(specs), ["edge"]);
  assert.equal(specs.edge?.mode, "count");
  assert.equal(specs.edge?.uid, xdpc.metadata.uid);
  assert.equal(specs.edge?.generation, 1);
  assert.deepEqual(specs.edge?.interfaces, ["eth*"]);
  assert.equal(specs.edge?.reportIntervalMs, 5_000);
  assert.deepEqual(specs.edge?.nodeSelector, { pool: "edge" });
  const cm = await cluster.admin.get(`/api/v1/namespaces/${NAMESPACE}/configmaps/xdp-counter-agent-specs`);
  assert.deepEqual(cm?.metadata.ownerReferences, ownedByTheDeployment(), "the ConfigMap too");

  await eventually(
    async () => (await cluster.hasAgentLabel("node-a")) && (await cluster.hasAgentLabel("node-b")),
    "the agent label on the selected nodes",
  );
  assert.equal(await cluster.hasAgentLabel("node-c"), false, "not on a node nothing selects");
  assert.deepEqual(xdpc.metadata.finalizers, [FINALIZER]);
  assert.equal(
    await eventually(async () => (await jsonpath("edge", ".status.desiredNodes")) || undefined, "status"),
    "2",
  );
  await sleep(300);
  assert.equal((await cluster.admin.list(daemonSetsPath(NAMESPACE))).items.length, 1, "one DaemonSet");
});

test("a spec change rewrites only the ConfigMap: the DaemonSet is untouched; unrelated changes write nothing", async () => {
  const before = await cluster.daemonSet();
  assert.ok(before);
  await apply("edge", {
    nodeSelector: { pool: "edge" },
    interfaces: ["eth*", "ens5"],
    action: "drop",
    reportInterval: "5s",
  });
  await eventually(async () => {
    const specs = await cluster.agentSpecs();
    return specs?.edge?.action === "drop" && specs.edge.generation === 2;
  }, "the updated spec in the ConfigMap");
  await eventually(
    async () => (await jsonpath("edge", ".status.observedGeneration")) === "2",
    "observedGeneration 2",
  );
  const after = await cluster.daemonSet();
  assert.equal(after?.metadata.generation, before.metadata.generation, "the agents do not roll");
  assert.equal(after?.metadata.resourceVersion, before.metadata.resourceVersion, "not even rewritten");
  await sleep(300);

  const writesBefore = cluster.operatorWrites().length;
  const label = await cluster.kubectl(["label", "xdpc", "edge", "team=net"]);
  assert.equal(label.code, 0, label.stderr);
  const annotate = await cluster.kubectl(["annotate", "node", "node-a", "note=heartbeat-like"]);
  assert.equal(annotate.code, 0, annotate.stderr);
  await sleep(700);
  assert.deepEqual(cluster.operatorWrites().slice(writesBefore), [], "no writes for unrelated changes");
});

test("a second XdpCounter: still one DaemonSet, a second key in the ConfigMap, its nodes labelled", async () => {
  const before = await cluster.daemonSet();
  await apply("core", { nodeSelector: { pool: "core" } });
  await eventually(async () => (await cluster.hasAgentLabel("node-c")) || undefined, "node-c labelled");
  const specs = await cluster.agentSpecs();
  assert.deepEqual(Object.keys(specs ?? {}).sort(), ["core", "edge"]);
  assert.equal(specs?.core?.mode, "count");
  assert.equal(specs?.edge?.action, "drop", "edge's key unchanged");
  assert.equal((await cluster.admin.list(daemonSetsPath(NAMESPACE))).items.length, 1);
  assert.equal((await cluster.daemonSet())?.metadata.resourceVersion, before?.metadata.resourceVersion);
  assert.equal(
    await eventually(
      async () => (await jsonpath("core", ".status.desiredNodes")) || undefined,
      "core status",
    ),
    "1",
  );
});

test("reports are summed into the status: exact totals above 2^53, rates summed, readiness from the pods", async () => {
  const big = "9007199254740993"; // 2^53 + 1
  const bigger = "18446744073709551000";
  await Promise.all([
    cluster.report("edge", "node-a", {
      packets: { drop: "1", pass: big },
      bytes: { drop: "1", pass: bigger },
      interfaces: [{ name: "eth0", mode: "native", attached: true, packets: { pass: big }, bytes: {} }],
      rates: { packetsPerSecond: { pass: 1.5 }, bitsPerSecond: { pass: 1000 }, seconds: 5 },
    }),
    cluster.report("edge", "node-b", {
      packets: { drop: "1", pass: "7" },
      bytes: { drop: "1", pass: "1000" },
      interfaces: [{ name: "eth0", mode: "native", attached: true, packets: { pass: "7" }, bytes: {} }],
      rates: { packetsPerSecond: { pass: 2.25, drop: 0.5 }, bitsPerSecond: { pass: 24 }, seconds: 5 },
    }),
    cluster.agentPod("node-a"),
    cluster.agentPod("node-b"),
  ]);
  const expectedPackets = (BigInt(big) + 7n).toString();
  await eventually(
    async () =>
      (await jsonpath("edge", ".status.totals.packets.pass")) === expectedPackets &&
      (await jsonpath("edge", ".status.readyNodes")) === "2",
    "exact totals, both nodes ready",
    15_000,
  );
  assert.equal(await jsonpath("edge", ".status.totals.packets.drop"), "2");
  assert.equal(await jsonpath("edge", ".status.totals.packets.tx"), "0", "the totals carry all five actions");
  // The byte sum exceeds 2^64-1 and stops there rather than failing the write.
  assert.equal(await jsonpath("edge", ".status.totals.bytes.pass"), "18446744073709551615");
  assert.equal(await jsonpath("edge", ".status.rates.packetsPerSecond.pass"), "3.75");
  assert.equal(await jsonpath("edge", ".status.rates.packetsPerSecond.drop"), "0.5");
  assert.equal(await jsonpath("edge", ".status.rates.totalPacketsPerSecond"), "4.25");
  assert.equal(await jsonpath("edge", ".status.rates.totalBitsPerSecond"), "1024");
  assert.equal(await jsonpath("edge", ".status.reportingNodes"), "2");
  assert.equal(await jsonpath("edge", ".status.interfaces"), "eth0/native=2");
  assert.equal(await jsonpath("edge", '.status.conditions[?(@.type=="Ready")].reason'), "AllNodesCounting");
  assert.equal(await jsonpath("edge", ".status.nodes"), "", "no per-node entries in the status");
  // kubectl get xdpc: nodes ready and desired, the total packets/s, the exact totals
  const table = await cluster.kubectl(["get", "xdpc", "edge"]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^NAME\s+READY\s+DESIRED\s+PACKETS\/S\s+PASS\s+DROP\s/);
  assert.match(table.stdout, new RegExp(`\\nedge\\s+2\\s+2\\s+4\\.25\\s+${expectedPackets}\\s+2\\s`));
  // the per-node view
  const list = await cluster.kubectl(["get", "xdpcr", "-l", "xdpcounter.dev/xdpcounter=edge", "-o", "name"]);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(list.stdout.trim().split("\n").sort(), [
    "xdpcounterreport.xdpcounter.dev/edge.node-a",
    "xdpcounterreport.xdpcounter.dev/edge.node-b",
  ]);
});

test("a node is ready while its agent pod is; while nothing changes the operator writes nothing", async () => {
  await cluster.agentPod("node-b", false);
  await eventually(async () => (await jsonpath("edge", ".status.readyNodes")) === "1", "node-b not ready");
  assert.equal(await jsonpath("edge", '.status.conditions[?(@.type=="Ready")].reason'), "NodesNotReady");
  assert.match(
    await jsonpath("edge", '.status.conditions[?(@.type=="Ready")].message'),
    /1 of 2 nodes counting; not ready: node-b\./,
  );
  await cluster.agentPod("node-b", true);
  await eventually(async () => (await jsonpath("edge", ".status.readyNodes")) === "2", "node-b ready again");
  // The status write that says so is followed by its Event (a PATCH of the series begun when both nodes were
  // first ready), and the audit log has each a moment after its answer: the count is taken once it holds
  // still for a second. An operator that kept writing would never hold still, and this would time out.
  let writes = cluster.operatorWrites().length;
  for (const deadline = Date.now() + 15_000; ; ) {
    await sleep(1_000);
    const now = cluster.operatorWrites().length;
    if (now === writes) break;
    assert.ok(Date.now() < deadline, `the operator kept writing: ${now - writes} writes in the last second`);
    writes = now;
  }
  await sleep(1_500);
  assert.deepEqual(cluster.operatorWrites().slice(writes), [], "no operator writes while nothing changes");
});

test("the status is written at most once per reportInterval while reports change every 100 ms, and not at all while they don't", async () => {
  await apply("fast", { nodeSelector: { pool: "core" }, reportInterval: "1s" });
  await eventually(async () => (await jsonpath("fast", ".status.desiredNodes")) === "1", "fast's status");
  await cluster.report("fast", "node-c", { packets: { pass: "1" } });
  await eventually(
    async () => (await jsonpath("fast", ".status.totals.packets.pass")) === "1",
    "first report",
  );
  await sleep(1_100);

  const before = cluster.statusWrites("fast");
  const start = Date.now();
  let pass = 1;
  while (Date.now() - start < 3_000) {
    pass++;
    await cluster.report("fast", "node-c", { packets: { pass: String(pass) } });
    await sleep(100);
  }
  const during = cluster.statusWrites("fast") - before;
  assert.ok(pass >= 20, `the reports changed ${pass} times`);
  assert.ok(during >= 2, `the status followed (${during} writes)`);
  assert.ok(during <= 4, `at most one status write per second: ${during} in 3 s`);
  await eventually(
    async () => (await jsonpath("fast", ".status.totals.packets.pass")) === String(pass),
    "the last report in the status",
  );
  await sleep(1_100);
  const settled = cluster.statusWrites("fast");
  await sleep(2_500);
  assert.equal(cluster.statusWrites("fast") - settled, 0, "no status write while nothing changes");
});

test("a Node deleted: its report goes (owned by the Node) and the totals follow", async (t) => {
  await cluster.deleteNode("node-b");
  await eventually(async () => (await cluster.reports("edge")).length === 1, "node-b's report deleted");
  await eventually(
    async () => (await jsonpath("edge", ".status.totals.packets.pass")) === "9007199254740993",
    "the totals without node-b",
  );
  assert.equal(await jsonpath("edge", ".status.desiredNodes"), "1");
  assert.equal(await jsonpath("edge", ".status.reportingNodes"), "1");
  const deleter = cluster
    .requests()
    .find((r) => r.method === "DELETE" && r.url.includes("/xdpcounterreports/edge.node-b") && r.status < 300);
  assert.ok(deleter, "someone deleted it");
  // the garbage collector (its owner, the Node, is gone) or the operator (a report of a node that is gone)
  t.diagnostic(`node-b's report deleted by ${deleter.user} (${deleter.userAgent})`);
});

test("a node relabelled out of the selector keeps the agent label while its report exists, and loses it after", async () => {
  await cluster.addNode("node-d", { pool: "edge" });
  await eventually(() => cluster.hasAgentLabel("node-d"), "node-d labelled");
  await cluster.report("edge", "node-d", { packets: { pass: "5" } });
  await eventually(
    async () => (await jsonpath("edge", ".status.totals.packets.pass")) === "9007199254740998",
    "node-d counted",
  );
  const relabel = await cluster.kubectl(["label", "node", "node-d", "pool=none", "--overwrite"]);
  assert.equal(relabel.code, 0, relabel.stderr);
  await eventually(
    async () => (await jsonpath("edge", ".status.totals.packets.pass")) === "9007199254740993",
    "node-d no longer counted",
  );
  assert.equal(await jsonpath("edge", ".status.desiredNodes"), "1");
  await sleep(500);
  assert.equal(await cluster.hasAgentLabel("node-d"), true, "kept while its agent cleans up");
  assert.equal((await cluster.reports("edge")).length, 2, "the operator leaves the report to its agent");
  await cluster.deleteReport("edge", "node-d");
  await eventually(async () => !(await cluster.hasAgentLabel("node-d")), "node-d's label removed");
  assert.equal((await cluster.nodeLabels("node-d"))?.pool, "none", "only the agent label");
});

test("delete: the XdpCounter stays until its agents deleted their reports, then it is gone", async () => {
  await cluster.addNode("node-e", { pool: "edge" });
  await eventually(() => cluster.hasAgentLabel("node-e"), "node-e labelled");
  await cluster.report("edge", "node-e", {});
  const del = await cluster.kubectl(["delete", "xdpc", "edge", "--wait=false"]);
  assert.equal(del.code, 0, del.stderr);
  await eventually(
    async () => (await cluster.agentSpecs())?.edge?.mode === "clean",
    "clean mode in the ConfigMap",
  );
  assert.equal(await jsonpath("edge", '.status.conditions[?(@.type=="Ready")].reason'), "Deleting");

  await cluster.report("edge", "node-a", {
    phase: "Cleaning",
    packets: { drop: "1", pass: "9007199254740993" },
    bytes: { drop: "1", pass: "18446744073709551000" },
  });
  await cluster.deleteReport("edge", "node-e");
  await sleep(500);
  const still = await cluster.getXdpCounter("edge");
  assert.ok(still, "kept while node-a still cleans up");
  assert.deepEqual(still.metadata.finalizers, [FINALIZER]);
  assert.equal(await cluster.hasAgentLabel("node-a"), true, "node-a keeps its agent meanwhile");

  await cluster.deleteReport("edge", "node-a");
  await eventually(async () => (await cluster.getXdpCounter("edge")) === undefined, "the XdpCounter gone");
  await eventually(async () => (await cluster.agentSpecs())?.edge === undefined, "its key removed");
  await eventually(
    async () => !(await cluster.hasAgentLabel("node-a")) && !(await cluster.hasAgentLabel("node-e")),
    "the labels removed: nothing selects these nodes",
  );
  assert.ok(await cluster.daemonSet(), "the DaemonSet stays for the other XdpCounters");
  const get = await cluster.kubectl(["get", "xdpc", "edge"]);
  assert.notEqual(get.code, 0);
  assert.match(get.stderr, /NotFound|not found/);
  assert.equal(await cluster.admin.get(xdpCountersPath("edge")), undefined);
});

test("the reports of an XdpCounter gone without its agents' clean-up are deleted by the operator", async () => {
  await cluster.report("core", "node-c", { packets: { pass: "3" } });
  await eventually(
    async () => (await jsonpath("core", ".status.totals.packets.pass")) === "3",
    "core counts",
  );
  // Someone removes the finalizer by hand: the XdpCounter goes before its agent deleted its report.
  const del = await cluster.kubectl(["delete", "xdpc", "core", "--wait=false"]);
  assert.equal(del.code, 0, del.stderr);
  const strip = await cluster.kubectl([
    "patch",
    "xdpc",
    "core",
    "--type=merge",
    "-p",
    '{"metadata":{"finalizers":null}}',
  ]);
  assert.equal(strip.code, 0, strip.stderr);
  await eventually(async () => (await cluster.getXdpCounter("core")) === undefined, "core gone");
  await eventually(async () => (await cluster.reports("core")).length === 0, "core's report deleted");
  // the audit log has the DELETE a moment after its answer: wait for it rather than read once
  const deletedBy = await eventually(
    async () =>
      cluster
        .requests()
        .find(
          (r) => r.method === "DELETE" && r.url.includes("/xdpcounterreports/core.node-c") && r.status < 300,
        ),
    "the report's DELETE in the audit log",
  );
  assert.match(deletedBy.userAgent, /^xdp-counter-operator/, "by the operator");
  await eventually(async () => (await cluster.agentSpecs())?.core === undefined, "core's key removed");
  assert.equal(await cluster.hasAgentLabel("node-c"), true, "fast still selects node-c");
});

// Server-side apply turns a map emptied by the applier into null (kubernetes/kubernetes#135841), which the
// report's schema refuses: an agent whose node's traffic stops (rates all zero, left out: `{}`) or whose
// counters start again from 0 (pins lost on a reboot) could no longer write its report.
test("a report whose rates fall back to none (traffic stopped) is accepted, and the status follows", async () => {
  await cluster.report("fast", "node-c", {
    packets: { pass: "100" },
    rates: { packetsPerSecond: { pass: 10 }, bitsPerSecond: { pass: 8000 }, seconds: 1 },
  });
  await eventually(
    async () => (await jsonpath("fast", ".status.rates.totalPacketsPerSecond")) === "10",
    "fast's rate",
  );
  await cluster.report("fast", "node-c", {
    packets: { pass: "100" },
    rates: { packetsPerSecond: {}, bitsPerSecond: {}, seconds: 1 },
  });
  await eventually(
    async () => (await jsonpath("fast", ".status.rates.totalPacketsPerSecond")) === "0",
    "fast's rate back to 0",
  );
});

test("a report whose counters start again from zero (pins lost on a reboot) is accepted, and the status follows", async () => {
  await cluster.report("fast", "node-c", { packets: { pass: "100" }, bytes: { pass: "6400" } });
  await cluster.report("fast", "node-c", { packets: {}, bytes: {} });
  await eventually(
    async () => (await jsonpath("fast", ".status.totals.packets.pass")) === "0",
    "fast's totals back to 0",
  );
});

test("an operator started while the API server is unreachable still gives the DaemonSet and the ConfigMap their owner", async () => {
  await operator.stop();
  for (const what of ["daemonset/xdp-counter-agent", "configmap/xdp-counter-agent-specs"]) {
    const del = await cluster.kubectl(["delete", what, "-n", NAMESPACE, "--ignore-not-found"]);
    assert.equal(del.code, 0, del.stderr);
  }
  cluster.proxy.breakAll({ refuse: true });
  let lines: string[];
  try {
    ({ operator, lines } = await startWholeOperator(cluster, { XDP_COUNTER_OWNER_DEPLOYMENT: DEPLOYMENT }));
    await sleep(1_500);
  } finally {
    cluster.proxy.accept();
  }
  const ds = (await eventually(
    () => cluster.daemonSet(),
    "the agent DaemonSet",
    20_000,
  )) as unknown as DaemonSet;
  assert.deepEqual(ds.metadata.ownerReferences, ownedByTheDeployment(), "owned by the operator's Deployment");
  const cm = await eventually(
    () => cluster.admin.get(`/api/v1/namespaces/${NAMESPACE}/configmaps/xdp-counter-agent-specs`),
    "the agents' ConfigMap",
  );
  assert.deepEqual(cm.metadata.ownerReferences, ownedByTheDeployment(), "the ConfigMap too");
  const said = lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
  assert.ok(
    said.includes("cannot read the owner Deployment yet; looking again before the first write"),
    said.join("\n"),
  );
  assert.ok(said.includes("owner Deployment found"));
});

test("the operator's Deployment deleted (helm uninstall): the collector takes the DaemonSet and the ConfigMap", async () => {
  await operator.stop();
  const del = await cluster.kubectl(["delete", "deployment", DEPLOYMENT, "-n", NAMESPACE]);
  assert.equal(del.code, 0, del.stderr);
  await eventually(async () => (await cluster.daemonSet()) === undefined, "the DaemonSet collected");
  await eventually(async () => (await cluster.agentSpecs()) === undefined, "the ConfigMap collected");
});
