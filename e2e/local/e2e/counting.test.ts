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
  const perNode = await kubectlOk(c, ["get", "xdpcounterreports", "-l", `xdpcounter.dev/xdpcounter=${name}`]);
  assert.match(perNode, /node-1\s+Counting/, "kubectl get xdpcr shows the nodes");
  assert.match(perNode, /node-2\s+Counting/);
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
  // no XdpCounter at all: the agents read their specs from the agents' ConfigMap, never the status fan-out
  await expectForbidden(c, agent, ["get", "xdpcounters"]);
  await expectForbidden(c, agent, ["get", "xdpcounter", name]);
  await expectForbidden(c, agent, ["get", "configmaps", "-n", NAMESPACE]);
  await expectAllowed(c, agent, ["get", "configmap", `${RELEASE}-agent-specs`, "-n", NAMESPACE]);
  await expectAllowed(c, agent, ["get", "node", "node-1"]);
  await expectAllowed(c, agent, ["get", "xdpcounterreport", `${name}.node-1`]);
  await expectForbidden(c, agent, ["get", "xdpcounterreports"]);
  const operator = await serviceAccountKubeconfig(c, `${RELEASE}-operator`);
  await expectForbidden(c, operator, ["get", "secrets", "-A"]);
  await expectForbidden(c, operator, ["get", "daemonsets", "-n", "default"]);
  await expectAllowed(c, operator, ["get", "daemonsets", "-n", NAMESPACE]);
});

test("spec changes (action drop, then pass again) reach the running agents: no restart, the counts continue", {
  timeout: 300_000,
}, async () => {
  const watch = watchNeverDecreases(c, name);
  const agents = await podsOf(c, "agent");
  const generation = async () =>
    Number(await kubectlOk(c, ["get", "xdpcounter", name, "-o", "jsonpath={.metadata.generation}"]));
  const observed = async (g: number) =>
    (
      await kubectlOk(c, [
        "get",
        "xdpcounterreports",
        "-l",
        `xdpcounter.dev/xdpcounter=${name}`,
        "-o",
        "jsonpath={.items[*].generation}",
      ])
    )
      .split(" ")
      .filter((x) => Number(x) === g).length === nodes.length;
  await kubectlOk(c, ["apply", "-f", "-"], manifest({ action: "drop" }));
  const g1 = await generation();
  await until("every node runs the new spec", () => observed(g1), 60_000);
  const dropped: Record<string, bigint> = {};
  for (const [node, count] of [
    ["node-1", 1_500],
    ["node-2", 2_500],
  ] as const)
    dropped[node] = BigInt(await c.node(node).send(count, 256));
  await expectExactCounts(c, name, dropped, { action: "drop" });
  await expectExactCounts(c, name, sent);

  await kubectlOk(c, ["apply", "-f", "-"], manifest({ reportInterval: "2s" }));
  const g2 = await generation();
  await until("every node runs the spec after", () => observed(g2), 60_000);
  await send("node-1", 1_000);
  await send("node-2", 2_000);
  await expectExactCounts(c, name, sent);
  await expectExactCounts(c, name, dropped, { action: "drop" });
  assert.ok((await watch.stop()) > 0);
  const after = await podsOf(c, "agent");
  assert.deepEqual(
    after.map((p) => [p.uid, p.restartCount]).sort(),
    agents.map((p) => [p.uid, p.restartCount]).sort(),
    "the same agent pods, never restarted",
  );
});

test("the status's rates match the traffic sent, and kubectl get shows them", {
  timeout: 120_000,
}, async () => {
  // a steady stream into node-1 for 10 s, at the 2 s report interval of the spec applied before
  const started = Date.now();
  let frames = 0;
  const shown: number[] = [];
  while (Date.now() - started < 10_000) {
    const n = await c.node("node-1").send(200, 128);
    frames += n;
    sent["node-1"] = (sent["node-1"] ?? 0n) + BigInt(n);
    await new Promise((r) => setTimeout(r, 100));
    if (Date.now() - started > 5_000) {
      const out = await kubectlOk(c, [
        "get",
        "xdpcounter",
        name,
        "-o",
        "jsonpath={.status.rates.totalPacketsPerSecond}",
      ]);
      if (Number(out) > 0) shown.push(Number(out));
    }
  }
  const rate = (frames * 1000) / (Date.now() - started);
  assert.ok(shown.length > 0, "a rate was shown while traffic flowed");
  const median = [...shown].sort((a, b) => a - b)[Math.floor(shown.length / 2)] as number;
  assert.ok(
    Math.abs(median - rate) / rate < 0.4,
    `${median} packets/s shown (median), ${rate.toFixed(0)} sent`,
  );
  const table = await kubectlOk(c, ["get", "xdpcounter", name]);
  assert.match(table.split("\n")[0] ?? "", /PACKETS\/S/, "kubectl get xdpc has a packets/s column");
  await expectExactCounts(c, name, sent);
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
