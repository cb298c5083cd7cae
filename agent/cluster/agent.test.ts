// The agent for real: a child process in a test node's network namespace, reading its XdpCounters' specs from
// an agents' ConfigMap (the test publishes it, as the operator does), attaching the XDP counter to the node's
// end of a veth pair, counting exact numbers of frames sent from the peer, and writing its node's report into
// the real API server (one control plane for the file). Needs root and bpffs; each test removes its
// namespaces, pins and processes.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fetchInNs, pairFor, startAgent, track } from "../../testing/agent.ts";
import { eventually, TestCluster } from "../../testing/cluster.ts";
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

/**
 * An XdpCounter with `spec` published in an agents' ConfigMap of its own, and its Node; `start` runs an
 * agent for that node in the pair's namespace.
 */
async function counterFor(
  pair: VethPair,
  what: string,
  spec: Record<string, unknown>,
  opts: { internalIp?: string } = {},
) {
  const name = uniqueName(what);
  const node = `node-${name}`;
  const specs = `specs-${name}`;
  await cluster.ensureNode(node, opts);
  const created = await cluster.createXdpCounter(name, spec);
  await cluster.publishSpecs(specs, [name]);
  const { path: kubeconfig, bridge } = await cluster.kubeconfigFor(pair.node.ns);
  const pinRoot = cluster.pinRoot();
  return {
    name,
    node,
    specs,
    created,
    kubeconfig,
    bridge,
    pinRoot,
    start: (pr = pinRoot) => startAgent({ ns: pair.node.ns, node, specs, kubeconfig, pinRoot: pr }),
    /** A spec change, as `kubectl apply` and the operator make it; returns the new generation. */
    update: async (change: Record<string, unknown>) => {
      const generation = await cluster.updateXdpCounter(name, change);
      await cluster.publishSpecs(specs, [name]);
      return generation;
    },
  };
}

