// Faults on the real cluster, under traffic: kube-apiserver stopped for longer than the agents' back-off
// ceiling, and killed; etcd killed; the operator's leader killed; a kubelet and a containerd restarted; a
// node's link cut for two minutes; a Node object deleted under its running agent; a node "rebooted". Each
// fault has packets sent into both nodes before, during and after it, and ends only when the XdpCounter's
// totals are exact again, with the same XDP program on each node (nothing was detached) and its pins in
// place, within the bound the fault states. Nobody restarts the operator or an agent by hand. The faults
// share one cluster and run one after another; the table of what was survived, and how fast, is printed at
// the end (docs/reliability.md). The agent container killed is in counting.test.ts. Needs root; about 9
// minutes.
import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { exampleManifest, exampleName, expectExactCounts, kubectlOk, pinsOn } from "../../scenario/index.ts";
import {
  allPodsOf,
  type Cluster,
  createReleaseNamespace,
  helmInstall,
  killContainer,
  type LocalCluster,
  NAMESPACE,
  type PodView,
  podsOf,
  RELEASE,
  startLocalCluster,
  until,
} from "./setup.ts";

let l: LocalCluster;
let c: Cluster;
const name = exampleName();
const nodes = ["node-1", "node-2"] as const;
type NodeName = (typeof nodes)[number];
/** What each node was sent so far, and must show. */
const sent: Record<NodeName, bigint> = { "node-1": 0n, "node-2": 0n };
/** The table of faults survived, printed at the end. */
const rows: { fault: string; injected: string; recoveredS: string; result: string }[] = [];

before(
  async () => {
    l = await startLocalCluster(2, (line) => console.log(`# ${line}`));
    c = l.cluster;
    await createReleaseNamespace(c);
    // two operator replicas: one leads, the other stands by for the leader-killed fault
    const r = await helmInstall(l, ["--set", "operator.replicas=2", "--set", "operator.logLevel=debug"]);
    assert.equal(r.code, 0, `helm install: ${r.stderr}`);
    await kubectlOk(c, ["apply", "-f", "-"], exampleManifest({ interfaces: ["eth1"], reportInterval: "1s" }));
    await kubectlOk(c, ["wait", "--for=condition=Ready", `xdpcounter/${name}`, "--timeout=120s"]);
  },
  { timeout: 600_000 },
);

after(async () => {
  if (rows.length > 0) {
    console.log("# | fault | injected | recovered in | counts |");
    console.log("# |---|---|---|---|");
    for (const r of rows) console.log(`# | ${r.fault} | ${r.injected} | ${r.recoveredS} | ${r.result} |`);
  }
  await c?.stop();
});

// A fault that was not survived leaves what a user would look at first: the agent pods, the DaemonSet, the
// reports and the agents' last log lines.
afterEach(async (t) => {
  if (!c || ("passed" in t && t.passed === true)) return;
  const show = async (what: string, args: string[]) => {
    const r = await c.kubectl(args);
    console.log(`# ${what}:\n${r.stdout}${r.stderr}`.replaceAll("\n", "\n# "));
  };
  await show("agent pods", [
    "get",
    "pods",
    "-n",
    NAMESPACE,
    "-o",
    "wide",
    "-l",
    "app.kubernetes.io/component=agent",
  ]);
  await show("nodes", ["get", "nodes", "-L", "xdpcounter.dev/agent"]);
  await show("the agents' DaemonSet", ["get", "daemonset", "-n", NAMESPACE, "-o", "wide"]);
  await show("reports", ["get", "xdpcr", "-o", "wide"]);
  await show("events", ["get", "events", "-n", NAMESPACE, "--sort-by=.lastTimestamp"]);
  for (const pod of await podsOf(c, "agent"))
    await show(`${pod.name}'s log (${pod.node})`, ["logs", "-n", NAMESPACE, pod.name, "--tail=40"]);
  for (const pod of await podsOf(c, "operator"))
    await show(`${pod.name}'s log (${pod.node})`, ["logs", "-n", NAMESPACE, pod.name, "--tail=150"]);
  await show("the operator's Lease", ["get", "lease", "-n", NAMESPACE, "-o", "yaml"]);
});

