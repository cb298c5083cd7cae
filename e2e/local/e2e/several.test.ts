// Several XdpCounters on the same real nodes, as users apply them, with one agent per node serving all
// (docs/adr/0021): on different NICs each counts its own traffic exactly; on the same NIC the first keeps it
// and the second says, on each node, which XdpCounter holds it, then takes over when the holder is deleted;
// deleting one leaves the others' counts untouched; at the end no XDP program and no pin is left anywhere, and
// no agent runs. Needs root; about 3 minutes.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { exampleManifest, expectExactCounts, expectNoXdpAnywhere, kubectlOk } from "../../scenario/index.ts";
import {
  agentPodsGone,
  type Cluster,
  createReleaseNamespace,
  helmInstall,
  type LocalCluster,
  podsOf,
  startLocalCluster,
  until,
} from "./setup.ts";

const run = promisify(execFile);
let l: LocalCluster;
let c: Cluster;
const nodes = ["node-1", "node-2"];

before(
  async () => {
    l = await startLocalCluster(2, (line) => console.log(`# ${line}`));
    c = l.cluster;
    await createReleaseNamespace(c);
    const r = await helmInstall(l);
    assert.equal(r.code, 0, `helm install: ${r.stderr}`);
    for (const node of nodes) await addNic(node);
  },
  { timeout: 600_000 },
);

after(async () => {
  await c?.stop();
});

/** eth2 in the node, its peer in the node's traffic namespace: a second NIC, gone with the node. */
async function addNic(node: string): Promise<void> {
  const plan = c.node(node).plan;
  await run("ip", [
    "link",
    "add",
    "x2n",
    "netns",
    plan.netns,
    "type",
    "veth",
    "peer",
    "name",
    "x2t",
    "netns",
    plan.trafficNs,
  ]);
  await run("ip", ["-n", plan.netns, "link", "set", "x2n", "name", "eth2", "address", "02:c6:12:aa:00:02"]);
  await run("ip", ["-n", plan.netns, "link", "set", "eth2", "up"]);
  await run("ip", ["-n", plan.trafficNs, "link", "set", "x2t", "up"]);
}

/** `count` frames of `length` bytes into a node's eth2, with the project's generator; returns how many went. */
async function sendToEth2(node: string, count: number, length: number): Promise<bigint> {
  const plan = c.node(node).plan;
  const { stdout } = await run("nsenter", [
    `--net=/run/netns/${plan.trafficNs}`,
    "--",
    process.execPath,
    new URL("../../../testing/traffic/send.ts", import.meta.url).pathname,
    "--iface",
    "x2t",
    "--src-mac",
    "02:c6:12:aa:00:01",
    "--dst-mac",
    "02:c6:12:aa:00:02",
    "--src-ip",
    "198.51.100.1",
    "--dst-ip",
    "198.51.100.2",
    "--length",
    String(length),
    "--count",
    String(count),
  ]);
  return BigInt((JSON.parse(stdout) as { sent: number }).sent);
}

const counter = (name: string, iface: string) =>
  exampleManifest({ name, interfaces: [iface], reportInterval: "1s" });

async function heldOn(name: string): Promise<Record<string, string | undefined>> {
  const out = await kubectlOk(c, ["get", "xdpcr", "-l", `xdpcounter.dev/xdpcounter=${name}`, "-o", "json"]);
  const list = JSON.parse(out) as {
    items: { nodeName: string; interfaces: { reason?: string; heldBy?: string }[] }[];
  };
  return Object.fromEntries(
    list.items.map((r) => [
      r.nodeName,
      r.interfaces[0]?.reason === "HeldByXdpCounter" ? r.interfaces[0]?.heldBy : undefined,
    ]),
  );
}

test("two XdpCounters on different NICs count side by side, exactly; one agent per node serves both", {
  timeout: 300_000,
}, async () => {
  await kubectlOk(c, ["apply", "-f", "-"], counter("on-eth1", "eth1"));
  await kubectlOk(c, ["apply", "-f", "-"], counter("on-eth2", "eth2"));
  for (const name of ["on-eth1", "on-eth2"])
    await kubectlOk(c, ["wait", "--for=condition=Ready", `xdpcounter/${name}`, "--timeout=120s"]);
  const agents = await podsOf(c, "agent");
  assert.equal(agents.length, 2, "one agent per node, for both XdpCounters");
  const eth1 = {
    "node-1": BigInt(await c.node("node-1").send(4_000, 64)),
    "node-2": BigInt(await c.node("node-2").send(1_500, 256)),
  };
  const eth2 = {
    "node-1": await sendToEth2("node-1", 2_200, 128),
    "node-2": await sendToEth2("node-2", 900, 512),
  };
  await expectExactCounts(c, "on-eth1", eth1);
  await expectExactCounts(c, "on-eth2", eth2);
  const table = await kubectlOk(c, ["get", "xdpcr", "-l", "xdpcounter.dev/xdpcounter=on-eth2"]);
  assert.match(table, /on-eth2\s+node-1\s+Counting/, table);
});

test("a third on a NIC already counted: the first keeps it, the report names it, and the third takes over when it goes", {
  timeout: 300_000,
}, async () => {
  await kubectlOk(c, ["apply", "-f", "-"], counter("wants-eth1", "eth1"));
  await until(
    "the holder named on both nodes",
    async () => {
      const held = await heldOn("wants-eth1");
      return nodes.every((n) => held[n] === "on-eth1");
    },
    60_000,
  );
  // the status follows the reports within an interval (it is written at most once per interval)
  await until(
    "kubectl describe names the holder",
    async () =>
      /eth1 is counted by XdpCounter on-eth1/.test(
        await kubectlOk(c, ["describe", "xdpcounter", "wants-eth1"]),
      ),
    30_000,
  );
  const before2 = await kubectlOk(c, [
    "get",
    "xdpcounter",
    "on-eth2",
    "-o",
    "jsonpath={.status.totals.packets.pass}",
  ]);

  await kubectlOk(c, ["delete", "xdpcounter", "on-eth1", "--wait=true", "--timeout=120s"]);
  await until(
    "the waiting XdpCounter counting on eth1 on both nodes",
    async () => {
      const held = await heldOn("wants-eth1");
      return nodes.every((n) => n in held && held[n] === undefined);
    },
    60_000,
  );
  await kubectlOk(c, ["wait", "--for=condition=Ready", "xdpcounter/wants-eth1", "--timeout=120s"]);
  const sent = {
    "node-1": BigInt(await c.node("node-1").send(333, 64)),
    "node-2": BigInt(await c.node("node-2").send(444, 64)),
  };
  await expectExactCounts(c, "wants-eth1", sent);
  assert.equal(
    await kubectlOk(c, ["get", "xdpcounter", "on-eth2", "-o", "jsonpath={.status.totals.packets.pass}"]),
    before2,
    "the other XdpCounter's counts untouched",
  );
});

test("every XdpCounter deleted: no XDP program, no pin, no report and no agent anywhere", {
  timeout: 300_000,
}, async () => {
  await kubectlOk(c, ["delete", "xdpcounters", "--all", "--wait=true", "--timeout=120s"]);
  await expectNoXdpAnywhere(c, nodes);
  assert.equal((await kubectlOk(c, ["get", "xdpcr", "-o", "name"])).trim(), "");
  await agentPodsGone(c);
  for (const node of nodes) {
    const label = await kubectlOk(c, [
      "get",
      "node",
      node,
      "-o",
      "jsonpath={.metadata.labels.xdpcounter\\.dev/agent}",
    ]);
    assert.equal(label, "", `${node} has no agent label left`);
  }
});
