// The agent's reporting and removal paths against the real API server (one control plane for the file): two
// nodes' entries side by side, an API outage with exact totals afterwards, clean mode, a deleted XdpCounter,
// and the pins of XdpCounters that no longer exist. Real kernel, as root; everything made is removed.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type AgentProcess, fetchInNs, startAgent } from "../../testing/agent.ts";
import { CLI } from "../../testing/cli.ts";
import { agentConfigFor, eventually, type NodeEntry, TestCluster } from "../../testing/cluster.ts";
import { nsExec, VethPair } from "../../testing/netns.ts";
import { AGENT_RBAC_RULES } from "./cluster-api.ts";

let cluster: TestCluster;
before(async () => {
  cluster = await TestCluster.start();
});
after(async () => {
  await cluster?.stop();
});

let names = 0;
const uniqueName = (what: string): string => `${what}-${process.pid}-${names++}`;
type T = { after: (fn: () => Promise<void>) => void };

async function pairFor(t: T): Promise<VethPair> {
  const pair = await VethPair.create();
  t.after(() => pair.destroy());
  return pair;
}

function track(t: T, agent: AgentProcess): AgentProcess {
  t.after(async () => {
    await agent.stop("SIGKILL");
  });
  return agent;
}

async function entryWhere(
  name: string,
  node: string,
  ok: (e: NodeEntry) => boolean,
  what: string,
  timeoutMs = 15_000,
) {
  return eventually(
    async () => {
      const e = (await cluster.nodeEntries(name))[node];
      return e && ok(e) ? e : undefined;
    },
    `${what} (node ${node} of ${name})`,
    timeoutMs,
  );
}

const patchesOf = (name: string) =>
  cluster.writes().filter((r) => r.method === "PATCH" && r.url.includes(`/xdpcounters/${name}/status`));

test("two agents on two nodes write their own entries by merge patch, and both survive", async (t) => {
  const [a, b] = [await pairFor(t), await pairFor(t)];
  const name = uniqueName("two");
  const created = await cluster.createXdpCounter(name, { interfaces: [a.node.iface, b.node.iface] });
  const nodes = [`node-a-${name}`, `node-b-${name}`];
  for (const [i, pair] of [a, b].entries()) {
    const { path: kubeconfig } = await cluster.kubeconfigFor(pair.node.ns);
    const config = agentConfigFor(name, created, nodes[i] as string, { interfaces: [pair.node.iface] });
    const agent = track(t, startAgent({ ns: pair.node.ns, config, kubeconfig, pinRoot: cluster.pinRoot() }));
    await agent.waitForLog((l) => l.msg.startsWith("ready"));
  }
  const [sentA, sentB] = [await a.send(700, 90), await b.send(300, 150)];
  await eventually(async () => {
    const entries = await cluster.nodeEntries(name);
    return entries[nodes[0] as string]?.packets.pass === String(sentA) &&
      entries[nodes[1] as string]?.packets.pass === String(sentB)
      ? true
      : undefined;
  }, "both nodes' totals");
  const entries = await cluster.nodeEntries(name);
  assert.equal(entries[nodes[0] as string]?.bytes.pass, String(sentA * 90));
  assert.equal(entries[nodes[1] as string]?.bytes.pass, String(sentB * 150));
  const patches = patchesOf(name);
  // the server's audit log has no Content-Type: each body is a merge patch of one node's own entry (not a
  // JSON patch's list, nor an apply configuration with apiVersion and kind)
  for (const { body } of patches) {
    assert.deepEqual(Object.keys(body as object), ["status"]);
    const written = Object.keys((body as { status?: { nodes?: object } }).status?.nodes ?? {});
    assert.equal(written.length, 1);
    assert.ok(nodes.includes(written[0] as string));
  }
  const patch = patches[0];
  assert.match(patch?.url ?? "", /[?&]fieldManager=xdp-counter-agent(&|$)/);
  assert.equal(patch?.userAgent, "xdp-counter-agent");
});

