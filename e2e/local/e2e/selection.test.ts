// Which nodes count, changed as a user changes it, on real nodes: a node relabelled out of an XdpCounter's
// nodeSelector is cleaned like a deletion (docs/adr/0012: a clean-mode agent detaches and unpins there, its
// entry says Clean and goes) while the other node's agent runs on untouched, also when the deselected node's
// agent was SIGKILLed just before; and `helm upgrade` of an agent setting rolls the agents with the counts
// kept. Needs root; about 3 minutes.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, test } from "node:test";
import { cleanupDaemonSetName, daemonSetName } from "../../../operator/daemonset/index.ts";
import {
  exampleManifest,
  expectExactCounts,
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
    const r = await helmInstall(l);
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

/**
 * The phases one node's entry goes through, as `kubectl get --watch` reports every change of the object
 * ("" once the entry is gone).
 */
function watchPhases(name: string, node: string): { phases: string[]; stop(): void } {
  const phases: string[] = [];
  const child = spawn(
    c.controlPlane.kubectl,
    [
      `--kubeconfig=${c.kubeconfig}`,
      "get",
      "xdpcounter",
      name,
      "--watch",
      "-o",
      `jsonpath={.status.nodes.${node}.phase}{"\\n"}`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let rest = "";
  child.stdout.on("data", (d: Buffer) => {
    const lines = (rest + d.toString()).split("\n");
    rest = lines.pop() ?? "";
    for (const phase of lines) if (phases.at(-1) !== phase) phases.push(phase);
  });
  return { phases, stop: () => child.kill() };
}

async function deselect(name: string, killFirst: boolean): Promise<void> {
  try {
    await deselectScenario(name, killFirst);
  } finally {
    // a failed scenario must not leave its agents holding the nodes for the next one
    await c.kubectl(["delete", "xdpcounter", name, "--ignore-not-found", "--timeout=120s"]);
  }
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
  const counting = JSON.parse(
    await kubectlOk(c, ["get", "daemonset", "-n", NAMESPACE, daemonSetName(name), "-o", "json"]),
  ) as { metadata: { uid: string; generation: number } };
  const watch = watchNeverDecreases(c, name);
  const phases = watchPhases(name, "node-2");
  try {
    await until("the phase watch to start", () => phases.phases.includes("Counting"), 30_000);
    if (killFirst) {
      const victim = await agentOn("node-2");
      assert.ok(victim);
      await killContainer(c, victim);
    }
    await kubectlOk(c, ["label", "node", "node-2", "pool-"]);
    await until(
      "node-2's entry Clean, then gone",
      () => phases.phases.includes("Clean") && phases.phases.at(-1) === "",
      90_000,
    ).catch((err: Error) => assert.fail(`${err.message}; phases seen: ${JSON.stringify(phases.phases)}`));
  } finally {
    phases.stop();
  }
  const clean = phases.phases.indexOf("Clean");
  assert.deepEqual(
    phases.phases.slice(clean + 1),
    [""],
    `nothing after Clean: ${JSON.stringify(phases.phases)}`,
  );
  assert.deepEqual(await xdpLinks(c, "node-2"), [], "no XDP program left on node-2");
  assert.deepEqual(await pinsOn(c, "node-2"), [], "no pin left in node-2's bpffs");
  await kubectlOk(c, [
    "wait",
    "--for=delete",
    "daemonset",
    "-n",
    NAMESPACE,
    cleanupDaemonSetName(name),
    "--timeout=60s",
  ]);
  await until("no agent pod on node-2", async () => (await agentOn("node-2")) === undefined, 60_000);

  // the counting DaemonSet and node-1's agent were not touched, and node-1 counts on from where it was
  const after = JSON.parse(
    await kubectlOk(c, ["get", "daemonset", "-n", NAMESPACE, daemonSetName(name), "-o", "json"]),
  ) as { metadata: { uid: string; generation: number } };
  assert.deepEqual(
    [after.metadata.uid, after.metadata.generation],
    [counting.metadata.uid, counting.metadata.generation],
    "the counting DaemonSet unchanged",
  );
  const agent1After = await agentOn("node-1");
  assert.deepEqual(
    [agent1After?.uid, agent1After?.restartCount],
    [agent1.uid, agent1.restartCount],
    "node-1's agent was not restarted",
  );
  const status = JSON.parse(await kubectlOk(c, ["get", "xdpcounter", name, "-o", "json"])) as {
    status: { desiredNodes: number; nodes: Record<string, unknown> };
  };
  assert.equal(status.status.desiredNodes, 1);
  assert.deepEqual(Object.keys(status.status.nodes), ["node-1"]);
  sent["node-1"] += BigInt(await c.node("node-1").send(1_000, 64));
  await expectExactCounts(c, name, { "node-1": sent["node-1"] });
  await watch.stop();

  await kubectlOk(c, ["delete", "xdpcounter", name, "--wait=true", "--timeout=120s"]);
  assert.deepEqual(await xdpLinks(c, "node-1"), []);
  assert.deepEqual(await pinsOn(c, "node-1"), []);
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
