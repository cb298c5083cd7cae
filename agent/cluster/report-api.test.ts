// The agent's reports and clean-ups against the real API server (one control plane for the file): two nodes'
// reports side by side, owned by their Nodes; no write while nothing changes; an API outage with exact totals
// afterwards; an XdpCounter being deleted or gone; the pins of XdpCounters without a spec; bad settings; a
// start while the API server is unreachable; and the agent as its ServiceAccount, with exactly its RBAC rules
// and the policy that lets it write only its own node's reports. Real kernel, as root; everything made is
// removed.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { reportName } from "../../api/v1alpha1/index.ts";
import { fetchInNs, pairFor, startAgent, track } from "../../testing/agent.ts";
import { CLI } from "../../testing/cli.ts";
import { AGENT_NAMESPACE, eventually, TestCluster } from "../../testing/cluster.ts";
import { nsExec, type VethPair } from "../../testing/netns.ts";
import { AGENT_RBAC_RULES, agentNamespaceRules, agentReportPolicy } from "./rbac.ts";

let cluster: TestCluster;
before(async () => {
  cluster = await TestCluster.start();
});
after(async () => {
  await cluster?.stop();
});

let names = 0;
const uniqueName = (what: string): string => `${what}-${process.pid}-${names++}`;
async function reportGone(name: string, node: string): Promise<void> {
  await eventually(
    async () => ((await cluster.reports(name))[node] ? undefined : true),
    `${name}'s report on ${node} deleted`,
  );
}

const writesOf = (name: string, node: string) =>
  cluster.writes().filter((r) => r.url.includes(`/xdpcounterreports/${reportName(name, node)}`));

/** An XdpCounter counting on the pair's node interface, published in an agents' ConfigMap of its own. */
async function counting(pair: VethPair, what: string, spec: Record<string, unknown> = {}) {
  const name = uniqueName(what);
  const node = `node-${name}`;
  const specs = `specs-${name}`;
  await cluster.ensureNode(node);
  await cluster.createXdpCounter(name, { interfaces: [pair.node.iface], reportInterval: "1s", ...spec });
  await cluster.publishSpecs(specs, [name]);
  return { name, node, specs };
}

test("two agents on two nodes write their own reports by server-side apply, owned by their Nodes", async (t) => {
  const [a, b] = [await pairFor(t), await pairFor(t)];
  const name = uniqueName("two");
  const specs = `specs-${name}`;
  await cluster.createXdpCounter(name, { interfaces: [a.node.iface, b.node.iface], reportInterval: "1s" });
  await cluster.publishSpecs(specs, [name]);
  const nodes = [`node-a-${name}`, `node-b-${name}`];
  for (const [i, pair] of [a, b].entries()) {
    const node = nodes[i] as string;
    await cluster.ensureNode(node);
    const { path: kubeconfig } = await cluster.kubeconfigFor(pair.node.ns);
    const agent = track(
      t,
      startAgent({ ns: pair.node.ns, node, specs, kubeconfig, pinRoot: cluster.pinRoot() }),
    );
    await agent.waitForLog((l) => l.msg.startsWith("ready"));
  }
  const [sentA, sentB] = [await a.send(700, 90), await b.send(300, 150)];
  const ra = await cluster.reportWhere(
    name,
    nodes[0] as string,
    (r) => r.packets.pass === String(sentA),
    "node a's count",
  );
  const rb = await cluster.reportWhere(
    name,
    nodes[1] as string,
    (r) => r.packets.pass === String(sentB),
    "node b's count",
  );
  assert.equal(ra.bytes.pass, String(sentA * 90));
  assert.equal(rb.bytes.pass, String(sentB * 150));
  assert.equal(ra.metadata.name, `${name}.${nodes[0]}`);
  assert.deepEqual(
    ra.metadata.ownerReferences?.map((o) => [o.kind, o.name]),
    [["Node", nodes[0]]],
    "deleted with its Node",
  );
  for (const node of nodes) {
    for (const write of writesOf(name, node)) {
      assert.equal(write.method, "PATCH");
      assert.match(write.url, /[?&]fieldManager=xdp-counter-agent(&|$)/);
      assert.equal(write.userAgent, "xdp-counter-agent");
      assert.equal((write.body as { nodeName?: string }).nodeName, node, "each writes its own node's report");
    }
  }
});

