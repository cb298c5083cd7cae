// The agent for real: a child process in a test node's network namespace, attaching the XDP counter to the
// node's end of a veth pair, counting exact numbers of frames sent from the peer, and reporting into the
// real API server (one control plane for the file). Needs root and bpffs; each test removes its namespaces,
// pins and processes.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type AgentProcess, fetchInNs, startAgent } from "../../testing/agent.ts";
import { agentConfigFor, eventually, type NodeEntry, TestCluster } from "../../testing/cluster.ts";
import { sh, VethPair } from "../../testing/netns.ts";

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

  // Polls that find everything as it should be change nothing.
  await new Promise((r) => setTimeout(r, 1_000));
  assert.equal(
    first.logs.filter((l) => l.msg === "counter attached").length,
    1,
    "attached once, then left alone",
  );

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

/** A second veth pair inside the node's namespace (both ends there), up, named after the node's interface. */
async function extraInterface(pair: VethPair, suffix: string): Promise<string> {
  const name = `${pair.node.iface}${suffix}`;
  await sh("ip", ["-n", pair.node.ns, "link", "add", name, "type", "veth", "peer", "name", `${name}p`]);
  await sh("ip", ["-n", pair.node.ns, "link", "set", name, "up"]);
  await sh("ip", ["-n", pair.node.ns, "link", "set", `${name}p`, "up"]);
  return name;
}

async function progIdOf(ns: string, iface: string): Promise<number> {
  const link = (
    JSON.parse(await sh("ip", ["-n", ns, "-j", "link", "show", "dev", iface])) as {
      xdp?: { prog?: { id: number } };
    }[]
  )[0];
  return link?.xdp?.prog?.id ?? 0;
}

test("a spec change detaches dropped interfaces and keeps the kept one counting without reset", async (t) => {
  const pair = await pairFor(t);
  const extra = await extraInterface(pair, "x");
  const name = uniqueName("spec");
  const node = `node-${name}`;
  const created = await cluster.createXdpCounter(name, { interfaces: [pair.node.iface, extra] });
  const { path: kubeconfig } = await cluster.kubeconfigFor(pair.node.ns);
  const pinRoot = cluster.pinRoot();
  const v1 = agentConfigFor(name, created, node, { interfaces: [pair.node.iface, extra] });
  const first = track(t, startAgent({ ns: pair.node.ns, config: v1, kubeconfig, pinRoot }));
  await first.waitForLog((l) => l.msg.startsWith("ready"));
  const kept = await pair.xdpProgId(pair.node);
  assert.ok(kept > 0 && (await progIdOf(pair.node.ns, extra)) > 0, "both attached");
  const sent1 = await pair.send(300, 80);
  await entryWhere(
    name,
    node,
    (e) => e.packets.pass === String(sent1) && e.interfaces.length === 2,
    "v1 counts",
  );
  assert.equal(await first.stop(), 0);

  // The operator renders the new spec; the DaemonSet rolls the agent.
  const v2 = { ...v1, generation: v1.generation + 1, interfaces: [pair.node.iface] };
  const second = track(t, startAgent({ ns: pair.node.ns, config: v2, kubeconfig, pinRoot }));
  await second.waitForLog((l) => l.msg === "counter detached" && l.interface === extra);
  assert.equal(await progIdOf(pair.node.ns, extra), 0, "the dropped interface is detached");
  assert.ok(!existsSync(join(pinRoot, name, extra)), "and unpinned");
  assert.equal(await pair.xdpProgId(pair.node), kept, "the kept interface keeps its program");
  const sent2 = await pair.send(200, 80);
  const entry = await entryWhere(
    name,
    node,
    (e) => e.packets.pass === String(sent1 + sent2) && e.generation === v2.generation,
    "v2 counts on, without reset",
  );
  assert.deepEqual(
    entry.interfaces.map((i) => i.name),
    [pair.node.iface],
  );
});

