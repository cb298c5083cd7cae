import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { classify } from "./classify.ts";
import { parseInventory } from "./inventory.ts";
import { selectInterfaces, stillWanted } from "./select.ts";

// `ip -d -j addr show` of a typical Kubernetes node, trimmed to the fields the agent reads.
const links = [
  {
    ifindex: 1,
    ifname: "lo",
    flags: ["LOOPBACK", "UP"],
    link_type: "loopback",
    addr_info: [{ local: "127.0.0.1" }],
  },
  { ifindex: 2, ifname: "eth0", flags: ["UP"], link_type: "ether", addr_info: [{ local: "10.0.0.5" }] },
  { ifindex: 3, ifname: "eth1", flags: ["UP"], link_type: "ether", xdp: { prog: { id: 42 } } },
  { ifindex: 4, ifname: "ens5", flags: [], link_type: "ether" },
  { ifindex: 5, ifname: "docker0", flags: ["UP"], linkinfo: { info_kind: "bridge" } },
  { ifindex: 6, ifname: "veth1a2b", flags: ["UP"], linkinfo: { info_kind: "veth" } },
  { ifindex: 7, ifname: "cali12345", flags: ["UP"], linkinfo: { info_kind: "veth" } },
  { ifindex: 8, ifname: "cni0", flags: ["UP"], linkinfo: { info_kind: "bridge" } },
  { ifindex: 9, ifname: "flannel.1", flags: ["UP"], linkinfo: { info_kind: "vxlan" } },
  { ifindex: 10, ifname: "bond0", flags: ["UP"], linkinfo: { info_kind: "bond" } },
  { ifindex: 11, ifname: "eth0.100", flags: ["UP"], linkinfo: { info_kind: "vlan" } },
  { ifindex: 12, ifname: "eth9", flags: ["UP"], linkinfo: { info_kind: "dummy" } },
  { ifindex: 13, ifname: "lxcabc", flags: ["UP"] },
];
const routes = [[{ dst: "default", gateway: "10.0.0.1", dev: "eth0" }], []];
const inventory = parseInventory(links, routes);
const names = (patterns: string[]) => selectInterfaces(patterns, inventory).selected.map((i) => i.name);

describe("interface inventory", () => {
  it("reads names, kinds, addresses, default routes and attached XDP programs", () => {
    const eth0 = inventory.interfaces.find((i) => i.name === "eth0");
    assert.deepEqual(eth0, {
      name: "eth0",
      ifindex: 2,
      class: "physical",
      kind: undefined,
      up: true,
      addresses: ["10.0.0.5"],
      defaultRoute: true,
      xdpProgId: 0,
    });
    assert.equal(inventory.primary, "eth0");
    assert.equal(inventory.interfaces.find((i) => i.name === "eth1")?.xdpProgId, 42);
  });

  it("takes the default route with the lowest metric as primary, IPv4 before IPv6 on a tie", () => {
    const inv = parseInventory(links, [
      [
        { dst: "default", dev: "eth1", metric: 200 },
        { dst: "default", dev: "eth0", metric: 100 },
      ],
      [{ dst: "default", dev: "ens5", metric: 100 }],
    ]);
    assert.equal(inv.primary, "eth0");
    assert.deepEqual(
      inv.interfaces.filter((i) => i.defaultRoute).map((i) => i.name),
      ["eth0", "eth1", "ens5"],
    );
    const ecmp = parseInventory(links, [[{ dst: "default", nexthops: [{ dev: "ens5" }, { dev: "eth1" }] }]]);
    assert.equal(ecmp.primary, "ens5");
  });

  it("classifies loopback, physical and virtual devices", () => {
    assert.equal(classify({ name: "lo", loopback: true, kind: undefined }), "loopback");
    assert.equal(classify({ name: "eth0", loopback: false, kind: undefined }), "physical");
    assert.equal(classify({ name: "bond0", loopback: false, kind: "bond" }), "physical");
    assert.equal(classify({ name: "eth0.100", loopback: false, kind: "vlan" }), "physical");
    assert.equal(classify({ name: "veth0", loopback: false, kind: "veth" }), "virtual");
    assert.equal(classify({ name: "x", loopback: false, kind: "wireguard" }), "virtual");
    // container networking devices by name, even without a kind
    assert.equal(classify({ name: "lxcabc", loopback: false, kind: undefined }), "virtual");
    assert.equal(classify({ name: "docker0", loopback: false, kind: undefined }), "virtual");
  });
});

describe("interface selection", () => {
  it("defaults to the interface of the default route", () => {
    assert.deepEqual(names([]), ["eth0"]);
  });

  it("reports a problem when there is no default route to default to", () => {
    const s = selectInterfaces([], parseInventory(links, [[], []]));
    assert.deepEqual(s.selected, []);
    assert.match(s.problem ?? "", /no default route/);
  });

  it("a broad glob skips loopback and virtual devices", () => {
    assert.deepEqual(names(["*"]), ["eth0", "eth1", "ens5", "bond0", "eth0.100"]);
    assert.deepEqual(names(["eth*"]), ["eth0", "eth1", "eth0.100"]);
    assert.deepEqual(names(["c*", "d*", "v*", "l*"]), []);
  });

  it("plain names select any interface, virtual or loopback too", () => {
    assert.deepEqual(names(["veth1a2b", "lo", "docker0"]), ["lo", "docker0", "veth1a2b"]);
    assert.deepEqual(names(["eth0", "eth*"]), ["eth0", "eth1", "eth0.100"]);
  });

  it("names missing on the node are reported, not fatal; globs that match nothing are not", () => {
    const s = selectInterfaces(["eth0", "eth7", "eth7", "wlan*"], inventory);
    assert.deepEqual(
      s.selected.map((i) => i.name),
      ["eth0"],
    );
    assert.deepEqual(s.missing, ["eth7"]);
  });

  it("a vanished pinned interface is still wanted when a pattern names or matches it", () => {
    assert.equal(stillWanted("eth3", ["eth*"]), true);
    assert.equal(stillWanted("veth9", ["veth9"]), true);
    assert.equal(stillWanted("eth3", ["ens*"]), false);
    assert.equal(stillWanted("eth3", []), false);
  });
});