test("unchanged reports are not rewritten; an API outage is retried with backoff and the next report has exact totals", async (t) => {
  const pair = await pairFor(t);
  const { name, node, specs } = await counting(pair, "outage");
  const { path: kubeconfig, bridge } = await cluster.kubeconfigFor(pair.node.ns);
  const agent = track(
    t,
    startAgent({ ns: pair.node.ns, node, specs, kubeconfig, pinRoot: cluster.pinRoot() }),
  );
  await agent.waitForLog((l) => l.msg.startsWith("ready"));
  const sent1 = await pair.send(1000, 64);
  await cluster.reportWhere(
    name,
    node,
    (e) => e.packets.pass === String(sent1) && !e.rates?.packetsPerSecond.pass,
    "first totals, then idle",
  );

  // Idle: over 4 intervals nothing changes, so nothing is written.
  const before = writesOf(name, node).length;
  await new Promise((r) => setTimeout(r, 4_000));
  assert.equal(writesOf(name, node).length - before, 0, "no writes in 4 idle intervals");

  // Outage for several intervals, while packets keep coming.
  bridge.setDown(true);
  const failedBefore = agent.logs.filter((l) => l.msg.startsWith("report failed")).length;
  let sent2 = 0;
  for (let i = 0; i < 4; i++) {
    sent2 += await pair.send(500, 128);
    await new Promise((r) => setTimeout(r, 1_000));
  }
  const failures = agent.logs.filter((l) => l.msg.startsWith("report failed")).slice(failedBefore);
  assert.ok(failures.length >= 2, `retried during the outage (${failures.length} failures logged)`);
  assert.deepEqual(
    failures.slice(0, 3).map((l) => l.failures),
    [1, 2, 3].slice(0, Math.min(3, failures.length)),
  );
  assert.equal(
    (await cluster.reports(name))[node]?.packets.pass,
    String(sent1),
    "nothing new arrived meanwhile",
  );

  bridge.setDown(false);
  const report = await cluster.reportWhere(
    name,
    node,
    (e) => e.packets.pass === String(sent1 + sent2),
    "totals after the outage",
    20_000,
  );
  assert.equal(report.bytes.pass, String(sent1 * 64 + sent2 * 128));
  await agent.waitForLog((l) => l.msg === "reporting again after failures");
  const metrics = (await fetchInNs(pair.node.ns, await agent.port(), "/metrics")).body;
  const errors = Number(/^xdpcounter_agent_report_errors_total\{[^}]*\} (\d+)$/m.exec(metrics)?.[1]);
  assert.ok(errors >= failures.length, metrics);
});

test("rates: packets/s and bits/s over the last interval match the traffic sent", async (t) => {
  const pair = await pairFor(t);
  const { name, node, specs } = await counting(pair, "rates", { reportInterval: "2s" });
  const { path: kubeconfig } = await cluster.kubeconfigFor(pair.node.ns);
  const agent = track(
    t,
    startAgent({ ns: pair.node.ns, node, specs, kubeconfig, pinRoot: cluster.pinRoot() }),
  );
  await agent.waitForLog((l) => l.msg.startsWith("ready"));
  // a steady 1,000 frames/s for 7 s: the reports over whole intervals in it see about that rate
  const started = Date.now();
  let sent = 0;
  const seen: number[] = [];
  while (Date.now() - started < 7_000) {
    sent += await pair.send(100, 125);
    await new Promise((r) => setTimeout(r, 100));
    const r = (await cluster.reports(name))[node];
    const pps = r?.rates?.packetsPerSecond.pass;
    if (pps && !seen.includes(pps)) seen.push(pps);
  }
  const rate = (sent * 1000) / (Date.now() - started);
  const inner = seen.slice(1, -1); // the first and last intervals are partly idle
  assert.ok(inner.length >= 1, `rates seen: ${seen}`);
  for (const pps of inner) {
    assert.ok(Math.abs(pps - rate) / rate < 0.35, `${pps} packets/s reported, ${rate.toFixed(0)} sent`);
  }
  const last = (await cluster.reports(name))[node];
  const bits = last?.rates?.bitsPerSecond.pass ?? 0;
  const packets = last?.rates?.packetsPerSecond.pass ?? 0;
  if (packets > 0) assert.equal(Math.round(bits / packets), 125 * 8, "bits/s are 8 × bytes/s");
});

