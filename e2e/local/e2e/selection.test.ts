// Which nodes count, changed as a user changes it, on real nodes: a node relabelled out of an XdpCounter's
// nodeSelector is cleaned by the agent already there (docs/adr/0021: it detaches and unpins, then deletes its
// report; the operator then takes the node's agent label away and the DaemonSet its pod) while the other
// node's agent runs on untouched, also when the deselected node's agent was SIGKILLed just before; both nodes
// deselected at once; and `helm upgrade` of an agent setting rolls the agents with the counts kept. Needs
// root; about 3 minutes.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  exampleManifest,
  expectExactCounts,
  expectNoXdpAnywhere,
  kubectlOk,
  pinsOn,
  watchNeverDecreases,
  xdpLinks,
} from "../../scenario/index.ts";
import {
  agentPodsGone,
  type Cluster,
  chart,
  createReleaseNamespace,
  helmInstall,
  imageValues,
  killContainer,
  type LocalCluster,
  NAMESPACE,
  podsOf,
  RELEASE,
  startLocalCluster,
  until,
} from "./setup.ts";

let l: LocalCluster;
let c: Cluster;

before(
  async () => {
    l = await startLocalCluster(2, (line) => console.log(`# ${line}`));
    c = l.cluster;
    await createReleaseNamespace(c);
    const r = await helmInstall(l, ["--set", "operator.logLevel=debug"]);
    assert.equal(r.code, 0, `helm install: ${r.stderr}`);
  },
  { timeout: 600_000 },
);

after(async () => {
  await c?.stop();
});

const edge = (name: string) =>
  exampleManifest({
    name,
    interfaces: ["eth1"],
    reportInterval: "1s",
    spec: { nodeSelector: { pool: "edge" } },
  });

async function agentOn(node: string) {
  return (await podsOf(c, "agent")).find((p) => p.node === node);
}

async function deselect(name: string, killFirst: boolean): Promise<void> {
  try {
    await deselectScenario(name, killFirst);
  } finally {
    // a failed scenario must not leave its agents holding the nodes for the next one
    await c.kubectl(["delete", "xdpcounter", name, "--ignore-not-found", "--timeout=120s"]);
  }
}

const AGENT_DS = `${RELEASE}-agent`;

/** `until`, and when it times out the operator's log (at debug level in this suite) goes with the error. */
async function untilOrLogs(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  try {
    await until(what, check, timeoutMs);
  } catch (error) {
    const log = await c.kubectl(["logs", "-n", NAMESPACE, `deployment/${RELEASE}-operator`, "--tail=200"]);
    const xdpcs = await c.kubectl(["get", "xdpcounters,xdpcr", "-o", "yaml"]);
    throw new Error(
      `${(error as Error).message}\n--- objects:\n${xdpcs.stdout}\n--- operator log:\n${log.stdout}${log.stderr}`,
    );
  }
}

async function reportNodes(name: string): Promise<string[]> {
  const out = await kubectlOk(c, [
    "get",
    "xdpcr",
    "-l",
    `xdpcounter.dev/xdpcounter=${name}`,
    "-o",
    "jsonpath={.items[*].nodeName}",
  ]);
  return out.split(" ").filter(Boolean).sort();
}

async function deselectScenario(name: string, killFirst: boolean): Promise<void> {
  await kubectlOk(c, ["label", "node", "node-1", "node-2", "pool=edge", "--overwrite"]);
  await kubectlOk(c, ["apply", "-f", "-"], edge(name));
  await kubectlOk(c, ["wait", "--for=condition=Ready", `xdpcounter/${name}`, "--timeout=120s"]);
  const sent = {
    "node-1": BigInt(await c.node("node-1").send(3_000, 64)),
    "node-2": BigInt(await c.node("node-2").send(2_000, 64)),
  };
  await expectExactCounts(c, name, sent);
  assert.deepEqual(await xdpLinks(c, "node-2"), ["eth1"]);

  const agent1 = await agentOn("node-1");
  assert.ok(agent1);
  const ds = () =>
    kubectlOk(c, [
      "get",
      "daemonset",
      "-n",
      NAMESPACE,
      AGENT_DS,
      "-o",
      "jsonpath={.metadata.uid} {.metadata.generation}",
    ]);
  const before = await ds();
  const watch = watchNeverDecreases(c, name);
  if (killFirst) {
    const victim = await agentOn("node-2");
    assert.ok(victim);
    await killContainer(c, victim);
  }
  await kubectlOk(c, ["label", "node", "node-2", "pool-"]);
  await until("node-2's report deleted", async () => !(await reportNodes(name)).includes("node-2"), 90_000);
  assert.deepEqual(await xdpLinks(c, "node-2"), [], "no XDP program left on node-2");
  assert.deepEqual(await pinsOn(c, "node-2"), [], "no pin left in node-2's bpffs");
  await until(
    "node-2 without the agent label, and without an agent",
    async () =>
      (await kubectlOk(c, [
        "get",
        "node",
        "node-2",
        "-o",
        "jsonpath={.metadata.labels.xdpcounter\\.dev/agent}",
      ])) === "" && (await agentOn("node-2")) === undefined,
    60_000,
  );

  // the DaemonSet and node-1's agent were not touched, and node-1 counts on from where it was
  assert.equal(await ds(), before, "the agent DaemonSet unchanged");
  const agent1After = await agentOn("node-1");
  assert.deepEqual(
    [agent1After?.uid, agent1After?.restartCount],
    [agent1.uid, agent1.restartCount],
    "node-1's agent was not restarted",
  );
  // The status follows within a few intervals (the operator writes it at most once per reportInterval).
  await untilOrLogs(
    "the status: 1 node desired, 1 reporting",
    async () =>
      (await kubectlOk(c, [
        "get",
        "xdpcounter",
        name,
        "-o",
        "jsonpath={.status.desiredNodes} {.status.reportingNodes}",
      ])) === "1 1",
    30_000,
  );
  assert.deepEqual(await reportNodes(name), ["node-1"]);
  sent["node-1"] += BigInt(await c.node("node-1").send(1_000, 64));
  await expectExactCounts(c, name, { "node-1": sent["node-1"] });
  await watch.stop();

  await kubectlOk(c, ["delete", "xdpcounter", name, "--wait=true", "--timeout=120s"]);
  await expectNoXdpAnywhere(c, ["node-1", "node-2"]);
  await agentPodsGone(c);
}