test("a named interface missing on the node is a status error, attached once it appears; a vanished one is reported", async (t) => {
  const pair = await pairFor(t);
  const name = uniqueName("late");
  const node = `node-${name}`;
  const late = `${pair.node.iface}l`;
  const created = await cluster.createXdpCounter(name, { interfaces: [pair.node.iface, late] });
  const { path: kubeconfig } = await cluster.kubeconfigFor(pair.node.ns);
  const config = agentConfigFor(name, created, node, { interfaces: [pair.node.iface, late] });
  track(t, startAgent({ ns: pair.node.ns, config, kubeconfig, pinRoot: cluster.pinRoot() }));
  let entry = await entryWhere(name, node, (e) => e.interfaces.length === 2, "both interfaces reported");
  assert.equal(entry.phase, "Counting", "the node counts on the interface it has");
  assert.deepEqual(
    entry.interfaces.map((i) => [i.name, i.attached, i.reason ?? null]),
    [
      [pair.node.iface, true, null],
      [late, false, "InterfaceNotFound"],
    ],
  );
  assert.match(entry.interfaces[1]?.error ?? "", new RegExp(`no interface ${late} on node ${node}`));

  await extraInterface(pair, "l");
  entry = await entryWhere(
    name,
    node,
    (e) => e.interfaces[1]?.attached === true,
    "the late interface attached",
  );
  assert.equal(entry.interfaces[1]?.reason, undefined);
  assert.ok((await progIdOf(pair.node.ns, late)) > 0);

  await sh("ip", ["-n", pair.node.ns, "link", "del", late]);
  entry = await entryWhere(
    name,
    node,
    (e) => e.interfaces[1]?.attached === false,
    "the vanished interface reported",
  );
  assert.equal(entry.interfaces[1]?.reason, "InterfaceNotFound");
  assert.equal(entry.phase, "Counting");
});

test("action drop is refused on the default-route interface and on the Node's InternalIP, allowed elsewhere", async (t) => {
  const pair = await pairFor(t);
  await sh("ip", [
    "-n",
    pair.node.ns,
    "route",
    "add",
    "default",
    "via",
    pair.peer.ip,
    "dev",
    pair.node.iface,
  ]);
  const { path: kubeconfig } = await cluster.kubeconfigFor(pair.node.ns);

  // Default spec: the default-route interface.
  const name = uniqueName("drop");
  const node = `node-${name}`;
  const created = await cluster.createXdpCounter(name, { action: "drop" });
  const config = agentConfigFor(name, created, node, { action: "drop" });
  const agent = track(t, startAgent({ ns: pair.node.ns, config, kubeconfig, pinRoot: cluster.pinRoot() }));
  let entry = await entryWhere(name, node, (e) => e.interfaces.length === 1, "the refusal reported");
  assert.equal(entry.phase, "Error");
  assert.equal(entry.interfaces[0]?.name, pair.node.iface);
  assert.equal(entry.interfaces[0]?.reason, "DropRefused");
  assert.match(entry.interfaces[0]?.error ?? "", /default route/);
  assert.match(entry.error ?? "", /action drop refused/);
  assert.equal(await pair.xdpProgId(pair.node), 0, "nothing attached");
  await agent.stop();

  // The InternalIP: no default route this time, the Node object says which address is the node's.
  await sh("ip", ["-n", pair.node.ns, "route", "del", "default"]);
  const name2 = uniqueName("dropip");
  const node2 = `node-${name2}`;
  await cluster.createNode(node2, pair.node.ip);
  const created2 = await cluster.createXdpCounter(name2, { action: "drop", interfaces: [pair.node.iface] });
  const config2 = agentConfigFor(name2, created2, node2, { action: "drop", interfaces: [pair.node.iface] });
  const agent2 = track(
    t,
    startAgent({ ns: pair.node.ns, config: config2, kubeconfig, pinRoot: cluster.pinRoot() }),
  );
  entry = await entryWhere(name2, node2, (e) => e.interfaces.length === 1, "the InternalIP refusal reported");
  assert.equal(entry.interfaces[0]?.reason, "DropRefused");
  assert.match(
    entry.interfaces[0]?.error ?? "",
    new RegExp(`InternalIP ${pair.node.ip.replace(/\./g, "\\.")}`),
  );
  assert.equal(await pair.xdpProgId(pair.node), 0);
  await agent2.stop();

  // Elsewhere drop runs, and counts what it drops.
  const name3 = uniqueName("dropok");
  const node3 = `node-${name3}`;
  await cluster.createNode(node3, "198.51.100.7");
  const created3 = await cluster.createXdpCounter(name3, { action: "drop", interfaces: [pair.node.iface] });
  const config3 = agentConfigFor(name3, created3, node3, { action: "drop", interfaces: [pair.node.iface] });
  track(t, startAgent({ ns: pair.node.ns, config: config3, kubeconfig, pinRoot: cluster.pinRoot() }));
  await eventually(async () => ((await pair.xdpProgId(pair.node)) > 0 ? true : undefined), "drop attached");
  const sent = await pair.send(400, 64);
  entry = await entryWhere(name3, node3, (e) => e.packets.drop === String(sent), "drops counted");
  assert.equal(entry.phase, "Counting");
  assert.equal(entry.packets.pass, undefined, "nothing passed: the action is left out of the entry");
});