test("an XdpCounter being deleted: its counters are detached and unpinned, then its report is deleted", async (t) => {
  const pair = await pairFor(t);
  const { name, node, specs } = await counting(pair, "clean");
  const { path: kubeconfig } = await cluster.kubeconfigFor(pair.node.ns);
  const pinRoot = cluster.pinRoot();
  const agent = track(t, startAgent({ ns: pair.node.ns, node, specs, kubeconfig, pinRoot }));
  await cluster.reportWhere(
    name,
    node,
    (e) => e.phase === "Counting" && e.interfaces.length === 1,
    "counting",
  );
  assert.ok((await pair.xdpProgId(pair.node)) > 0);
  // what the operator does while the finalizer holds the object: the same spec, in mode clean
  await cluster.call(
    "PATCH",
    `/apis/xdpcounter.dev/v1alpha1/xdpcounters/${name}`,
    { metadata: { finalizers: ["xdpcounter.dev/cleanup"] } },
    "application/merge-patch+json",
  );
  await cluster.deleteXdpCounter(name);
  await cluster.publishSpecs(specs, [name]);
  await reportGone(name, node);
  assert.equal(await pair.xdpProgId(pair.node), 0, "detached");
  assert.ok(!existsSync(join(pinRoot, name)), "unpinned");
  const cleaned = await agent.waitForLog((l) =>
    l.msg.startsWith("report deleted: nothing of this XdpCounter"),
  );
  assert.equal(cleaned.why, "the XdpCounter is being deleted");
  assert.equal((await fetchInNs(pair.node.ns, await agent.port(), "/healthz")).status, 200, "alive");
  await cluster.call(
    "PATCH",
    `/apis/xdpcounter.dev/v1alpha1/xdpcounters/${name}`,
    { metadata: { finalizers: null } },
    "application/merge-patch+json",
  );
});

test("an XdpCounter gone from the specs is cleaned up the same way", async (t) => {
  const pair = await pairFor(t);
  const { name, node, specs } = await counting(pair, "gone");
  const { path: kubeconfig } = await cluster.kubeconfigFor(pair.node.ns);
  const pinRoot = cluster.pinRoot();
  const agent = track(t, startAgent({ ns: pair.node.ns, node, specs, kubeconfig, pinRoot }));
  await cluster.reportWhere(name, node, (e) => e.interfaces[0]?.attached === true, "attached");
  await cluster.deleteXdpCounter(name);
  await cluster.publishSpecs(specs, []);
  await reportGone(name, node);
  await agent.waitForLog((l) => l.msg === "counter detached");
  assert.equal(await pair.xdpProgId(pair.node), 0);
  assert.ok(!existsSync(join(pinRoot, name)));
});

