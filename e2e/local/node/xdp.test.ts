// The product's image as a pod on a real node: a host-network pod with the agent's security context (root
// with CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON) runs `xdp-counter watch` on its node's eth1, counts exactly the
// frames sent into that NIC, and pins under its node's bpffs only, which neither the other node nor the host
// can see. Needs root.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { kubectlOk, xdpLinks } from "../../scenario/index.ts";
import type { Cluster } from "./cluster.ts";
import type { CachedImage } from "./images/cache.ts";
import { hostPod, pods, startTestCluster, until } from "./testing.ts";

let c: Cluster;
let image: CachedImage;
/** A pin root of this run's own, so that nothing another run or test pinned can be mistaken for ours. */
const pinRoot = `/sys/fs/bpf/xdp-counter-e2e-${process.pid}`;

interface Status {
  interfaces: {
    interface: string;
    attached: boolean;
    mode: string;
    action: string;
    counters: Record<string, { packets: string; bytes: string }>;
  }[];
}

before(
  async () => {
    assert.equal(process.getuid?.(), 0, "real nodes need root: namespaces, mounts, cgroups");
    ({ cluster: c, image } = await startTestCluster([{ name: "node-a" }, { name: "node-b" }], (line) =>
      console.log(`# ${line}`),
    ));
  },
  { timeout: 600_000 },
);

after(async () => {
  await c?.stop();
});

describe("the product image on a real node", { timeout: 180_000 }, () => {
  it("counts exact packets on its own node's NIC with `xdp-counter watch` and `status`", async () => {
    const pod = hostPod("counter", "node-a", image.name, [
      "watch",
      "--iface",
      "eth1",
      "--interval",
      "1s",
      "--json",
      "--pin-root",
      pinRoot,
    ]);
    await kubectlOk(c, ["apply", "-f", "-"], pod);
    await until("the counter pod Ready and attached", async () => {
      const p = (await pods(c, "default")).find((x) => x.name === "counter");
      return p?.ready && (await c.kubectl(["logs", "counter"])).stdout.includes('"interface":"eth1"');
    });
    assert.deepEqual(await xdpLinks(c, "node-a"), ["eth1"], "XDP on node-a's eth1");
    assert.deepEqual(await xdpLinks(c, "node-b"), [], "nothing on node-b");

    const count = 25_000;
    const length = 128;
    assert.equal(await c.node("node-a").send(count, length), count);

    const status = JSON.parse(
      await kubectlOk(c, [
        "exec",
        "counter",
        "--",
        "xdp-counter",
        "status",
        "--iface",
        "eth1",
        "--json",
        "--pin-root",
        pinRoot,
      ]),
    ) as Status;
    const [eth1] = status.interfaces;
    assert.ok(eth1?.attached);
    assert.equal(eth1.action, "pass");
    assert.deepEqual(eth1.counters.pass, { packets: String(count), bytes: String(count * length) });
    for (const action of ["aborted", "drop", "tx", "redirect"])
      assert.equal(eth1.counters[action]?.packets, "0", action);

    // and `watch` itself prints the same totals at its next interval
    await until("watch prints the count", async () => {
      const lines = (await kubectlOk(c, ["logs", "counter"])).trim().split("\n");
      const last = JSON.parse(lines.at(-1) ?? "{}") as Status;
      return last.interfaces?.[0]?.counters.pass?.packets === String(count);
    });
  });

  it("pins only in its node's bpffs: not on the other node, not on the host", async () => {
    const a = await c.execOnNode("node-a", ["find", pinRoot, "-mindepth", "1"]);
    assert.equal(a.code, 0, a.stderr);
    const pins = a.stdout.split("\n").filter(Boolean).sort();
    assert.ok(pins.includes(`${pinRoot}/_standalone/eth1/link`), pins.join(" "));
    assert.ok(pins.includes(`${pinRoot}/_standalone/eth1/stats`), pins.join(" "));
    const b = await c.execOnNode("node-b", ["ls", "-a", "/sys/fs/bpf"]);
    assert.equal(b.code, 0, b.stderr);
    assert.ok(!b.stdout.includes(pinRoot.split("/").at(-1) as string), `node-b's bpffs: ${b.stdout}`);
    assert.ok(!existsSync(pinRoot), "the host's bpffs has no such pin");
  });

  it("detaches and unpins when its pod is deleted (watch stops on SIGTERM)", async () => {
    await kubectlOk(c, ["delete", "pod", "counter", "--wait=true", "--timeout=60s"]);
    assert.deepEqual(await xdpLinks(c, "node-a"), []);
    const left = await c.execOnNode("node-a", ["sh", "-c", `[ ! -d ${pinRoot} ] || find ${pinRoot} -type f`]);
    assert.equal(left.stdout, "", "no pin left on node-a");
  });
});