test("a foreign XDP program is never replaced, and the status names it", async (t) => {
  const pair = await pairFor(t);
  const other = await extraInterface(pair, "f");
  const objectPath = new URL("../../bpf/xdp_tx.o", import.meta.url).pathname;
  await sh("ip", ["-n", pair.node.ns, "link", "set", other, "xdpgeneric", "obj", objectPath, "sec", "xdp"]);
  const foreign = await progIdOf(pair.node.ns, other);
  assert.ok(foreign > 0);
  const name = uniqueName("foreign");
  const node = `node-${name}`;
  const created = await cluster.createXdpCounter(name, { interfaces: [pair.node.iface, other] });
  const { path: kubeconfig } = await cluster.kubeconfigFor(pair.node.ns);
  const config = agentConfigFor(name, created, node, { interfaces: [pair.node.iface, other] });
  const agent = track(t, startAgent({ ns: pair.node.ns, config, kubeconfig, pinRoot: cluster.pinRoot() }));
  const entry = await entryWhere(name, node, (e) => e.interfaces.length === 2, "the conflict reported");
  assert.equal(entry.phase, "Counting", "the other interface counts");
  const f = entry.interfaces.find((i) => i.name === other);
  assert.equal(f?.attached, false);
  assert.equal(f?.reason, "ForeignXdpProgram");
  assert.match(f?.error ?? "", new RegExp(`'xdp_tx' \\(id ${foreign}`));
  // several polls later it is still there, untouched
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(await progIdOf(pair.node.ns, other), foreign);
  assert.ok(
    agent.logs.filter((l) => l.msg === "cannot count on interface").length === 1,
    "logged once, not every poll",
  );
  // ready all the same: waiting for a person is not a reason to hold a rollout
  assert.equal((await fetchInNs(pair.node.ns, await agent.port(), "/readyz")).status, 200);
});

test("an API server that never answers does not hold up interface polls", async (t) => {
  const pair = await pairFor(t);
  const name = uniqueName("hang");
  const node = `node-${name}`;
  const late = `${pair.node.iface}h`;
  const created = await cluster.createXdpCounter(name, { interfaces: [pair.node.iface, late] });
  const { path: kubeconfig, bridge } = await cluster.kubeconfigFor(pair.node.ns);
  const config = agentConfigFor(name, created, node, { interfaces: [pair.node.iface, late] });
  const agent = track(t, startAgent({ ns: pair.node.ns, config, kubeconfig, pinRoot: cluster.pinRoot() }));
  await agent.waitForLog((l) => l.msg.startsWith("ready"));
  bridge.setHang(true);
  await pair.send(50, 64); // a change, so the next report is due
  await new Promise((r) => setTimeout(r, 1_500)); // a report is now waiting on its 10 s timeout
  await extraInterface(pair, "h");
  const attached = await agent.waitForLog((l) => l.msg === "counter attached" && l.interface === late, 5_000);
  assert.ok(attached);
  bridge.setHang(false);
});