async function send(node: NodeName, count: number): Promise<void> {
  sent[node] += BigInt(await c.node(node).send(count, 128));
}

async function sendAll(count: number): Promise<void> {
  for (const node of nodes) await send(node, count);
}

/** The id of the XDP program on each node's eth1: the same id afterwards means it was never detached. */
async function programs(): Promise<Record<string, number | undefined>> {
  const ids: Record<string, number | undefined> = {};
  for (const node of nodes) {
    const r = await c.execOnNode(node, ["ip", "-j", "link", "show", "eth1"]);
    assert.equal(r.code, 0, `ip link on ${node}: ${r.stderr}`);
    const [link] = JSON.parse(r.stdout) as { xdp?: { prog?: { id?: number } } }[];
    ids[node] = link?.xdp?.prog?.id;
  }
  return ids;
}

/**
 * Waits until the agents' DaemonSet has settled: one Ready agent pod on each node and none terminating (a
 * fault can make the DaemonSet controller replace an agent; the next fault starts from a settled cluster).
 */
async function agentsSettled(timeoutMs: number): Promise<void> {
  let settledSince: number | undefined;
  await until(
    "one Ready agent pod per node, none terminating",
    async () => {
      const all = await allPodsOf(c, "agent");
      const ready = all.filter((p) => !p.terminating);
      const labelled = await kubectlOk(c, ["get", "nodes", "-l", "xdpcounter.dev/agent=true", "-o", "name"]);
      const settled =
        all.length === nodes.length &&
        ready.length === nodes.length &&
        nodes.every((n) => ready.some((p) => p.node === n && p.ready)) &&
        nodes.every((n) => labelled.includes(`node/${n}`));
      // settled twice in a row: a DaemonSet sync that read a Node before it was labelled again may still
      // delete that node's agent
      if (!settled) settledSince = undefined;
      else settledSince ??= performance.now();
      return settledSince !== undefined && performance.now() - settledSince >= 3_000;
    },
    timeoutMs,
  );
}

const identity = (pods: PodView[]) => pods.map((p) => `${p.node} ${p.uid} restarts=${p.restartCount}`).sort();

/**
 * One fault: packets before it, `inject` (which sends packets while the fault lasts and heals it), packets
 * after it; then the totals must be exact within `boundMs` of the healing, with the same XDP programs and
 * pins (and, with `agentsKept`, the same agent containers, never restarted).
 */
async function survive(
  fault: string,
  injected: string,
  inject: () => Promise<void>,
  opts: { boundMs: number; agentsKept: boolean },
): Promise<number> {
  await agentsSettled(120_000);
  const began = performance.now();
  await sendAll(1_000);
  await expectExactCounts(c, name, sent, { timeoutMs: 60_000 });
  const before = await programs();
  assert.ok(
    nodes.every((n) => before[n] !== undefined),
    `a program on each eth1: ${JSON.stringify(before)}`,
  );
  const agents = await podsOf(c, "agent");
  const faultAt = performance.now();
  await inject();
  const healed = performance.now();
  await sendAll(1_000);
  await expectExactCounts(c, name, sent, { timeoutMs: opts.boundMs });
  const recoveredMs = performance.now() - healed;
  assert.deepEqual(
    await programs(),
    before,
    "the same XDP program on each node's eth1: nothing was detached",
  );
  for (const node of nodes) assert.ok((await pinsOn(c, node)).length > 0, `pins on ${node}`);
  if (opts.agentsKept)
    assert.deepEqual(
      identity(await podsOf(c, "agent")),
      identity(agents),
      "the same agents, never restarted",
    );
  rows.push({ fault, injected, recoveredS: `${(recoveredMs / 1000).toFixed(1)} s`, result: "exact" });
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  console.log(
    `# ${fault}: exact before it after ${s(faultAt - began)}, the fault ${s(healed - faultAt)}, exact again ${s(recoveredMs)} after it was healed`,
  );
  return recoveredMs;
}