test("a node relabelled out of the selector is detached, unpinned, says Clean and its entry goes", {
  timeout: 300_000,
}, async () => {
  await deselect("deselect", false);
});

test("the same when the node's agent was SIGKILLed just before the relabel", {
  timeout: 300_000,
}, async () => {
  await deselect("deselect-killed", true);
});

test("both nodes deselected at once: both detach, unpin and lose their agents; the XdpCounter says no node is selected", {
  timeout: 300_000,
}, async () => {
  const name = "both";
  try {
    await kubectlOk(c, ["label", "node", "node-1", "node-2", "pool=edge", "--overwrite"]);
    await kubectlOk(c, ["apply", "-f", "-"], edge(name));
    await kubectlOk(c, ["wait", "--for=condition=Ready", `xdpcounter/${name}`, "--timeout=120s"]);
    await kubectlOk(c, ["label", "node", "node-1", "node-2", "pool-"]);
    await until("both reports deleted", async () => (await reportNodes(name)).length === 0, 90_000);
    await expectNoXdpAnywhere(c, ["node-1", "node-2"]);
    await agentPodsGone(c);
    await kubectlOk(c, [
      "wait",
      '--for=jsonpath={.status.conditions[?(@.type=="Ready")].reason}=NoNodesSelected',
      `xdpcounter/${name}`,
      "--timeout=60s",
    ]);
  } finally {
    await c.kubectl(["delete", "xdpcounter", name, "--ignore-not-found", "--timeout=120s"]);
  }
});

test("helm upgrade of an agent setting rolls the agents; the counts go on, exact", {
  timeout: 300_000,
}, async () => {
  await kubectlOk(c, ["label", "node", "node-1", "node-2", "pool=edge", "--overwrite"]);
  const name = "upgraded";
  await kubectlOk(c, ["apply", "-f", "-"], edge(name));
  await kubectlOk(c, ["wait", "--for=condition=Ready", `xdpcounter/${name}`, "--timeout=120s"]);
  const sent = {
    "node-1": BigInt(await c.node("node-1").send(1_500, 64)),
    "node-2": BigInt(await c.node("node-2").send(2_500, 64)),
  };
  await expectExactCounts(c, name, sent);
  const before = (await podsOf(c, "agent")).map((p) => p.uid);
  const watch = watchNeverDecreases(c, name);

  const r = await c.helm([
    "upgrade",
    RELEASE,
    chart,
    "--namespace",
    NAMESPACE,
    "--reuse-values",
    ...imageValues(l.image),
    "--set",
    "agent.resources.limits.memory=300Mi",
    "--wait",
    "--timeout",
    "120s",
  ]);
  assert.equal(r.code, 0, `helm upgrade: ${r.stderr}`);
  const history = await c.helm(["history", RELEASE, "--namespace", NAMESPACE, "-o", "json"]);
  assert.equal((JSON.parse(history.stdout) as unknown[]).length, 2, "revision 2");

  await until(
    "new agents on both nodes, with the new limit",
    async () => {
      const out = await kubectlOk(c, [
        "get",
        "pods",
        "-n",
        NAMESPACE,
        "-l",
        "app.kubernetes.io/component=agent",
        "-o",
        "jsonpath={range .items[*]}{.metadata.uid} {.spec.containers[0].resources.limits.memory}{'\\n'}{end}",
      ]);
      const pods = out.split("\n").filter(Boolean);
      const agents = await podsOf(c, "agent");
      return (
        agents.length === 2 &&
        agents.every((p) => p.ready && !before.includes(p.uid)) &&
        pods.every((line) => line.endsWith(" 300Mi"))
      );
    },
    180_000,
  );
  sent["node-1"] += BigInt(await c.node("node-1").send(700, 64));
  sent["node-2"] += BigInt(await c.node("node-2").send(300, 64));
  await expectExactCounts(c, name, sent);
  assert.ok((await watch.stop()) > 0);
  await kubectlOk(c, ["delete", "xdpcounter", name, "--wait=true", "--timeout=120s"]);
});