test("a glob never selects virtual devices (veths here), and the node says why it counts on nothing", async (t) => {
  // This machine has no module for VLANs or bonds, and a test cannot make a physical NIC, so only the
  // negative half runs on the kernel; agent/interfaces/select.test.ts covers what globs do select.
  const pair = await pairFor(t);
  const name = uniqueName("glob");
  const node = `node-${name}`;
  const prefix = pair.node.iface.slice(0, -1); // matches the node's veth and the ones made below
  const created = await cluster.createXdpCounter(name, { interfaces: [`${prefix}*`] });
  const { path: kubeconfig } = await cluster.kubeconfigFor(pair.node.ns);
  const config = agentConfigFor(name, created, node, { interfaces: [`${prefix}*`] });
  const agent = track(t, startAgent({ ns: pair.node.ns, config, kubeconfig, pinRoot: cluster.pinRoot() }));
  const late = await extraInterface(pair, "g");
  await new Promise((r) => setTimeout(r, 1_000)); // several polls
  const entry = await entryWhere(name, node, (e) => e.phase === "Error", "nothing selected");
  assert.match(entry.error ?? "", /matches spec.interfaces .*globs select only physical interfaces/);
  assert.deepEqual(entry.interfaces, []);
  assert.equal(await pair.xdpProgId(pair.node), 0);
  assert.equal(await progIdOf(pair.node.ns, late), 0);
  assert.equal(agent.logs.filter((l) => l.msg === "counter attached").length, 0);
});

test("changing the action swaps the program behind the link and keeps the counters", async (t) => {
  const pair = await pairFor(t);
  const name = uniqueName("action");
  const node = `node-${name}`;
  await cluster.createNode(node, "198.51.100.8");
  const created = await cluster.createXdpCounter(name, { interfaces: [pair.node.iface] });
  const { path: kubeconfig } = await cluster.kubeconfigFor(pair.node.ns);
  const pinRoot = cluster.pinRoot();
  const pass = agentConfigFor(name, created, node, { interfaces: [pair.node.iface] });
  const first = track(t, startAgent({ ns: pair.node.ns, config: pass, kubeconfig, pinRoot }));
  await first.waitForLog((l) => l.msg.startsWith("ready"));
  const sentPass = await pair.send(600, 64);
  await entryWhere(name, node, (e) => e.packets.pass === String(sentPass), "passes counted");
  await first.stop();

  const drop = { ...pass, generation: pass.generation + 1, action: "drop" as const };
  const second = track(t, startAgent({ ns: pair.node.ns, config: drop, kubeconfig, pinRoot }));
  const attached = await second.waitForLog((l) => l.msg === "counter attached");
  assert.equal(attached.outcome, "replaced");
  const sentDrop = await pair.send(400, 64);
  const entry = await entryWhere(name, node, (e) => e.packets.drop === String(sentDrop), "drops counted");
  assert.equal(entry.packets.pass, String(sentPass), "the pass count is kept");
});

test("an interface renamed while counting keeps its counter and totals under the new name", async (t) => {
  const pair = await pairFor(t);
  const name = uniqueName("rename");
  const node = `node-${name}`;
  const old = pair.node.iface;
  const renamed = `${old}r`;
  const created = await cluster.createXdpCounter(name, { interfaces: [old, renamed] });
  const { path: kubeconfig } = await cluster.kubeconfigFor(pair.node.ns);
  const pinRoot = cluster.pinRoot();
  const config = agentConfigFor(name, created, node, { interfaces: [old, renamed] });
  const agent = track(t, startAgent({ ns: pair.node.ns, config, kubeconfig, pinRoot }));
  await agent.waitForLog((l) => l.msg.startsWith("ready"));
  const progId = await progIdOf(pair.node.ns, old);
  const sent1 = await pair.send(300, 64);
  await entryWhere(name, node, (e) => e.packets.pass === String(sent1), "counted under the old name");

  await sh("ip", ["-n", pair.node.ns, "link", "set", old, "down"]);
  await sh("ip", ["-n", pair.node.ns, "link", "set", old, "name", renamed]);
  await sh("ip", ["-n", pair.node.ns, "link", "set", renamed, "up"]);
  await agent.waitForLog(
    (l) => l.msg === "interface renamed: its counter follows" && l.interface === renamed,
  );
  const sent2 = await pair.send(200, 64);
  const entry = await entryWhere(
    name,
    node,
    (e) => BigInt(e.interfaces.find((i) => i.name === renamed)?.packets.pass ?? 0) >= BigInt(sent1 + sent2),
    "the totals continue under the new name",
  );
  // Nothing lost; the link going down and up may add a frame or two of its own (the peer's ARP).
  const extra = Number(entry.interfaces.find((i) => i.name === renamed)?.packets.pass) - (sent1 + sent2);
  assert.ok(extra >= 0 && extra <= 4, `${extra} frames beyond those sent`);
  assert.equal(
    await progIdOf(pair.node.ns, renamed),
    progId,
    "the same program, never taken for a foreign one",
  );
  assert.equal(entry.interfaces.find((i) => i.name === old)?.reason, "InterfaceNotFound");
  assert.ok(existsSync(join(pinRoot, name, renamed, "link")) && !existsSync(join(pinRoot, name, old)));
});

