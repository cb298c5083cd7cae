// The address plan: every address in 198.18.0.0/15, no two clusters or nodes sharing a range, names within the
// kernel's limits. Pure; no root needed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkNodeName, clusterPlan, MAX_CLUSTERS, MAX_NODES, nodePlan } from "./plan.ts";

function toInt(ip: string): number {
  return ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}

function range(cidr: string): [number, number] {
  const [ip, bits] = cidr.split("/");
  const size = 2 ** (32 - Number(bits));
  const start = toInt(ip as string);
  assert.equal(start % size, 0, `${cidr} starts on its boundary`);
  return [start, start + size - 1];
}

const TEST_RANGE = range("198.18.0.0/15");
const inTestRange = (ip: string) => toInt(ip) >= TEST_RANGE[0] && toInt(ip) <= TEST_RANGE[1];
const within = (ip: string, cidr: string) => {
  const [a, b] = range(cidr);
  return toInt(ip) >= a && toInt(ip) <= b;
};

describe("address plan", () => {
  const clusters = Array.from({ length: MAX_CLUSTERS }, (_, i) => clusterPlan(i));
  const nodes = clusters.flatMap((c) =>
    Array.from({ length: MAX_NODES }, (_, i) => nodePlan(c, `node-${i + 1}`, i + 1)),
  );

  it("takes every address from 198.18.0.0/15", () => {
    for (const c of clusters) {
      for (const cidr of [c.network, c.serviceRange, c.podRange]) {
        const [a, b] = range(cidr);
        assert.ok(a >= TEST_RANGE[0] && b <= TEST_RANGE[1], `${cidr} of ${c.id}`);
      }
      assert.ok(within(c.hostIp, c.network));
    }
    for (const n of nodes) {
      for (const ip of [n.ip, n.podGateway, n.eth1.ip, n.peer.ip])
        assert.ok(inTestRange(ip), `${ip} of ${n.netns}`);
    }
  });

  it("gives no two clusters, and no two kinds of range, an overlapping range", () => {
    const ranges = clusters.flatMap((c) =>
      [c.network, c.serviceRange, c.podRange].map((r) => [r, range(r)] as const),
    );
    ranges.sort((x, y) => x[1][0] - y[1][0]);
    for (let i = 1; i < ranges.length; i++) {
      const prev = ranges[i - 1];
      const cur = ranges[i];
      assert.ok(prev && cur && prev[1][1] < cur[1][0], `${prev?.[0]} and ${cur?.[0]} overlap`);
    }
  });

  it("gives each node a pod CIDR of its own inside its cluster's pod range, the gateway inside it", () => {
    for (const c of clusters) {
      const ours = nodes.filter((n) => n.netns.startsWith(`${c.id}-`));
      const seen = new Set<string>();
      for (const n of ours) {
        assert.ok(within(n.podGateway, n.podCidr), `${n.podGateway} in ${n.podCidr}`);
        const [a, b] = range(n.podCidr);
        const [pa, pb] = range(c.podRange);
        assert.ok(a >= pa && b <= pb, `${n.podCidr} inside ${c.podRange}`);
        assert.ok(within(n.ip, c.network), `${n.ip} on ${c.network}`);
        for (const v of [n.podCidr, n.ip, n.mac, n.eth1.ip, n.eth1.mac, n.peer.ip, n.peer.mac]) {
          assert.ok(!seen.has(v), `${v} used twice in ${c.id}`);
          seen.add(v);
        }
        // eth1 and its peer share one /30, and neither is its network or broadcast address
        assert.equal(toInt(n.eth1.ip) >> 2, toInt(n.peer.ip) >> 2);
        assert.ok(toInt(n.eth1.ip) % 4 !== 0 && toInt(n.peer.ip) % 4 !== 3);
      }
    }
  });

  it("keeps link names within 15 bytes and cgroups under the cluster's prefix", () => {
    for (const c of clusters) assert.ok(c.hostIface.length <= 15, c.hostIface);
    for (const n of nodes) {
      assert.ok(n.bridgePort.length <= 15, n.bridgePort);
      assert.match(n.cgroupRoot, /^\/xdp-counter-xn\d+-node-\d+$/);
    }
  });

  it("refuses names a node cannot have", () => {
    for (const bad of ["Node-A", "-a", "a-", "a_b", "a".repeat(31), ""]) {
      assert.throws(() => checkNodeName(bad), /node name/, bad);
    }
    checkNodeName("node-a");
    assert.throws(() => clusterPlan(MAX_CLUSTERS), /out of/);
    assert.throws(() => nodePlan(clusterPlan(0), "n", MAX_NODES + 1), /out of/);
  });
});
