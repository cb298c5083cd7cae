// The whole life of xdp-counter on the local cluster of real nodes, driven as a user drives it: helm install
// of the chart with the product's image, kubectl apply of examples/xdpcounter.yaml (edited for the nodes'
// traffic interface eth1 and a 1 s report interval), exact packets into each node, a spec change, an agent
// crash, an operator crash, deletion (also right after an agent crash) and helm uninstall; kubectl wait,
// describe and logs where a user would reach for them. Needs root; about 3 minutes.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  exampleManifest,
  exampleName,
  expectAllowed,
  expectExactCounts,
  expectForbidden,
  expectNoXdpAnywhere,
  kubectlOk,
  readCounts,
  watchNeverDecreases,
} from "../../scenario/index.ts";
import {
  agentPodsGone,
  type Cluster,
  createReleaseNamespace,
  helmInstall,
  killContainer,
  type LocalCluster,
  NAMESPACE,
  podsOf,
  RELEASE,
  serviceAccountKubeconfig,
  startLocalCluster,
  until,
} from "./setup.ts";

let l: LocalCluster;
let c: Cluster;
const name = exampleName();
const nodes = ["node-1", "node-2"];
/** What each node was sent so far, and must show. */
const sent: Record<string, bigint> = { "node-1": 0n, "node-2": 0n };

before(
  async () => {
    l = await startLocalCluster(2, (line) => console.log(`# ${line}`));
    c = l.cluster;
  },
  { timeout: 600_000 },
);

after(async () => {
  await c?.stop();
});

async function send(node: string, count: number, length = 128): Promise<void> {
  sent[node] = (sent[node] ?? 0n) + BigInt(await c.node(node).send(count, length));
}

async function agentsOn(node: string) {
  return (await podsOf(c, "agent")).filter((p) => p.node === node);
}

async function everyNode(pred: (p: Awaited<ReturnType<typeof agentsOn>>[number]) => boolean) {
  const agents = await podsOf(c, "agent");
  return nodes.every((n) => agents.some((p) => p.node === n && pred(p)));
}

const manifest = (edits: Parameters<typeof exampleManifest>[0] = {}) =>
  exampleManifest({ interfaces: ["eth1"], reportInterval: "1s", ...edits });

test("helm install runs the operator with the chart's ServiceAccount", { timeout: 180_000 }, async () => {
  await createReleaseNamespace(c);
  const r = await helmInstall(l);
  assert.equal(r.code, 0, `helm install: ${r.stderr}`);
  const [op] = await podsOf(c, "operator");
  assert.ok(op?.ready, "the operator's pod runs and is ready");
  const sa = await kubectlOk(c, [
    "get",
    "pod",
    "-n",
    NAMESPACE,
    op.name,
    "-o",
    "jsonpath={.spec.serviceAccountName}",
  ]);
  assert.equal(sa, `${RELEASE}-operator`);
});

test("kubectl apply of the example: each node shows exactly the packets sent into it", {
  timeout: 180_000,
}, async () => {
  await kubectlOk(c, ["apply", "-f", "-"], manifest());
  // the operator's Ready condition: every selected node counts
  await kubectlOk(c, ["wait", "--for=condition=Ready", `xdpcounter/${name}`, "--timeout=120s"]);
  assert.ok(await everyNode((p) => p.ready), "a Ready agent on each node");
  await expectExactCounts(c, name, sent);
  await send("node-1", 20_000, 64);
  await send("node-2", 7_777, 512);
  await expectExactCounts(c, name, sent);
  const shown = await kubectlOk(c, ["describe", "xdpcounter", name]);
  assert.match(shown, /Ready/, "kubectl describe shows the conditions");
  assert.match(shown, /node-1/, "and the nodes");
});