test("unchanged entries are not rewritten every interval; an API outage is retried with backoff and the next report has exact totals", async (t) => {
  const pair = await pairFor(t);
  const name = uniqueName("outage");
  const node = `node-${name}`;
  const created = await cluster.createXdpCounter(name, { interfaces: [pair.node.iface] });
  const { path: kubeconfig, bridge } = await cluster.kubeconfigFor(pair.node.ns);
  const config = agentConfigFor(name, created, node, { interfaces: [pair.node.iface] });
  const agent = track(t, startAgent({ ns: pair.node.ns, config, kubeconfig, pinRoot: cluster.pinRoot() }));
  await agent.waitForLog((l) => l.msg.startsWith("ready"));
  const sent1 = await pair.send(1000, 64);
  await entryWhere(name, node, (e) => e.packets.pass === String(sent1), "first totals");

  // Idle: over 4 intervals nothing changes, so nothing is written.
  const before = patchesOf(name).length;
  await new Promise((r) => setTimeout(r, 4_000));
  assert.equal(patchesOf(name).length - before, 0, "no writes in 4 idle intervals");

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
    (await cluster.nodeEntries(name))[node]?.packets.pass,
    String(sent1),
    "nothing new arrived meanwhile",
  );

  bridge.setDown(false);
  const entry = await entryWhere(
    name,
    node,
    (e) => e.packets.pass === String(sent1 + sent2),
    "totals after the outage",
    20_000,
  );
  assert.equal(entry.bytes.pass, String(sent1 * 64 + sent2 * 128));
  await agent.waitForLog((l) => l.msg === "reporting again after failures");
  const metrics = (await fetchInNs(pair.node.ns, await agent.port(), "/metrics")).body;
  const errors = Number(/^xdp_counter_agent_report_errors_total\{[^}]*\} (\d+)$/m.exec(metrics)?.[1]);
  assert.ok(errors >= failures.length, metrics);
});

test("clean mode detaches and unpins everything of the XdpCounter, reports Clean, then idles", async (t) => {
  const pair = await pairFor(t);
  const name = uniqueName("clean");
  const node = `node-${name}`;
  const created = await cluster.createXdpCounter(name, { interfaces: [pair.node.iface] });
  const { path: kubeconfig } = await cluster.kubeconfigFor(pair.node.ns);
  const pinRoot = cluster.pinRoot();
  const config = agentConfigFor(name, created, node, { interfaces: [pair.node.iface] });
  const counting = track(t, startAgent({ ns: pair.node.ns, config, kubeconfig, pinRoot }));
  await counting.waitForLog((l) => l.msg.startsWith("ready"));
  assert.ok((await pair.xdpProgId(pair.node)) > 0);
  await counting.stop();

  const cleaning = track(
    t,
    startAgent({ ns: pair.node.ns, config: { ...config, mode: "clean" }, kubeconfig, pinRoot }),
  );
  const entry = await entryWhere(name, node, (e) => e.phase === "Clean", "phase Clean");
  assert.deepEqual(entry.interfaces, []);
  assert.equal(await pair.xdpProgId(pair.node), 0, "detached");
  assert.ok(!existsSync(join(pinRoot, name)), "unpinned");
  await cleaning.waitForLog((l) => l.msg.startsWith("clean: reported"));
  const port = await cleaning.port();
  assert.equal((await fetchInNs(pair.node.ns, port, "/healthz")).status, 200, "idle, alive");
  assert.equal(await cleaning.stop(), 0);
});

test("a deleted XdpCounter (404) makes the agent detach and unpin its counters", async (t) => {
  const pair = await pairFor(t);
  const name = uniqueName("gone");
  const node = `node-${name}`;
  const created = await cluster.createXdpCounter(name, { interfaces: [pair.node.iface] });
  const { path: kubeconfig } = await cluster.kubeconfigFor(pair.node.ns);
  const pinRoot = cluster.pinRoot();
  const config = agentConfigFor(name, created, node, { interfaces: [pair.node.iface] });
  const agent = track(t, startAgent({ ns: pair.node.ns, config, kubeconfig, pinRoot }));
  await entryWhere(name, node, (e) => e.phase === "Counting", "counting");
  await cluster.deleteXdpCounter(name);
  await pair.send(10, 64); // a change, so the next report is not skipped
  await agent.waitForLog((l) => l.msg.startsWith("the XdpCounter is gone"));
  await agent.waitForLog((l) => l.msg === "counter detached");
  assert.equal(await pair.xdpProgId(pair.node), 0);
  assert.ok(!existsSync(join(pinRoot, name)));
});

test("at start, pins of XdpCounters that no longer exist are removed; others' pins are kept", async (t) => {
  const pair = await pairFor(t);
  const pinRoot = cluster.pinRoot();
  const ghost = uniqueName("ghost");
  const alive = uniqueName("alive");
  await cluster.createXdpCounter(alive, { interfaces: ["eth9"] });
  // Two other XdpCounters' counters on a second interface and on the node's, pinned by earlier agents.
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
  await nsExec(pair.node.ns, [
    "ip",
    "link",
    "add",
    `${pair.node.iface}o`,
    "type",
    "veth",
    "peer",
    "name",
    `${pair.node.iface}q`,
  ]);
  await nsExec(pair.node.ns, ["ip", "link", "set", `${pair.node.iface}o`, "up"]);
  await attach(alive, `${pair.node.iface}o`);

  const name = uniqueName("self");
  const created = await cluster.createXdpCounter(name, { interfaces: [pair.node.iface] });
  const { path: kubeconfig } = await cluster.kubeconfigFor(pair.node.ns);
  const config = agentConfigFor(name, created, `node-${name}`, { interfaces: [pair.node.iface] });
  const agent = track(t, startAgent({ ns: pair.node.ns, config, kubeconfig, pinRoot }));
  await agent.waitForLog(
    (l) => l.msg.startsWith("removed the counter of a deleted XdpCounter") && l.owner === ghost,
  );
  assert.ok(!existsSync(join(pinRoot, ghost)), "the deleted XdpCounter's pins are gone");
  assert.ok(existsSync(join(pinRoot, alive, `${pair.node.iface}o`, "link")), "the existing one's are kept");
  // with the ghost's program gone, the agent attaches its own on the next poll
  await agent.waitForLog((l) => l.msg === "counter attached" && l.interface === pair.node.iface);
  const own = await pair.xdpProgId(pair.node);
  assert.ok(own > 0 && own !== ghostProg);
});

