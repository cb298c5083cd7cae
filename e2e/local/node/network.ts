// The cluster network and each node's links, made with iproute2.
//
// A "switch" namespace holds a bridge; the host joins it through a veth (its end carries the address the
// nodes reach the API server at), and every node's eth0 is a veth whose other end is a bridge port. A node's
// default route goes via the host, and the host routes each node's pod CIDR via that node, so a pod's packets
// to the API server come back without NAT, as on a routed cluster network. The API server reaches the
// kubelets (logs, exec) at their eth0 addresses.
//
// Each node also has eth1, the NIC the agent counts on: a veth to a traffic namespace of its own, from which
// tests send frames. It is kept silent as the other test hosts are (testing/netns.ts): IPv6 off before any link
// comes up, permanent neighbour entries, so nothing crosses it unless a test sends it.
import { run } from "./cmd.ts";
import type { ClusterPlan, NodePlan } from "./plan.ts";

const ipv6Off = ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"];
const ip = (...args: string[]) => run(["ip", ...args]);
const inNetns = (ns: string, argv: string[]) => run(["ip", "netns", "exec", ns, ...argv]);

/** A network namespace with loopback up and IPv6 off (before any other link exists in it). */
export async function addNetns(name: string): Promise<void> {
  await ip("netns", "add", name);
  await inNetns(name, ipv6Off);
  await ip("-n", name, "link", "set", "lo", "up");
}

export async function delNetns(name: string): Promise<void> {
  await ip("netns", "del", name);
}

/** The switch namespace, its bridge, and the host's veth to it with the host's address. */
export async function createSwitch(plan: ClusterPlan): Promise<void> {
  await addNetns(plan.switchNs);
  await ip("-n", plan.switchNs, "link", "add", "br0", "type", "bridge", "stp_state", "0");
  await ip("-n", plan.switchNs, "link", "set", "br0", "up");
  await ip(
    "-n",
    plan.switchNs,
    "link",
    "add",
    "host",
    "type",
    "veth",
    "peer",
    "name",
    plan.hostIface,
    "netns",
    "1",
  );
  await run(["sysctl", "-qw", `net.ipv6.conf.${plan.hostIface}.disable_ipv6=1`]);
  await ip("addr", "add", `${plan.hostIp}/24`, "dev", plan.hostIface);
  await ip("link", "set", plan.hostIface, "up");
  await ip("-n", plan.switchNs, "link", "set", "host", "master", "br0", "up");
}

/** Deleting the host's link deletes its peer in the switch, and every route through it. */
export async function deleteSwitch(plan: ClusterPlan): Promise<void> {
  await ip("link", "del", plan.hostIface).catch(() => undefined);
  await delNetns(plan.switchNs);
}

/** The node's eth0 on the bridge, its default route via the host, and the host's route to its pods. */
export async function connectNode(cluster: ClusterPlan, node: NodePlan): Promise<void> {
  await ip(
    "-n",
    cluster.switchNs,
    "link",
    "add",
    node.bridgePort,
    "type",
    "veth",
    "peer",
    "name",
    "eth0",
    "address",
    node.mac,
    "netns",
    node.netns,
  );
  await ip("-n", cluster.switchNs, "link", "set", node.bridgePort, "master", "br0", "up");
  await ip("-n", node.netns, "addr", "add", `${node.ip}/24`, "dev", "eth0");
  await ip("-n", node.netns, "link", "set", "eth0", "up");
  await ip("-n", node.netns, "route", "add", "default", "via", cluster.hostIp, "dev", "eth0");
  await ip("route", "add", node.podCidr, "via", node.ip, "dev", cluster.hostIface);
}

export async function disconnectNode(cluster: ClusterPlan, node: NodePlan): Promise<void> {
  await ip("route", "del", node.podCidr, "via", node.ip, "dev", cluster.hostIface).catch(() => undefined);
  await ip("-n", cluster.switchNs, "link", "del", node.bridgePort);
}

/** eth1 in the node, its peer (eth0) in the node's traffic namespace; silent until a test sends. */
export async function createTestNic(node: NodePlan): Promise<void> {
  await addNetns(node.trafficNs);
  await ip(
    "-n",
    node.netns,
    "link",
    "add",
    "eth1",
    "address",
    node.eth1.mac,
    "type",
    "veth",
    "peer",
    "name",
    node.peer.iface,
    "address",
    node.peer.mac,
    "netns",
    node.trafficNs,
  );
  for (const [ns, iface, self, other] of [
    [node.netns, "eth1", node.eth1, node.peer],
    [node.trafficNs, node.peer.iface, node.peer, node.eth1],
  ] as const) {
    await ip("-n", ns, "addr", "add", `${self.ip}/30`, "dev", iface);
    await ip("-n", ns, "neigh", "replace", other.ip, "lladdr", other.mac, "dev", iface, "nud", "permanent");
  }
  // GRO gives eth1 the NAPI receive path that frames sent by XDP_TX need while no XDP program is attached.
  await inNetns(node.netns, ["ethtool", "-K", "eth1", "gro", "on"]);
  await ip("-n", node.netns, "link", "set", "eth1", "up");
  await ip("-n", node.trafficNs, "link", "set", node.peer.iface, "up");
}