test("pins of XdpCounters without a spec are removed; those with one are kept; no ConfigMap yet removes nothing", async (t) => {
  const pair = await pairFor(t);
  const pinRoot = cluster.pinRoot();
  const ghost = uniqueName("ghost");
  const name = uniqueName("self");
  const node = `node-${name}`;
  const specs = `specs-${name}`;
  await cluster.ensureNode(node);
  const attach = (owner: string, iface: string) =>
    nsExec(pair.node.ns, [
      process.execPath,
      "--input-type=module",
      "-e",
      `import { attachCounter } from ${JSON.stringify(new URL("../bpf/index.ts", import.meta.url).pathname)};
       attachCounter({ iface: ${JSON.stringify(iface)}, owner: ${JSON.stringify(owner)}, pinRoot: ${JSON.stringify(pinRoot)}, mode: "generic", action: "pass" }).close();`,
    ]);
  await attach(ghost, pair.node.iface);
  const ghostProg = await pair.xdpProgId(pair.node);
  assert.ok(ghostProg > 0);
  const { path: kubeconfig } = await cluster.kubeconfigFor(pair.node.ns);
  const agent = track(t, startAgent({ ns: pair.node.ns, node, specs, kubeconfig, pinRoot }));
  // no ConfigMap yet (the operator has not written it): nothing is known, nothing is removed
  await agent.waitForLog((l) => l.msg === "watch relist" && l.informer === "agent specs");
  await new Promise((r) => setTimeout(r, 1_000));
  assert.ok(existsSync(join(pinRoot, ghost)), "kept while the specs are unknown");
  assert.equal(await pair.xdpProgId(pair.node), ghostProg);

  await cluster.createXdpCounter(name, { interfaces: [pair.node.iface], reportInterval: "1s" });
  await cluster.publishSpecs(specs, [name]);
  await agent.waitForLog(
    (l) => l.msg.startsWith("report deleted: nothing of this XdpCounter") && l.xdpcounter === ghost,
  );
  assert.ok(!existsSync(join(pinRoot, ghost)), "the spec-less XdpCounter's pins are gone");
  // with the ghost's program gone, the agent attaches its own
  await agent.waitForLog((l) => l.msg === "counter attached" && l.interface === pair.node.iface);
  const own = await pair.xdpProgId(pair.node);
  assert.ok(own > 0 && own !== ghostProg);
});

test("bad settings exit with code 2 naming them", () => {
  const run = (env: Record<string, string>, args: string[] = []) =>
    spawnSync(process.execPath, [CLI, "agent", ...args], {
      env: { PATH: process.env.PATH ?? "", ...env },
      encoding: "utf8",
    });
  const noNode = run({});
  assert.equal(noNode.status, 2);
  assert.match(noNode.stderr, /NODE_NAME is not set/);
  const port = run({ NODE_NAME: "n", XDP_COUNTER_AGENT_PORT: "http" });
  assert.equal(port.status, 2);
  assert.match(port.stderr, /--port "http"/);
  const specs = run({ NODE_NAME: "n" }, ["--specs", "Not_A_Name"]);
  assert.equal(specs.status, 2);
  assert.match(specs.stderr, /--specs "Not_A_Name" is not an object name/);
});

test("an agent restarted while the API server is unreachable keeps counting, and reports exact totals later", async (t) => {
  const pair = await pairFor(t);
  const { name, node, specs } = await counting(pair, "coldstart");
  const { path: kubeconfig, bridge } = await cluster.kubeconfigFor(pair.node.ns);
  const pinRoot = cluster.pinRoot();
  const first = track(t, startAgent({ ns: pair.node.ns, node, specs, kubeconfig, pinRoot }));
  await first.waitForLog((l) => l.msg.startsWith("ready"));
  const sent1 = await pair.send(300, 70);
  await cluster.reportWhere(name, node, (e) => e.packets.pass === String(sent1), "counted");
  await first.stop("SIGKILL");
  bridge.setDown(true);
  const second = track(t, startAgent({ ns: pair.node.ns, node, specs, kubeconfig, pinRoot }));
  await second.port();
  const sent2 = await pair.send(800, 70);
  await new Promise((r) => setTimeout(r, 1_500));
  assert.ok((await pair.xdpProgId(pair.node)) > 0, "still attached while the agent knows no spec");
  bridge.setDown(false);
  const report = await cluster.reportWhere(
    name,
    node,
    (e) => e.packets.pass === String(sent1 + sent2),
    "totals once reachable",
    30_000,
  );
  assert.equal(report.bytes.pass, String((sent1 + sent2) * 70));
});