/** The control plane's component down for `downMs`, with traffic into both nodes meanwhile. */
function controlPlaneDown(
  component: "kube-apiserver" | "etcd",
  signal: "SIGTERM" | "SIGKILL",
  downMs: number,
): () => Promise<void> {
  return async () => {
    const cp = c.controlPlane;
    await cp.kill(component, signal);
    const began = Date.now();
    await sendAll(2_000);
    await sleep(Math.max(0, downMs - (Date.now() - began)));
    await cp.restart(component);
  };
}

test("kube-apiserver killed (SIGKILL) for 5 s and started again: the totals end exact", {
  timeout: 240_000,
}, async () => {
  await survive(
    "kube-apiserver killed",
    "SIGKILL, started again after 5 s",
    controlPlaneDown("kube-apiserver", "SIGKILL", 5_000),
    {
      boundMs: 90_000,
      agentsKept: true,
    },
  );
});

test("etcd killed (SIGKILL) for 5 s and started again: the totals end exact", {
  timeout: 240_000,
}, async () => {
  await survive(
    "etcd killed",
    "SIGKILL, started again after 5 s",
    controlPlaneDown("etcd", "SIGKILL", 5_000),
    {
      boundMs: 90_000,
      agentsKept: true,
    },
  );
});

test("kube-apiserver stopped (SIGTERM) for 45 s, longer than the agents' 30 s back-off ceiling: all reconnect by themselves", {
  timeout: 300_000,
}, async () => {
  // at a 1 s interval an agent's report back-off is capped at 30 s (agent/cluster/backoff.ts), its watches'
  // at 60 s: the bound leaves room for one full wait of each after the server is back
  await survive(
    "kube-apiserver stopped 45 s",
    "kube-apiserver SIGTERM, started again after 45 s",
    controlPlaneDown("kube-apiserver", "SIGTERM", 45_000),
    {
      boundMs: 120_000,
      agentsKept: true,
    },
  );
});

test("the operator's leader killed with two replicas: the other takes the Lease and writes the status", {
  timeout: 240_000,
}, async () => {
  const lease = () =>
    kubectlOk(c, [
      "get",
      "lease",
      "-n",
      NAMESPACE,
      `${RELEASE}-operator`,
      "-o",
      "jsonpath={.spec.holderIdentity}",
    ]);
  const leader = await lease();
  const operators = await podsOf(c, "operator");
  assert.equal(operators.length, 2, "two operator replicas");
  // a replica's identity in the Lease is its pod's name and a suffix of its own (runtime/kube/leader-election.ts)
  const victim = operators.find((p) => leader.startsWith(`${p.name}_`));
  assert.ok(victim, `the Lease's holder ${leader} is one of ${operators.map((p) => p.name).join(", ")}`);
  let killedAt = 0;
  const ms = await survive(
    "operator leader killed",
    "SIGKILL of the leader's container, 2 replicas",
    async () => {
      await killContainer(c, victim);
      killedAt = performance.now();
      await sendAll(2_000);
    },
    { boundMs: 90_000, agentsKept: true },
  );
  const holder = await lease();
  console.log(
    `# the operator's leader ${leader} killed: the next status write with the new counts ${(ms / 1000).toFixed(1)} s after the packets, ${((performance.now() - killedAt) / 1000).toFixed(1)} s after the kill; the Lease is held by ${holder}`,
  );
});

test("a kubelet restarted: its agent pod runs on, counting; the totals end exact", {
  timeout: 240_000,
}, async () => {
  await survive(
    "kubelet restarted",
    "SIGTERM of node-1's kubelet, started again",
    async () => {
      await c.node("node-1").kill("kubelet", "SIGTERM");
      await sendAll(2_000);
      await c.node("node-1").restart("kubelet");
    },
    { boundMs: 60_000, agentsKept: true },
  );
});

test("a containerd killed and restarted: the containers outlive it; the totals end exact", {
  timeout: 240_000,
}, async () => {
  await survive(
    "containerd restarted",
    "SIGKILL of node-2's containerd, started again",
    async () => {
      await c.node("node-2").kill("containerd", "SIGKILL");
      await sendAll(2_000);
      await c.node("node-2").restart("containerd");
    },
    { boundMs: 60_000, agentsKept: true },
  );
});

