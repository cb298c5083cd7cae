// The whole life of xdp-counter on the local cluster, driven as a user drives it: helm install of the chart,
// kubectl apply of examples/xdpcounter.yaml (edited for the simulated nodes' traffic interface eth1 and a 1 s
// report interval), exact packets into each node, a spec change, an agent crash, an operator restart, deletion
// (also right after an agent crash) and helm uninstall. Needs root; about a minute.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
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
  type ScenarioCluster,
  watchNeverDecreases,
} from "../../scenario/index.ts";
import { type Cluster, until } from "../cluster/index.ts";
import { helmInstall, NAMESPACE, RELEASE, repo, scenarioOf, startLocalCluster } from "./setup.ts";

let c: Cluster;
let s: ScenarioCluster;
const name = exampleName();
const nodes = ["node-1", "node-2"];
/** What each node was sent so far, and must show. */
const sent: Record<string, bigint> = { "node-1": 0n, "node-2": 0n };

before(
  async () => {
    execFileSync("make", ["-s", "-C", `${repo}/bpf`], { stdio: "inherit" });
    c = await startLocalCluster(2);
    s = scenarioOf(c);
  },
  { timeout: 120_000 },
);

after(async () => {
  await c?.stop();
});

async function send(node: string, count: number, length = 128): Promise<void> {
  sent[node] = (sent[node] ?? 0n) + BigInt(await c.node(node).traffic.send(count, length));
}

function agentsOn(node: string) {
  return c.podsOn(node).filter((p) => p.namespace === NAMESPACE);
}

async function operatorPod(): Promise<string> {
  const out = await kubectlOk(s, [
    "get",
    "pods",
    "-n",
    NAMESPACE,
    "-l",
    "app.kubernetes.io/component=operator",
    "-o",
    "jsonpath={.items[*].metadata.name}",
  ]);
  const [pod] = out.split(" ").filter(Boolean);
  assert.ok(pod, "an operator pod");
  return pod;
}

const manifest = (edits: Parameters<typeof exampleManifest>[0] = {}) =>
  exampleManifest({ interfaces: ["eth1"], reportInterval: "1s", ...edits });

test("helm install runs the operator with the chart's ServiceAccount", { timeout: 120_000 }, async () => {
  const r = await helmInstall(c);
  assert.equal(r.code, 0, `helm install: ${r.stderr}`);
  const op = c.podsOn(undefined).find((p) => p.namespace === NAMESPACE);
  assert.ok(op?.ready, "the operator's pod runs and is ready");
});

test("kubectl apply of the example: each node shows exactly the packets sent into it", {
  timeout: 120_000,
}, async () => {
  await kubectlOk(s, ["apply", "-f", "-"], manifest());
  await until("an agent on each node", () => nodes.every((n) => agentsOn(n).some((p) => p.ready)), 30_000);
  await expectExactCounts(s, name, sent);
  await send("node-1", 20_000, 64);
  await send("node-2", 7_777, 512);
  await expectExactCounts(s, name, sent);
});

test("the agents' ServiceAccount may do what an agent needs and nothing else", {
  timeout: 120_000,
}, async () => {
  const agent = c.kubeconfig({ namespace: NAMESPACE, serviceAccount: `${RELEASE}-agent` });
  await expectForbidden(s, agent, ["get", "secrets", "-A"]);
  await expectForbidden(s, agent, ["get", "pods", "-n", NAMESPACE]);
  await expectForbidden(s, agent, ["delete", "xdpcounter", name]);
  await expectForbidden(s, agent, ["create", "namespace", "agent-made"]);
  await expectForbidden(s, agent, [
    "patch",
    "xdpcounter",
    name,
    "--type",
    "merge",
    "-p",
    '{"spec":{"action":"drop"}}',
  ]);
  await expectAllowed(s, agent, ["get", "xdpcounters"]);
  await expectAllowed(s, agent, ["get", "xdpcounter", name]);
  await expectAllowed(s, agent, ["get", "node", "node-1"]);
  const operator = c.kubeconfig({ namespace: NAMESPACE, serviceAccount: `${RELEASE}-operator` });
  await expectForbidden(s, operator, ["get", "secrets", "-A"]);
  await expectForbidden(s, operator, ["get", "daemonsets", "-n", "default"]);
  await expectAllowed(s, operator, ["get", "daemonsets", "-n", NAMESPACE]);
});

/** Applies the manifest and waits until every node runs a ready agent that was not there before. */
async function applyAndRollOut(yaml: string): Promise<void> {
  const before = nodes.flatMap((n) => agentsOn(n).map((p) => p.uid));
  await kubectlOk(s, ["apply", "-f", "-"], yaml);
  await until(
    "the agents replaced",
    () => nodes.every((n) => agentsOn(n).some((p) => p.ready && !before.includes(p.uid))),
    60_000,
  );
}