test("attachMode auto on a jumbo-frame node: native on the MTU 9000 veth, generic on a macvlan, and the report says why", async (t) => {
  const pair = await VethPair.create({ mtu: 9000 });
  t.after(() => pair.destroy());
  const mv = `${pair.node.iface}m`;
  const mac = "02:00:c6:13:00:02";
  await sh("ip", [
    "-n",
    pair.node.ns,
    "link",
    "add",
    mv,
    "link",
    pair.node.iface,
    "address",
    mac,
    "type",
    "macvlan",
  ]);
  await sh("ip", ["-n", pair.node.ns, "link", "set", mv, "up"]);
  const name = uniqueName("jumbo");
  const node = `node-${name}`;
  const interfaces = [pair.node.iface, mv];
  const created = await cluster.createXdpCounter(name, {
    interfaces,
    attachMode: "auto",
    reportInterval: "1s",
  });
  const { path: kubeconfig } = await cluster.kubeconfigFor(pair.node.ns);
  const config = agentConfigFor(name, created, node, { interfaces, attachMode: "auto" });
  const agent = track(t, startAgent({ ns: pair.node.ns, config, kubeconfig, pinRoot: cluster.pinRoot() }));
  await agent.waitForLog((l) => l.msg === "ready: the selected interfaces are attached");

  // Jumbo datagrams to the veth's address; minimum-size frames from the generator to the macvlan's MAC
  // (its frames cross the veth too, where the veth's own counter sees them first).
  const jumbo = await pair.sendDatagrams([
    [9000, 40],
    [1500, 40],
  ]);
  const toMacvlan = await pair.send(300, 64, { dstMac: mac });
  const vethPackets = jumbo.sent + BigInt(toMacvlan);
  const entry = await entryWhere(
    name,
    node,
    (e) =>
      e.interfaces.find((i) => i.name === pair.node.iface)?.packets.pass === String(vethPackets) &&
      e.interfaces.find((i) => i.name === mv)?.packets.pass === String(toMacvlan),
    "exact counts on both interfaces",
  );
  const veth = entry.interfaces.find((i) => i.name === pair.node.iface);
  const macvlan = entry.interfaces.find((i) => i.name === mv);
  assert.equal(veth?.mode, "native", "a multi-buffer program attaches natively at MTU 9000");
  assert.equal(veth?.fallback, undefined);
  assert.equal(veth?.bytes.pass, String(jumbo.bytes + BigInt(toMacvlan) * 64n));
  assert.equal(macvlan?.mode, "generic");
  assert.equal(macvlan?.bytes.pass, String(BigInt(toMacvlan) * 64n));
  assert.equal(macvlan?.fallback?.reason, "NativeUnsupported");
  assert.match(
    macvlan?.fallback?.message ?? "",
    /the macvlan driver has no native XDP support: "Underlying driver/,
  );
  assert.equal(entry.phase, "Counting");
  assert.equal(macvlan?.reason, undefined, "a fallback is not a problem: the interface counts");
});
