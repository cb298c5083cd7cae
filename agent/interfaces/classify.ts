// Physical or virtual: a glob in spec.interfaces (`*`, `eth*`) selects only interfaces that carry a node's
// own traffic, never loopback, veths, bridges and the other devices that container networking makes by the
// hundred. Those are selected only when named exactly.
//
// /sys/class/net/<if>/device would tell a physical NIC apart, but inside a simulated node's network namespace
// /sys shows the host's devices; netlink's IFLA_INFO_KIND (`ip -d -j link`: linkinfo.info_kind) is per
// namespace and names what made the device (veth, bridge, vxlan, ...). Physical NICs have no kind. Bonds,
// teams and VLANs on top of NICs carry node traffic and count as physical; every other kind is virtual.

/** Link kinds that stand on physical NICs and carry a node's traffic. */
export const PHYSICAL_KINDS: ReadonlySet<string> = new Set(["bond", "team", "vlan", "macsec"]);

/** Name prefixes of container-networking devices, whatever their kind (CNI plugins, Docker, libvirt). */
export const VIRTUAL_PREFIXES = [
  "docker",
  "br-",
  "cni",
  "cali",
  "flannel",
  "cilium",
  "lxc",
  "vxlan",
  "genev",
  "tunl",
  "weave",
  "kube-",
  "virbr",
  "vnet",
  "veth",
  "nodelocaldns",
  "antrea",
  "ovs-",
  "ovn-",
] as const;

export type InterfaceClass = "physical" | "loopback" | "virtual";

export function classify(link: {
  name: string;
  loopback: boolean;
  kind: string | undefined;
}): InterfaceClass {
  if (link.loopback) return "loopback";
  if (VIRTUAL_PREFIXES.some((prefix) => link.name.startsWith(prefix))) return "virtual";
  if (link.kind === undefined || PHYSICAL_KINDS.has(link.kind)) return "physical";
  // veth, bridge, vxlan, geneve, tun, dummy, macvlan, ipvlan, wireguard, vrf, ...: made by software
  return "virtual";
}