test("the agents' ServiceAccount may do what an agent needs and nothing else", {
  timeout: 120_000,
}, async () => {
  const agent = await serviceAccountKubeconfig(c, `${RELEASE}-agent`);
  await expectForbidden(c, agent, ["get", "secrets", "-A"]);
  await expectForbidden(c, agent, ["get", "pods", "-n", NAMESPACE]);
  await expectForbidden(c, agent, ["delete", "xdpcounter", name]);
  await expectForbidden(c, agent, ["create", "namespace", "agent-made"]);
  await expectForbidden(c, agent, [
    "patch",
    "xdpcounter",
    name,
    "--type",
    "merge",
    "-p",
    '{"spec":{"action":"drop"}}',
  ]);
  await expectAllowed(c, agent, ["get", "xdpcounters"]);
  await expectAllowed(c, agent, ["get", "xdpcounter", name]);
  await expectAllowed(c, agent, ["get", "node", "node-1"]);
  const operator = await serviceAccountKubeconfig(c, `${RELEASE}-operator`);
  await expectForbidden(c, operator, ["get", "secrets", "-A"]);
  await expectForbidden(c, operator, ["get", "daemonsets", "-n", "default"]);
  await expectAllowed(c, operator, ["get", "daemonsets", "-n", NAMESPACE]);
});

/** Applies the manifest and waits until every node runs a ready agent that was not there before. */
async function applyAndRollOut(yaml: string): Promise<void> {
  const before = (await podsOf(c, "agent")).map((p) => p.uid);
  await kubectlOk(c, ["apply", "-f", "-"], yaml);
  await until("the agents replaced", () => everyNode((p) => p.ready && !before.includes(p.uid)), 120_000);
}

test("spec changes (action drop, then pass again) roll out and the counts continue", {
  timeout: 300_000,
}, async () => {
  const watch = watchNeverDecreases(c, name);
  await applyAndRollOut(manifest({ action: "drop" }));
  const dropped: Record<string, bigint> = {};
  for (const [node, count] of [
    ["node-1", 1_500],
    ["node-2", 2_500],
  ] as const)
    dropped[node] = BigInt(await c.node(node).send(count, 256));
  await expectExactCounts(c, name, dropped, { action: "drop" });
  await expectExactCounts(c, name, sent);

  await applyAndRollOut(manifest({ reportInterval: "2s" }));
  await send("node-1", 1_000);
  await send("node-2", 2_000);
  await expectExactCounts(c, name, sent);
  await expectExactCounts(c, name, dropped, { action: "drop" });
  assert.ok((await watch.stop()) > 0);
});

test("an agent killed with SIGKILL is restarted; the totals never go down and end exact", {
  timeout: 180_000,
}, async () => {
  const watch = watchNeverDecreases(c, name);
  const [victim] = await agentsOn("node-2");
  assert.ok(victim);
  await killContainer(c, victim);
  await send("node-2", 3_000);
  await send("node-1", 500);
  await until(
    "the agent restarted",
    async () => (await agentsOn("node-2")).some((p) => p.restartCount > victim.restartCount && p.ready),
    120_000,
  );
  await send("node-2", 100);
  await expectExactCounts(c, name, sent);
  await watch.stop();
  // what a user sees of the crash: the last state and the killed container's log
  const shown = await kubectlOk(c, ["describe", "pod", "-n", NAMESPACE, victim.name]);
  assert.match(shown, /Last State:\s+Terminated/);
  assert.match(shown, /Exit Code:\s+137/);
  const previous = await kubectlOk(c, ["logs", "-n", NAMESPACE, victim.name, "--previous"]);
  assert.match(previous, /eth1/, "the killed agent's log names the interface it counted on");
});

