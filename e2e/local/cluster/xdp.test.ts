// Real XDP on simulated nodes: the project's CLI (`xdp-counter watch`) as a DaemonSet pod on two nodes attaches
// to each node's eth1 and pins at the same path, /sys/fs/bpf/xdp-counter/_standalone/eth1, in each node's
// own bpffs, counts exactly the frames sent into that node, and detaches when its pod is deleted. This is what
// the agents will do; until their cluster mode exists, the CLI stands in. Needs root.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { DEFAULT_PIN_ROOT, STANDALONE_OWNER } from "../../../agent/bpf/index.ts";
import { type Cluster, startCluster } from "./index.ts";
import { kubectlOk, processAlive, until } from "./testdata/probe.ts";

const repo = join(import.meta.dirname, "..", "..", "..");
const pinDir = join(DEFAULT_PIN_ROOT, STANDALONE_OWNER, "eth1");
let c: Cluster;

before(async () => {
  execFileSync("make", ["-s", "-C", join(repo, "bpf")], { stdio: "inherit" });
  c = await startCluster({
    nodes: 2,
    commands: { "xdp-counter": [process.execPath, join(repo, "agent", "cli", "bin.ts")] },
  });
});

after(async () => {
  await c?.stop();
});

const daemonSet = JSON.stringify({
  apiVersion: "apps/v1",
  kind: "DaemonSet",
  metadata: { name: "counter", namespace: "default" },
  spec: {
    selector: { matchLabels: { app: "counter" } },
    template: {
      metadata: { labels: { app: "counter" } },
      spec: {
        hostNetwork: true,
        terminationGracePeriodSeconds: 10,
        containers: [
          {
            name: "counter",
            image: "ghcr.io/example/xdp-counter:0.1.0",
            command: ["xdp-counter", "watch", "--iface", "eth1", "--json", "--interval", "200ms"],
          },
        ],
      },
    },
  },
});

type Sample = { interfaces: { interface: string; mode: string; counters: { pass: { packets: string } } }[] };

function passPackets(log: string): string | undefined {
  const lines = log.split("\n").filter((l) => l.startsWith('{"time"'));
  const last = lines.at(-1);
  return last ? (JSON.parse(last) as Sample).interfaces[0]?.counters.pass.packets : undefined;
}

async function xdpProgId(node: (typeof c.nodes)[number]): Promise<number> {
  const r = await node.exec(["ip", "-j", "link", "show", "dev", "eth1"]);
  const link = (JSON.parse(r.stdout) as { xdp?: { prog?: { id: number } } }[])[0];
  return link?.xdp?.prog?.id ?? 0;
}

test("the CLI as a DaemonSet counts each node's own traffic, pinned in each node's own bpffs", async () => {
  await kubectlOk(c, ["apply", "-f", "-"], daemonSet);
  const [n1, n2] = c.nodes;
  assert.ok(n1 && n2);
  const pods = await until("a counting pod on each node", () => {
    const ps = c.nodes.map((n) => c.podsOn(n.name)[0]);
    return ps.every((p) => p && passPackets(p.log()) === "0") ? ps : undefined;
  });
  for (const n of [n1, n2]) {
    const ls = await n.exec(["ls", pinDir]);
    assert.equal(ls.code, 0, `${n.name} has pins at ${pinDir}: ${ls.stderr}`);
    assert.deepEqual(ls.stdout.split("\n").filter(Boolean).sort(), ["config", "link", "prog", "stats"]);
    assert.ok((await xdpProgId(n)) > 0);
  }
  assert.equal(existsSync(pinDir), false, "nothing pinned in the host's bpffs");

  const sent1 = await n1.traffic.send(30_000, 64);
  const sent2 = await n2.traffic.send(12_345, 512);
  await until("node-1's exact count", () => passPackets(pods[0]?.log() ?? "") === String(sent1));
  await until("node-2's exact count", () => passPackets(pods[1]?.log() ?? "") === String(sent2));

  await kubectlOk(c, ["delete", "daemonset", "counter"]);
  for (const p of pods) await until(`${p?.name} to exit`, () => !processAlive(p?.pid));
  for (const [i, n] of [n1, n2].entries()) {
    assert.equal(await xdpProgId(n), 0, `${n.name}: detached on SIGTERM`);
    assert.notEqual((await n.exec(["ls", pinDir])).code, 0, `${n.name}: pins removed`);
    assert.match(pods[i]?.log() ?? "", /exited 0/);
  }
});