test("a node's link to the control plane cut for two minutes: it counts on, and its reports resume exact", {
  timeout: 420_000,
}, async () => {
  const node = c.node("node-2");
  await survive(
    "node link cut 2 min",
    "every packet on node-2's eth0 dropped for 120 s",
    async () => {
      await node.disconnect();
      try {
        const began = Date.now();
        while (Date.now() - began < 120_000) {
          await sendAll(500);
          await sleep(10_000);
        }
      } finally {
        await node.reconnect();
      }
    },
    { boundMs: 150_000, agentsKept: true },
  );
});

test("a Node object deleted under its running agent: its report goes; the kubelet registers it again and the node counts on", {
  timeout: 300_000,
}, async () => {
  await sendAll(1_000);
  await expectExactCounts(c, name, sent, { timeoutMs: 60_000 });
  const before = await programs();
  const reportNodes = async () =>
    (
      await kubectlOk(c, [
        "get",
        "xdpcr",
        "-l",
        `xdpcounter.dev/xdpcounter=${name}`,
        "-o",
        "jsonpath={.items[*].nodeName}",
      ])
    )
      .split(" ")
      .filter(Boolean)
      .sort();
  await kubectlOk(c, ["delete", "node", "node-2", "--wait=true"]);
  const deleted = performance.now();
  await until("node-2's report removed", async () => !(await reportNodes()).includes("node-2"), 30_000);
  const removedMs = performance.now() - deleted;
  await send("node-1", 1_000);
  await send("node-2", 1_000);
  await expectExactCounts(c, name, { "node-1": sent["node-1"] }, { timeoutMs: 30_000 });
  assert.deepEqual(await reportNodes(), ["node-1"], "no report of a Node that is gone");
  assert.deepEqual(await programs(), before, "node-2 still counts (its agent never saw a spec to clean)");

  // The kubelet registers its Node again when it starts (as after a real node's re-join). The new Node has
  // lost the operator's placement label, so the DaemonSet controller deletes node-2's agent pod at once and
  // creates another when the operator has labelled the Node again: the new agent continues the pins.
  const agentBefore = (await podsOf(c, "agent")).find((p) => p.node === "node-2");
  await c.node("node-2").kill("kubelet", "SIGTERM");
  await c.node("node-2").restart("kubelet");
  const healed = performance.now();
  await agentsSettled(120_000);
  const settledMs = performance.now() - healed;
  await send("node-2", 1_000);
  await expectExactCounts(c, name, sent, { timeoutMs: 60_000 });
  const recoveredMs = performance.now() - healed;
  const agentAfter = (await podsOf(c, "agent")).find((p) => p.node === "node-2");
  console.log(
    `# node-2's agent ${agentAfter?.uid === agentBefore?.uid ? "kept" : "replaced"}; agents settled ${(settledMs / 1000).toFixed(1)} s after re-registration`,
  );
  assert.deepEqual(await reportNodes(), ["node-1", "node-2"]);
  for (const node of nodes) assert.ok((await pinsOn(c, node)).length > 0, `pins on ${node}`);
  rows.push({
    fault: "Node object deleted",
    injected: "kubectl delete node node-2; its kubelet restarted to register it again",
    recoveredS: `report removed in ${(removedMs / 1000).toFixed(1)} s; exact ${(recoveredMs / 1000).toFixed(1)} s after re-registration`,
    result: "exact (node-2's pinned counters kept; its agent pod replaced, see the notes)",
  });
});

test("a node rebooted (every process killed, namespaces and bpffs kept): the new agent continues the pinned counters", {
  timeout: 300_000,
}, async () => {
  await survive(
    "node rebooted",
    "every process of node-1 SIGKILLed, its daemons started again",
    async () => {
      await c.node("node-1").reboot();
      await sendAll(2_000);
    },
    { boundMs: 120_000, agentsKept: false },
  );
});