test("spec changes (action drop, then pass again) roll out and the counts continue", {
  timeout: 120_000,
}, async () => {
  const watch = watchNeverDecreases(s, name);
  await applyAndRollOut(manifest({ action: "drop" }));
  const dropped: Record<string, bigint> = {};
  for (const [node, count] of [
    ["node-1", 1_500],
    ["node-2", 2_500],
  ] as const)
    dropped[node] = BigInt(await c.node(node).traffic.send(count, 256));
  await expectExactCounts(s, name, dropped, { action: "drop" });
  await expectExactCounts(s, name, sent);

  await applyAndRollOut(manifest({ reportInterval: "2s" }));
  await send("node-1", 1_000);
  await send("node-2", 2_000);
  await expectExactCounts(s, name, sent);
  await expectExactCounts(s, name, dropped, { action: "drop" });
  assert.ok((await watch.stop()) > 0);
});

test("an agent killed with SIGKILL is restarted; the totals never go down and end exact", {
  timeout: 120_000,
}, async () => {
  const watch = watchNeverDecreases(s, name);
  const victim = agentsOn("node-2")[0];
  assert.ok(victim);
  const restarts = victim.restartCount;
  c.killPod("node-2", victim.name);
  await send("node-2", 3_000);
  await send("node-1", 500);
  await until("the agent restarted", () =>
    agentsOn("node-2").some((p) => p.restartCount > restarts && p.ready),
  );
  await send("node-2", 100);
  await expectExactCounts(s, name, sent);
  await watch.stop();
});

test("the operator killed and restarted: the status converges", { timeout: 120_000 }, async () => {
  const pod = await operatorPod();
  c.killPod(undefined, pod);
  await send("node-1", 4_000);
  await send("node-2", 4_000);
  await until("the operator back", () =>
    c.podsOn(undefined).some((p) => p.namespace === NAMESPACE && p.ready),
  );
  await send("node-1", 10);
  await expectExactCounts(s, name, sent);
});

test("deleting the XdpCounter right after an agent crash leaves no XDP program and no pin on any node", {
  timeout: 120_000,
}, async () => {
  const counts = await readCounts(s, name);
  assert.equal(
    counts.total,
    Object.values(sent).reduce((a, b) => a + b, 0n),
  );
  const victim = agentsOn("node-1")[0];
  assert.ok(victim);
  c.killPod("node-1", victim.name);
  await kubectlOk(s, ["delete", "xdpcounter", name, "--wait=true", "--timeout=60s"]);
  await expectNoXdpAnywhere(s, nodes);
  await until("no agent pods", () => nodes.every((n) => agentsOn(n).length === 0), 30_000);
});

test("a second XdpCounter, deleted normally, goes as cleanly", { timeout: 120_000 }, async () => {
  await kubectlOk(s, ["apply", "-f", "-"], manifest({ name: "again" }));
  await send("node-1", 300);
  await send("node-2", 200);
  // a new XdpCounter counts from zero what arrives once its agents are attached
  await until("agents attached", async () => {
    const r = await readCounts(s, "again");
    return Object.keys(r.nodes).length === 2;
  });
  await send("node-1", 1_234);
  await until(
    "the new packets counted",
    async () => ((await readCounts(s, "again")).nodes["node-1"] ?? 0n) >= 1_234n,
  );
  await kubectlOk(s, ["delete", "xdpcounter", "again", "--wait=true", "--timeout=60s"]);
  await expectNoXdpAnywhere(s, nodes);
});

test("helm uninstall leaves nothing of the release behind", { timeout: 120_000 }, async () => {
  const r = await c.helm(["uninstall", RELEASE, "--namespace", NAMESPACE, "--wait", "--timeout", "60s"]);
  assert.equal(r.code, 0, `helm uninstall: ${r.stderr}`);
  await until("the operator gone", () => c.podsOn(undefined).every((p) => p.namespace !== NAMESPACE));
  const left = await kubectlOk(s, [
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
  const rbac = await kubectlOk(s, ["get", "clusterroles,clusterrolebindings", "-o", "name"]);
  assert.deepEqual(
    rbac.split("\n").filter((l) => l.includes(RELEASE)),
    [],
  );
  assert.equal(
    (await kubectlOk(s, ["get", "daemonsets,deployments", "-n", NAMESPACE, "-o", "name"])).trim(),
    "",
  );
  const sa = await c.kubectl(["get", "serviceaccount", `${RELEASE}-agent`, "-n", NAMESPACE]);
  assert.match(sa.stderr, /NotFound/);
  await expectNoXdpAnywhere(s, nodes);
});
