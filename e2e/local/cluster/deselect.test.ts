// A node relabelled out of an XdpCounter's nodeSelector is cleaned like a deletion (docs/adr/0012): the
// operator (in-process) puts a clean-mode agent there from the XdpCounter's cleanup DaemonSet, the real agent
// (`xdp-counter agent`) detaches eth1 and unpins in the node's own bpffs, reports Cleaning then Clean; the
// entry is then removed and the cleanup DaemonSet deleted. The counting DaemonSet is never rewritten: the
// other node's agent is the same pod and process throughout, and counts on without reset. The same after the
// deselected node's agent was SIGKILLed just before the relabel. Needs root.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { AGENT_RBAC_RULES } from "../../../agent/cluster/cluster-api.ts";
import type { NodeStatus } from "../../../api/v1alpha1/index.ts";
import { parseOperatorConfig } from "../../../operator/config/index.ts";
import {
  Controller,
  createMetrics,
  HttpKubeClient,
  loadKubeConfig,
} from "../../../operator/controller/index.ts";
import { silentLogger } from "../../../runtime/index.ts";
import { type Cluster, type SimNode, startCluster } from "./index.ts";
import { getJson, kubectlOk, processAlive, until } from "./testdata/probe.ts";

const repo = join(import.meta.dirname, "..", "..", "..");
const NS = "xdp-counter";
const tag = `${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
let c: Cluster;
let controller: Controller | undefined;

type Xdpc = { status?: { nodes?: Record<string, NodeStatus>; desiredNodes?: number } };
type Ds = { metadata: { generation?: number; uid?: string } };

before(async () => {
  execFileSync("make", ["-s", "-C", join(repo, "bpf")], { stdio: "inherit" });
  c = await startCluster({
    nodes: [{ labels: { pool: "edge" } }, { labels: { pool: "edge" } }],
    crds: [join(repo, "crds", "xdpcounters.xdpcounter.dev.yaml")],
    commands: { "xdp-counter": [process.execPath, join(repo, "agent", "cli", "bin.ts")] },
  });
  await kubectlOk(c, ["create", "namespace", NS]);
  await kubectlOk(c, ["create", "serviceaccount", "-n", NS, "xdp-counter-agent"]);
  const role = `xdp-counter-agent-${tag}`;
  for (const object of [
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: role },
      rules: AGENT_RBAC_RULES,
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: role },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
      subjects: [{ kind: "ServiceAccount", name: "xdp-counter-agent", namespace: NS }],
    },
  ]) {
    await kubectlOk(c, ["create", "-f", "-"], JSON.stringify(object));
  }
  controller = new Controller({
    client: new HttpKubeClient(await loadKubeConfig(readFileSync(c.kubeconfigPath, "utf8"))),
    config: parseOperatorConfig({
      XDP_COUNTER_NAMESPACE: NS,
      XDP_COUNTER_AGENT_IMAGE: "ghcr.io/example/xdp-counter:0.1.0",
      XDP_COUNTER_AGENT_TERMINATION_GRACE_PERIOD_SECONDS: "5",
    }),
    log: silentLogger,
    metrics: createMetrics(),
    informerBackoff: { baseMs: 50, maxMs: 500, jitter: 0.2 },
    queueBackoff: { baseMs: 20, maxMs: 1_000, jitter: 0.2 },
  });
  await controller.start();
});

after(async () => {
  await controller?.stop();
  await c?.stop();
});

async function xdpProgId(node: SimNode): Promise<number> {
  const r = await node.exec(["ip", "-j", "link", "show", "dev", "eth1"]);
  const link = (JSON.parse(r.stdout) as { xdp?: { prog?: { id: number } } }[])[0];
  return link?.xdp?.prog?.id ?? 0;
}

async function pins(node: SimNode, name: string): Promise<string[] | undefined> {
  const r = await node.exec(["find", `/sys/fs/bpf/xdp-counter/${name}`]);
  return r.code === 0 ? r.stdout.split("\n").filter(Boolean) : undefined;
}

async function entries(name: string): Promise<Record<string, NodeStatus>> {
  return (await getJson<Xdpc>(c, ["xdpcounter", name])).status?.nodes ?? {};
}

async function passOf(name: string, node: string): Promise<string | undefined> {
  return (await entries(name))[node]?.packets.pass;
}

/** Phases of one node's entry as the store saw them (undefined: removed). */
function recordPhases(name: string, node: string): { phases: (string | undefined)[]; stop(): void } {
  const phases: (string | undefined)[] = [];
  const stop = c.server.api.store.subscribe((e) => {
    if (e.object.kind !== "XdpCounter" || e.object.metadata.name !== name) return;
    const nodes = (e.object as Xdpc).status?.nodes ?? {};
    const phase = nodes[node]?.phase;
    if (phases.at(-1) !== phase || phases.length === 0) phases.push(phase);
  });
  return { phases, stop };
}

async function scenario(name: string, killFirst: boolean): Promise<void> {
  const n1 = c.node("node-1");
  const n2 = c.node("node-2");
  await kubectlOk(
    c,
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "xdpcounter.dev/v1alpha1",
      kind: "XdpCounter",
      metadata: { name },
      spec: { interfaces: ["eth1"], nodeSelector: { pool: "edge" }, reportInterval: "1s" },
    }),
  );
  await until(
    "both nodes counting on eth1",
    async () => {
      const e = await entries(name);
      return ["node-1", "node-2"].every(
        (n) => e[n]?.phase === "Counting" && e[n]?.interfaces.some((i) => i.name === "eth1" && i.attached),
      );
    },
    30_000,
  );
  const sent1 = await n1.traffic.send(3_000, 64);
  const sent2 = await n2.traffic.send(2_000, 64);
  await until("node-1's count", async () => (await passOf(name, "node-1")) === String(sent1), 15_000);
  await until("node-2's count", async () => (await passOf(name, "node-2")) === String(sent2), 15_000);
  assert.ok((await xdpProgId(n2)) > 0);
  assert.ok((await pins(n2, name))?.some((p) => p.endsWith("/eth1/link")));

  // The counting DaemonSet and node-1's agent, to compare once node-2 is clean: neither may change.
  const counting = await getJson<Ds>(c, ["daemonset", "-n", NS, `xdp-counter-${name}`]);
  const [agent1] = c.podsOn("node-1");
  assert.ok(agent1?.pid);
  const cleanupDs = `xdp-counter-${name}-cleanup`;
  let sawCleanup = false;
  const watchCleanup = c.server.api.store.subscribe((e) => {
    const owner = e.object.metadata.ownerReferences?.find((r) => r.controller)?.name;
    const node = (e.object.spec as { nodeName?: string } | undefined)?.nodeName;
    if (e.object.kind === "Pod" && owner === cleanupDs && node === "node-2") sawCleanup = true;
  });

  const recorder = recordPhases(name, "node-2");
  try {
    if (killFirst) {
      const [pod] = c.podsOn("node-2");
      assert.ok(pod?.pid);
      c.killPod("node-2", pod.name, "SIGKILL");
      await until("the agent to die", () => !processAlive(pod.pid));
    }
    c.labelNode("node-2", { pool: null });

    await until(
      "node-2's entry Clean, then removed",
      () => recorder.phases.includes("Clean") && recorder.phases.at(-1) === undefined,
      30_000,
    );
    const clean = recorder.phases.indexOf("Clean");
    assert.equal(recorder.phases.slice(clean + 1).filter(Boolean).length, 0, `${recorder.phases}`);
  } finally {
    recorder.stop();
    watchCleanup();
  }
  assert.ok(sawCleanup, "a pod of the cleanup DaemonSet ran on node-2");
  assert.equal(await xdpProgId(n2), 0, "no XDP program left on node-2's eth1");
  assert.equal(await pins(n2, name), undefined, "no pins left in node-2's bpffs");
  await until("node-2's pod to go", () => c.podsOn("node-2").length === 0, 30_000);
  await until(
    "the cleanup DaemonSet to be deleted",
    async () => (await c.kubectl(["get", "daemonset", "-n", NS, cleanupDs])).code !== 0,
    30_000,
  );
  const countingAfter = await getJson<Ds>(c, ["daemonset", "-n", NS, `xdp-counter-${name}`]);
  assert.equal(countingAfter.metadata.uid, counting.metadata.uid);
  assert.equal(
    countingAfter.metadata.generation,
    counting.metadata.generation,
    "the counting DaemonSet unchanged",
  );
  const [agent1After] = c.podsOn("node-1");
  assert.deepEqual(
    [agent1After?.uid, agent1After?.pid, agent1After?.restartCount],
    [agent1.uid, agent1.pid, agent1.restartCount],
    "node-1's agent was not restarted",
  );
  const xdpc = await getJson<Xdpc>(c, ["xdpcounter", name]);
  assert.equal(xdpc.status?.desiredNodes, 1);
  assert.deepEqual(Object.keys(xdpc.status?.nodes ?? {}), ["node-1"]);

  // node-1 counted on, from where it was
  assert.ok((await xdpProgId(n1)) > 0);
  const more = await n1.traffic.send(1_000, 64);
  let last: string | undefined;
  await until(
    `node-1's count continued (${sent1} + ${more})`,
    async () => {
      last = await passOf(name, "node-1");
      return last === String(sent1 + more);
    },
    15_000,
  ).catch(async (err: Error) => {
    const ds = await c.kubectl(["get", "ds,pods", "-n", NS, "-o", "yaml"]);
    throw new Error(
      `${err.message}; last ${last}; ${JSON.stringify(c.pods().map((p) => [p.name, p.node, p.pid, p.ready, p.log().slice(-1500)]))} ${ds.stdout.slice(0, 6000)}`,
    );
  });

  await kubectlOk(c, ["delete", "xdpcounter", name, "--timeout=60s"]);
  assert.equal(await xdpProgId(n1), 0);
  assert.equal(await pins(n1, name), undefined);
  c.labelNode("node-2", { pool: "edge" });
  await until("no agent pods left", () => c.pods().length === 0, 30_000);
}

test("a node relabelled out of the selector is detached, unpinned, reports Clean, and its entry goes", async () => {
  await scenario(`deselect-${tag}`, false);
});

test("the same when the node's agent was SIGKILLed just before the relabel", async () => {
  await scenario(`deselect-killed-${tag}`, true);
});