test("a bad configuration exits with code 2 naming the field", () => {
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, [CLI, "agent"], {
      env: { PATH: process.env.PATH ?? "", ...env },
      encoding: "utf8",
    });
  const missing = run({ NODE_NAME: "n" });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /XDP_COUNTER_CONFIG is not set/);
  const config = {
    xdpCounter: "x",
    uid: "u",
    generation: 1,
    mode: "count",
    interfaces: ["eth0"],
    attachMode: "auto",
    action: "reflect",
    reportIntervalMs: 1000,
  };
  const bad = run({ NODE_NAME: "n", XDP_COUNTER_CONFIG: JSON.stringify(config) });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /action/);
  const noNode = run({ XDP_COUNTER_CONFIG: JSON.stringify({ ...config, action: "pass" }) });
  assert.equal(noNode.status, 2);
  assert.match(noNode.stderr, /NODE_NAME is not set/);
  const flag = run({
    NODE_NAME: "n",
    XDP_COUNTER_CONFIG: JSON.stringify({ ...config, action: "pass" }),
    XDP_COUNTER_AGENT_PORT: "http",
  });
  assert.equal(flag.status, 2);
  assert.match(flag.stderr, /--port "http"/);
});

test("an agent started while the API server is unreachable counts from the start and reports exact totals later", async (t) => {
  const pair = await pairFor(t);
  const name = uniqueName("coldstart");
  const node = `node-${name}`;
  const created = await cluster.createXdpCounter(name, { interfaces: [pair.node.iface] });
  const { path: kubeconfig, bridge } = await cluster.kubeconfigFor(pair.node.ns);
  bridge.setDown(true);
  const config = agentConfigFor(name, created, node, { interfaces: [pair.node.iface] });
  const agent = track(t, startAgent({ ns: pair.node.ns, config, kubeconfig, pinRoot: cluster.pinRoot() }));
  await agent.waitForLog((l) => l.msg.startsWith("ready"));
  const sent = await pair.send(800, 70);
  await agent.waitForLog((l) => l.msg.startsWith("report failed"));
  bridge.setDown(false);
  const entry = await entryWhere(
    name,
    node,
    (e) => e.packets.pass === String(sent),
    "totals once reachable",
    20_000,
  );
  assert.equal(entry.bytes.pass, String(sent * 70));
});

test("the agent needs no more than AGENT_RBAC_RULES, as its service account", async (t) => {
  const pair = await pairFor(t);
  const name = uniqueName("rbac");
  const node = `node-${name}`;
  const namespace = uniqueName("ns");
  await cluster.create("/api/v1/namespaces", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: namespace },
  });
  await cluster.create(`/api/v1/namespaces/${namespace}/serviceaccounts`, {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "xdp-counter-agent" },
  });
  const rbac = "/apis/rbac.authorization.k8s.io/v1";
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
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
    subjects: [{ kind: "ServiceAccount", name: "xdp-counter-agent", namespace }],
  });
  await cluster.createNode(node, "198.51.100.9");
  const created = await cluster.createXdpCounter(name, { interfaces: [pair.node.iface], action: "drop" });
  const { path: kubeconfig } = await cluster.kubeconfigFor(pair.node.ns, {
    namespace,
    serviceAccount: "xdp-counter-agent",
  });
  const config = agentConfigFor(name, created, node, { interfaces: [pair.node.iface], action: "drop" });
  const agent = track(t, startAgent({ ns: pair.node.ns, config, kubeconfig, pinRoot: cluster.pinRoot() }));
  await agent.waitForLog((l) => l.msg === "node addresses");
  const sent = await pair.send(100, 64);
  await entryWhere(
    name,
    node,
    (e) => e.packets.drop === String(sent),
    "drops reported as the service account",
  );
  assert.deepEqual(
    agent.logs.filter((l) => l.level === "warn" || l.level === "error"),
    [],
    "no refusals",
  );
});