test("counts exact packets, reports them, exposes them, and survives SIGKILL + restart without loss", async (t) => {
  const pair = await pairFor(t);
  const x = await counterFor(pair, "count", { interfaces: [pair.node.iface], reportInterval: "1s" });
  const { name, node, created, pinRoot } = x;

  const first = track(t, x.start());
  await first.waitForLog((l) => l.msg === "ready: the selected interfaces are attached");
  const progId = await pair.xdpProgId(pair.node);
  assert.ok(progId > 0, "the counter is attached");
  assert.ok(existsSync(join(pinRoot, name, pair.node.iface, "link")), "the link is pinned");

  const sent1 = await pair.send(1000, 100);
  let entry = await cluster.reportWhere(
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
    metrics.body.includes(`xdpcounter_packets_total{${labels},action="pass"} ${sent1}\n`),
    metrics.body,
  );
  assert.ok(metrics.body.includes(`xdpcounter_bytes_total{${labels},action="pass"} ${sent1 * 100}\n`));
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
  const second = track(t, x.start());
  await second.waitForLog((l) => l.msg === "counter attached");
  assert.equal(second.logs.find((l) => l.msg === "counter attached")?.outcome, "adopted");
  assert.equal(await pair.xdpProgId(pair.node), progId, "the same program, adopted, not replaced");
  const sent3 = await pair.send(250, 64);
  entry = await cluster.reportWhere(
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
  const x = await counterFor(pair, "spec", { interfaces: [pair.node.iface, extra], reportInterval: "1s" });
  const { name, node } = x;
  const agent = track(t, x.start());
  await agent.waitForLog((l) => l.msg.startsWith("ready"));
  const kept = await pair.xdpProgId(pair.node);
  assert.ok(kept > 0 && (await progIdOf(pair.node.ns, extra)) > 0, "both attached");
  const sent1 = await pair.send(300, 80);
  await cluster.reportWhere(
    name,
    node,
    (e) => e.packets.pass === String(sent1) && e.interfaces.length === 2,
    "v1 counts",
  );

  // The spec changes; the operator publishes it; the same agent process applies it.
  const generation = await x.update({ interfaces: [pair.node.iface] });
  await agent.waitForLog((l) => l.msg === "counter detached" && l.interface === extra);
  assert.equal(await progIdOf(pair.node.ns, extra), 0, "the dropped interface is detached");
  assert.ok(!existsSync(join(x.pinRoot, name, extra)), "and unpinned");
  assert.equal(await pair.xdpProgId(pair.node), kept, "the kept interface keeps its program");
  const sent2 = await pair.send(200, 80);
  const entry = await cluster.reportWhere(
    name,
    node,
    (e) => e.packets.pass === String(sent1 + sent2) && e.generation === generation,
    "the new spec counts on, without reset",
  );
  assert.deepEqual(
    entry.interfaces.map((i) => i.name),
    [pair.node.iface],
  );
  assert.equal(agent.child.exitCode, null, "the agent was not restarted");
});

test("a named interface missing on the node is a status error, attached once it appears; a vanished one is reported", async (t) => {
  const pair = await pairFor(t);
  const late = `${pair.node.iface}l`;
  const x = await counterFor(pair, "late", { interfaces: [pair.node.iface, late], reportInterval: "1s" });
  const { name, node } = x;
  track(t, x.start());
  let entry = await cluster.reportWhere(
    name,
    node,
    (e) => e.interfaces.length === 2,
    "both interfaces reported",
  );
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
  entry = await cluster.reportWhere(
    name,
    node,
    (e) => e.interfaces[1]?.attached === true,
    "the late interface attached",
  );
  assert.equal(entry.interfaces[1]?.reason, undefined);
  assert.ok((await progIdOf(pair.node.ns, late)) > 0);

  await sh("ip", ["-n", pair.node.ns, "link", "del", late]);
  entry = await cluster.reportWhere(
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

  // Default spec: the default-route interface.
  const x = await counterFor(pair, "drop", { action: "drop", reportInterval: "1s" });
  const agent = track(t, x.start());
  let entry = await cluster.reportWhere(
    x.name,
    x.node,
    (e) => e.interfaces.length === 1,
    "the refusal reported",
  );
  assert.equal(entry.phase, "Error");
  assert.equal(entry.interfaces[0]?.name, pair.node.iface);
  assert.equal(entry.interfaces[0]?.reason, "DropRefused");
  assert.match(entry.interfaces[0]?.error ?? "", /default route/);
  assert.match(entry.error ?? "", /action drop refused/);
  assert.equal(await pair.xdpProgId(pair.node), 0, "nothing attached");
  await agent.stop();

  // The InternalIP: no default route this time, the Node object says which address is the node's.
  await sh("ip", ["-n", pair.node.ns, "route", "del", "default"]);
  const x2 = await counterFor(
    pair,
    "dropip",
    { action: "drop", interfaces: [pair.node.iface], reportInterval: "1s" },
    { internalIp: pair.node.ip },
  );
  const agent2 = track(t, x2.start());
  entry = await cluster.reportWhere(
    x2.name,
    x2.node,
    (e) => e.interfaces.length === 1,
    "the InternalIP refusal reported",
  );
  assert.equal(entry.interfaces[0]?.reason, "DropRefused");
  assert.match(
    entry.interfaces[0]?.error ?? "",
    new RegExp(`InternalIP ${pair.node.ip.replace(/\./g, "\\.")}`),
  );
  assert.equal(await pair.xdpProgId(pair.node), 0);
  await agent2.stop();

  // Elsewhere drop runs, and counts what it drops.
  const x3 = await counterFor(
    pair,
    "dropok",
    { action: "drop", interfaces: [pair.node.iface], reportInterval: "1s" },
    { internalIp: "198.51.100.7" },
  );
  track(t, x3.start());
  await eventually(async () => ((await pair.xdpProgId(pair.node)) > 0 ? true : undefined), "drop attached");
  const sent = await pair.send(400, 64);
  entry = await cluster.reportWhere(
    x3.name,
    x3.node,
    (e) => e.packets.drop === String(sent),
    "drops counted",
  );
  assert.equal(entry.phase, "Counting");
  assert.equal(entry.packets.pass, undefined, "nothing passed: the action is left out of the report");
});

test("a foreign XDP program is never replaced, and the status names it", async (t) => {
  const pair = await pairFor(t);
  const other = await extraInterface(pair, "f");
  const objectPath = new URL("../../bpf/xdp_tx.o", import.meta.url).pathname;
  await sh("ip", ["-n", pair.node.ns, "link", "set", other, "xdpgeneric", "obj", objectPath, "sec", "xdp"]);
  const foreign = await progIdOf(pair.node.ns, other);
  assert.ok(foreign > 0);
  const x = await counterFor(pair, "foreign", { interfaces: [pair.node.iface, other], reportInterval: "1s" });
  const { name, node } = x;
  const agent = track(t, x.start());
  const entry = await cluster.reportWhere(
    name,
    node,
    (e) => e.interfaces.length === 2,
    "the conflict reported",
  );
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
  const late = `${pair.node.iface}h`;
  const x = await counterFor(pair, "hang", { interfaces: [pair.node.iface, late], reportInterval: "1s" });
  const { bridge } = x;
  const agent = track(t, x.start());
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
  const prefix = pair.node.iface.slice(0, -1); // matches the node's veth and the ones made below
  const x = await counterFor(pair, "glob", { interfaces: [`${prefix}*`], reportInterval: "1s" });
  const { name, node } = x;
  const agent = track(t, x.start());
  const late = await extraInterface(pair, "g");
  await new Promise((r) => setTimeout(r, 1_000)); // several polls
  const entry = await cluster.reportWhere(name, node, (e) => e.phase === "Error", "nothing selected");
  assert.match(entry.error ?? "", /matches spec.interfaces .*globs select only physical interfaces/);
  assert.deepEqual(entry.interfaces, []);
  assert.equal(await pair.xdpProgId(pair.node), 0);
  assert.equal(await progIdOf(pair.node.ns, late), 0);
  assert.equal(agent.logs.filter((l) => l.msg === "counter attached").length, 0);
});

test("changing the action swaps the program behind the link and keeps the counters", async (t) => {
  const pair = await pairFor(t);
  const x = await counterFor(
    pair,
    "action",
    { interfaces: [pair.node.iface], reportInterval: "1s" },
    { internalIp: "198.51.100.8" },
  );
  const { name, node } = x;
  const agent = track(t, x.start());
  await agent.waitForLog((l) => l.msg.startsWith("ready"));
  const sentPass = await pair.send(600, 64);
  await cluster.reportWhere(name, node, (e) => e.packets.pass === String(sentPass), "passes counted");

  await x.update({ action: "drop" });
  const swapped = await agent.waitForLog((l) => l.msg === "counter attached" && l.action === "drop");
  assert.equal(swapped.outcome, "replaced");
  const sentDrop = await pair.send(400, 64);
  const entry = await cluster.reportWhere(
    name,
    node,
    (e) => e.packets.drop === String(sentDrop),
    "drops counted",
  );
  assert.equal(entry.packets.pass, String(sentPass), "the pass count is kept");
  assert.equal(agent.child.exitCode, null, "the same agent process");
});

test("an interface renamed while counting keeps its counter and totals under the new name", async (t) => {
  const pair = await pairFor(t);
  const old = pair.node.iface;
  const renamed = `${old}r`;
  const x = await counterFor(pair, "rename", { interfaces: [old, renamed], reportInterval: "1s" });
  const { name, node, pinRoot } = x;
  const agent = track(t, x.start());
  await agent.waitForLog((l) => l.msg.startsWith("ready"));
  const progId = await progIdOf(pair.node.ns, old);
  const sent1 = await pair.send(300, 64);
  await cluster.reportWhere(
    name,
    node,
    (e) => e.packets.pass === String(sent1),
    "counted under the old name",
  );

  await sh("ip", ["-n", pair.node.ns, "link", "set", old, "down"]);
  await sh("ip", ["-n", pair.node.ns, "link", "set", old, "name", renamed]);
  await sh("ip", ["-n", pair.node.ns, "link", "set", renamed, "up"]);
  await agent.waitForLog(
    (l) => l.msg === "interface renamed: its counter follows" && l.interface === renamed,
  );
  const sent2 = await pair.send(200, 64);
  const entry = await cluster.reportWhere(
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
  const interfaces = [pair.node.iface, mv];
  const x = await counterFor(pair, "jumbo", { interfaces, attachMode: "auto", reportInterval: "1s" });
  const { name, node } = x;
  const agent = track(t, x.start());
  await agent.waitForLog((l) => l.msg === "ready: the selected interfaces are attached");

  // Jumbo datagrams to the veth's address; minimum-size frames from the generator to the macvlan's MAC
  // (its frames cross the veth too, where the veth's own counter sees them first).
  const jumbo = await pair.sendDatagrams([
    [9000, 40],
    [1500, 40],
  ]);
  const toMacvlan = await pair.send(300, 64, { dstMac: mac });
  const vethPackets = jumbo.sent + BigInt(toMacvlan);
  const entry = await cluster.reportWhere(
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

test("one agent counts for several XdpCounters: side by side on different interfaces, the first keeps a shared one, and a deletion touches only its own", async (t) => {
  const pair = await pairFor(t);
  const second = await extraInterface(pair, "b");
  const third = await extraInterface(pair, "c");
  const a = await counterFor(pair, "multi-a", { interfaces: [pair.node.iface], reportInterval: "1s" });
  const node = a.node;
  const b = uniqueName("multi-b");
  const c = uniqueName("multi-c");
  const shared = uniqueName("multi-shared");
  await cluster.createXdpCounter(b, { interfaces: [second], reportInterval: "1s" });
  await cluster.createXdpCounter(c, { interfaces: [third], reportInterval: "1s" });
  await cluster.createXdpCounter(shared, { interfaces: [pair.node.iface], reportInterval: "1s" });
  // three first, the one that wants a's interface after a has it
  await cluster.publishSpecs(a.specs, [a.name, b, c]);
  const agent = track(t, a.start());
  for (const name of [a.name, b, c])
    await agent.waitForLog(
      (l) => l.msg === "ready: the selected interfaces are attached" && l.xdpcounter === name,
    );
  await cluster.publishSpecs(a.specs, [a.name, b, c, shared]);

  const held = await cluster.reportWhere(
    shared,
    node,
    (e) => e.interfaces[0]?.reason === "HeldByXdpCounter",
    "the holder named",
  );
  assert.equal(held.interfaces[0]?.heldBy, a.name);
  assert.match(held.interfaces[0]?.error ?? "", new RegExp(`counted by XdpCounter ${a.name} on this node`));
  assert.equal(held.phase, "Error", "it counts on nothing");

  // each counts its own interface's traffic, exactly; the shared one only in a
  const onFirst = await pair.send(700, 64);
  await cluster.reportWhere(
    a.name,
    node,
    (e) => e.packets.pass === String(onFirst),
    `${a.name} counts its interface`,
  );
  for (const name of [b, c]) {
    const e = await cluster.reportWhere(name, node, (r) => r.phase === "Counting", `${name} counts`);
    assert.equal(e.interfaces[0]?.attached, true);
    assert.equal(e.packets.pass ?? "0", "0", "nothing crossed its interface");
  }
  assert.deepEqual(
    (await cluster.reports(shared))[node]?.packets,
    {},
    "the waiting XdpCounter counted nothing",
  );
  const progId = await pair.xdpProgId(pair.node);

  // a's deletion (it leaves the specs): only a's counter goes; the waiting one takes the interface
  await cluster.deleteXdpCounter(a.name);
  await cluster.publishSpecs(a.specs, [b, c, shared]);
  await eventually(
    async () => (Object.keys(await cluster.reports(a.name)).length === 0 ? true : undefined),
    "a's report deleted",
  );
  assert.ok(!existsSync(join(a.pinRoot, a.name)), "a's pins are gone");
  await cluster.reportWhere(
    shared,
    node,
    (e) => e.interfaces[0]?.attached === true,
    "the waiting XdpCounter attached",
  );
  assert.notEqual(await pair.xdpProgId(pair.node), progId, "its own program, not a's");
  const more = await pair.send(150, 64);
  await cluster.reportWhere(
    shared,
    node,
    (e) => e.packets.pass === String(more),
    "it counts from zero what arrives now",
  );
  assert.ok(
    (await progIdOf(pair.node.ns, second)) > 0 && (await progIdOf(pair.node.ns, third)) > 0,
    "the others stay",
  );
  assert.equal(agent.child.exitCode, null, "one agent process throughout");
});

test("a node no longer selected is cleaned: detached, unpinned, its report deleted; selected again, it counts again", async (t) => {
  const pair = await pairFor(t);
  const x = await counterFor(pair, "deselect", {
    interfaces: [pair.node.iface],
    reportInterval: "1s",
    nodeSelector: { pool: "edge" },
  });
  await cluster.labelNode(x.node, { pool: "edge" });
  const agent = track(t, x.start());
  await agent.waitForLog((l) => l.msg.startsWith("ready"));
  const sent = await pair.send(500, 64);
  await cluster.reportWhere(x.name, x.node, (e) => e.packets.pass === String(sent), "counted");

  await cluster.labelNode(x.node, { pool: null });
  await eventually(
    async () => ((await cluster.reports(x.name))[x.node] ? undefined : true),
    "the report deleted",
  );
  assert.equal(await pair.xdpProgId(pair.node), 0, "detached");
  assert.ok(!existsSync(join(x.pinRoot, x.name)), "unpinned");

  await cluster.labelNode(x.node, { pool: "edge" });
  await eventually(
    async () => (agent.logs.filter((l) => l.msg === "counter attached").length === 2 ? true : undefined),
    "attached again",
  );
  const again = await pair.send(80, 64);
  await cluster.reportWhere(
    x.name,
    x.node,
    (e) => e.packets.pass === String(again),
    "counting again, from zero",
  );
  assert.equal(agent.child.exitCode, null, "the same agent process");
});