test("the operator killed with SIGKILL and restarted: the status converges", {
  timeout: 180_000,
}, async () => {
  const [op] = await podsOf(c, "operator");
  assert.ok(op);
  await killContainer(c, op);
  await send("node-1", 4_000);
  await send("node-2", 4_000);
  await until(
    "the operator restarted",
    async () => (await podsOf(c, "operator")).some((p) => p.restartCount > op.restartCount && p.ready),
    120_000,
  );
  await kubectlOk(c, [
    "wait",
    "--for=condition=Available",
    "-n",
    NAMESPACE,
    `deployment/${RELEASE}-operator`,
    "--timeout=60s",
  ]);
  await send("node-1", 10);
  await expectExactCounts(c, name, sent, { timeoutMs: 60_000 });
  const log = await kubectlOk(c, ["logs", "-n", NAMESPACE, `deployment/${RELEASE}-operator`]);
  assert.ok(log.trim().length > 0, "the restarted operator logs");
});

test("deleting the XdpCounter right after an agent crash leaves no XDP program and no pin on any node", {
  timeout: 180_000,
}, async (t) => {
  const counts = await readCounts(c, name);
  assert.equal(
    counts.total,
    Object.values(sent).reduce((a, b) => a + b, 0n),
  );
  const [victim] = await agentsOn("node-1");
  assert.ok(victim);
  await killContainer(c, victim);
  const began = performance.now();
  await kubectlOk(c, ["delete", "xdpcounter", name, "--wait=true", "--timeout=120s"]);
  t.diagnostic(`the XdpCounter gone after ${Math.round(performance.now() - began)} ms`);
  await expectNoXdpAnywhere(c, nodes);
  await agentPodsGone(c);
  t.diagnostic(`its agent pods gone after ${Math.round(performance.now() - began)} ms`);
});

test("a second XdpCounter, after the first, goes as cleanly", { timeout: 180_000 }, async () => {
  await kubectlOk(c, ["apply", "-f", "-"], manifest({ name: "again" }));
  await kubectlOk(c, ["wait", "--for=condition=Ready", "xdpcounter/again", "--timeout=120s"]);
  // a new XdpCounter counts from zero what arrives once its agents are attached
  await expectExactCounts(c, "again", { "node-1": 0, "node-2": 0 });
  await send("node-1", 1_234);
  await send("node-2", 200);
  await expectExactCounts(c, "again", { "node-1": 1_234, "node-2": 200 });
  await kubectlOk(c, ["delete", "xdpcounter", "again", "--wait=true", "--timeout=120s"]);
  await expectNoXdpAnywhere(c, nodes);
  // the agents' pods end after the XdpCounter, each within its termination grace period
  await agentPodsGone(c);
});

test("helm uninstall leaves nothing of the release behind", { timeout: 180_000 }, async () => {
  const r = await c.helm(["uninstall", RELEASE, "--namespace", NAMESPACE, "--wait", "--timeout", "120s"]);
  assert.equal(r.code, 0, `helm uninstall: ${r.stderr}`);
  await kubectlOk(c, [
    "wait",
    "--for=delete",
    "pod",
    "-n",
    NAMESPACE,
    "-l",
    `app.kubernetes.io/instance=${RELEASE}`,
    "--timeout=60s",
  ]);
  const left = await kubectlOk(c, [
    "get",
    "deployments,daemonsets,pods,serviceaccounts,roles,rolebindings",
    "-n",
    NAMESPACE,
    "-l",
    `app.kubernetes.io/instance=${RELEASE}`,
    "-o",
    "name",
  ]);
  assert.equal(left.trim(), "");
  const rbac = await kubectlOk(c, ["get", "clusterroles,clusterrolebindings", "-o", "name"]);
  assert.deepEqual(
    rbac.split("\n").filter((line) => line.includes(RELEASE)),
    [],
  );
  assert.equal(
    (await kubectlOk(c, ["get", "daemonsets,deployments,pods", "-n", NAMESPACE, "-o", "name"])).trim(),
    "",
  );
  const sa = await c.kubectl(["get", "serviceaccount", `${RELEASE}-agent`, "-n", NAMESPACE]);
  assert.match(sa.stderr, /NotFound/);
  await expectNoXdpAnywhere(c, nodes);
});
