// The agent for real: a child process in a test node's network namespace, attaching the XDP counter to the
// node's end of a veth pair, counting exact numbers of frames sent from the peer, and reporting into the
// project's test API server. Needs root and bpffs; each test removes its namespaces, pins and processes.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type AgentProcess, fetchInNs, startAgent } from "../../testing/agent.ts";
import { agentConfigFor, eventually, type NodeEntry, TestCluster } from "../../testing/cluster.ts";
import { VethPair } from "../../testing/netns.ts";

let cluster: TestCluster;
before(async () => {
  cluster = await TestCluster.start();
});
after(async () => {
  await cluster?.stop();
});

let names = 0;
const uniqueName = (what: string): string => `${what}-${process.pid}-${names++}`;

async function pairFor(t: { after: (fn: () => Promise<void>) => void }): Promise<VethPair> {
  const pair = await VethPair.create();
  t.after(() => pair.destroy());
  return pair;
}

function track(t: { after: (fn: () => Promise<void>) => void }, agent: AgentProcess): AgentProcess {
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
): Promise<NodeEntry> {
  return eventually(
    async () => {
      const e = (await cluster.nodeEntries(name))[node];
      return e && ok(e) ? e : undefined;
    },
    `${what} (node ${node} of ${name})`,
    timeoutMs,
  );
}

test("counts exact packets, reports them, exposes them, and survives SIGKILL + restart without loss", async (t) => {
  const pair = await pairFor(t);
  const name = uniqueName("count");
  const node = `node-${name}`;
  const created = await cluster.createXdpCounter(name, {
    interfaces: [pair.node.iface],
    reportInterval: "1s",
  });
  const { path: kubeconfig } = await cluster.kubeconfigFor(pair.node.ns);
  const pinRoot = cluster.pinRoot();
  const config = agentConfigFor(name, created, node, { interfaces: [pair.node.iface] });

  const first = track(t, startAgent({ ns: pair.node.ns, config, kubeconfig, pinRoot }));
  await first.waitForLog((l) => l.msg === "ready: the selected interfaces are attached");
  const progId = await pair.xdpProgId(pair.node);
  assert.ok(progId > 0, "the counter is attached");
  assert.ok(existsSync(join(pinRoot, name, pair.node.iface, "link")), "the link is pinned");

  const sent1 = await pair.send(1000, 100);
  let entry = await entryWhere(
    name,
    node,
    (e) => e.packets.pass === String(sent1),
    `${sent1} packets reported`,
  );
  assert.equal(entry.phase, "Counting");
  assert.equal(entry.generation, created.generation);
  assert.equal(entry.bytes.pass, String(sent1 * 100));
  assert.deepEqual(
    entry.interfaces.map((i) => [i.name, i.attached, i.packets.pass]),
    [[pair.node.iface, true, String(sent1)]],
  );

  const port = await first.port();
  const metrics = await fetchInNs(pair.node.ns, port, "/metrics");
  assert.equal(metrics.status, 200);
  const labels = `xdpcounter="${name}",node="${node}",interface="${pair.node.iface}"`;
  assert.ok(
    metrics.body.includes(`xdp_counter_packets_total{${labels},action="pass"} ${sent1}\n`),
    metrics.body,
  );
  assert.ok(metrics.body.includes(`xdp_counter_bytes_total{${labels},action="pass"} ${sent1 * 100}\n`));
  assert.equal((await fetchInNs(pair.node.ns, port, "/readyz")).status, 200);
  assert.equal((await fetchInNs(pair.node.ns, port, "/healthz")).status, 200);

  // SIGKILL: no chance to clean up. The pinned link keeps counting while no agent runs.
  await first.stop("SIGKILL");
  const sent2 = await pair.send(500, 200);
  const second = track(t, startAgent({ ns: pair.node.ns, config, kubeconfig, pinRoot }));
  await second.waitForLog((l) => l.msg === "counter attached");
  assert.equal(second.logs.find((l) => l.msg === "counter attached")?.outcome, "adopted");
  assert.equal(await pair.xdpProgId(pair.node), progId, "the same program, adopted, not replaced");
  const sent3 = await pair.send(250, 64);
  entry = await entryWhere(
    name,
    node,
    (e) => e.packets.pass === String(sent1 + sent2 + sent3),
    "totals across the restart",
  );
  assert.equal(entry.bytes.pass, String(sent1 * 100 + sent2 * 200 + sent3 * 64));

  // SIGTERM leaves the counter attached and pinned for a successor.
  assert.equal(await second.stop("SIGTERM"), 0);
  assert.equal(await pair.xdpProgId(pair.node), progId);
  assert.ok(existsSync(join(pinRoot, name, pair.node.iface, "stats")));
});