test("as its ServiceAccount the agent needs exactly its rules, and may write only its own node's report", async (t) => {
  const pair = await pairFor(t);
  const name = uniqueName("rbac");
  const node = `node-${name}`;
  const other = `node-other-${name}`;
  const specs = `specs-${name}`;
  const sa = uniqueName("agent");
  await cluster.ensureNode(node, { internalIp: "198.51.100.9" });
  await cluster.ensureNode(other);
  await cluster.create(`/api/v1/namespaces/${AGENT_NAMESPACE}/serviceaccounts`, {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: sa },
  });
  const rbac = "/apis/rbac.authorization.k8s.io/v1";
  const roleRef = (kind: string) => ({ apiGroup: "rbac.authorization.k8s.io", kind, name });
  const subjects = [{ kind: "ServiceAccount", name: sa, namespace: AGENT_NAMESPACE }];
  await cluster.create(`${rbac}/clusterroles`, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name },
    rules: AGENT_RBAC_RULES,
  });
  await cluster.create(`${rbac}/clusterrolebindings`, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name },
    roleRef: roleRef("ClusterRole"),
    subjects,
  });
  await cluster.create(`${rbac}/namespaces/${AGENT_NAMESPACE}/roles`, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: { name },
    rules: agentNamespaceRules(specs),
  });
  await cluster.create(`${rbac}/namespaces/${AGENT_NAMESPACE}/rolebindings`, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name },
    roleRef: roleRef("Role"),
    subjects,
  });
  const { policy, binding } = agentReportPolicy({
    name,
    serviceAccount: { namespace: AGENT_NAMESPACE, name: sa },
  });
  await cluster.create("/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies", policy);
  await cluster.create("/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings", binding);
  // the agent's pod on `node`, to which its token is bound, as the kubelet's projected token is
  const pod = await cluster.create(`/api/v1/namespaces/${AGENT_NAMESPACE}/pods`, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: `agent-${name}` },
    spec: {
      nodeName: node,
      serviceAccountName: sa,
      automountServiceAccountToken: false,
      containers: [{ name: "agent", image: "xdp-counter:test" }],
    },
  });
  await cluster.createXdpCounter(name, {
    interfaces: [pair.node.iface],
    action: "drop",
    reportInterval: "1s",
  });
  await cluster.publishSpecs(specs, [name]);
  const identity = { namespace: AGENT_NAMESPACE, serviceAccount: sa, pod: pod.metadata };
  const { path: kubeconfig } = await cluster.kubeconfigFor(pair.node.ns, identity);
  const agent = track(
    t,
    startAgent({ ns: pair.node.ns, node, specs, kubeconfig, pinRoot: cluster.pinRoot() }),
  );
  await agent.waitForLog((l) => l.msg.startsWith("ready"), 20_000);
  const sent = await pair.send(100, 64);
  await cluster.reportWhere(
    name,
    node,
    (e) => e.packets.drop === String(sent),
    "drops counted, as the ServiceAccount",
    20_000,
  );

  // the same token, writing the other node's report: refused by the policy, naming both nodes
  const token = await cluster.token(AGENT_NAMESPACE, sa, pod.metadata);
  const viaClient = await cluster.callAs(token, "POST", "/apis/xdpcounter.dev/v1alpha1/xdpcounterreports", {
    apiVersion: "xdpcounter.dev/v1alpha1",
    kind: "XdpCounterReport",
    metadata: { name: reportName(name, other) },
    nodeName: other,
    xdpCounter: { name, uid: "forged" },
    generation: 1,
    phase: "Counting",
    reportedAt: new Date().toISOString(),
    packets: { pass: "1000000" },
    bytes: {},
  });
  assert.equal(viaClient.status, 403, viaClient.text);
  assert.match(
    viaClient.text,
    new RegExp(`the agent on node ${node} may not write the report of node ${other}`),
  );
  // an unbound token (no pod, no node) writes no report at all
  const unbound = await cluster.token(AGENT_NAMESPACE, sa);
  const own = await cluster.callAs(
    unbound,
    "DELETE",
    `/apis/xdpcounter.dev/v1alpha1/xdpcounterreports/${reportName(name, node)}`,
  );
  assert.equal(own.status, 403, own.text);
  assert.match(own.text, /only with its pod's token/);
  // and it reads no XdpCounter, no Secret
  for (const path of ["/apis/xdpcounter.dev/v1alpha1/xdpcounters", "/api/v1/secrets"]) {
    const read = await cluster.callAs(token, "GET", path);
    assert.equal(read.status, 403, `${path}: ${read.text}`);
  }
});
