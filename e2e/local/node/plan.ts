// The address and name plan of a cluster of real nodes: pure functions of the cluster's index and each node's
// index, so that a run killed halfway can be cleaned from the index alone.
//
// Every address comes from 198.18.0.0/15 (RFC 2544), which the project keeps for test hosts. Cluster c (0..31):
//   cluster network  198.19.(192+c).0/24   the host .1 (where the API server is reached), node i at .(10+i)
//   Services         198.19.(224+c).0/24   virtual: only the nodes' kube-proxy rules know them
//   pods             198.18.(128+4c).0/22  a /26 per node (62 pods), routed by the host to the node
//   test NICs        198.18.(64+c).0/24    a /30 per node: eth1 .(4i+1), its peer in the traffic namespace .(4i+2)

export const MAX_CLUSTERS = 32;
export const MAX_NODES = 16;

/** Names of Linux network interfaces: at most 15 bytes. */
const IFNAMSIZ = 15;

export interface ClusterPlan {
  index: number;
  /** "xn<index>": the prefix of every namespace, link and cgroup of this cluster */
  id: string;
  /** the namespace holding the cluster network's bridge */
  switchNs: string;
  /** the host's link to the bridge, and its address: the API server's address for the nodes */
  hostIface: string;
  hostIp: string;
  network: string;
  serviceRange: string;
  podRange: string;
}

export interface Endpoint {
  ip: string;
  mac: string;
}

export interface NodePlan {
  name: string;
  index: number;
  /** the node's network namespace (a pin in /run/netns) */
  netns: string;
  /** the namespace at the other end of the node's eth1, where test traffic comes from */
  trafficNs: string;
  /** the bridge port (in the switch namespace) of the node's eth0 */
  bridgePort: string;
  /** eth0, on the cluster network */
  ip: string;
  mac: string;
  podCidr: string;
  /** the pods' gateway: the first address of the pod CIDR, on the node's CNI bridge */
  podGateway: string;
  /** eth1, the NIC the agent counts on, and its peer (named eth0 in the traffic namespace) */
  eth1: Endpoint;
  peer: Endpoint & { iface: string };
  /** the kubelet's cgroupRoot, made in every cgroup hierarchy of the host */
  cgroupRoot: string;
}

const hex = (n: number): string => n.toString(16).padStart(2, "0");

/** The prefix of the cgroups of cluster `id` (one per node: `<prefix><node>`, at the top of each hierarchy). */
export function cgroupPrefix(id: string): string {
  return `/xdp-counter-${id}-`;
}

export function clusterPlan(index: number): ClusterPlan {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_CLUSTERS)
    throw new Error(`cluster index ${index} out of 0..${MAX_CLUSTERS - 1}`);
  const id = `xn${index}`;
  return {
    index,
    id,
    switchNs: `${id}-switch`,
    hostIface: `${id}h`,
    hostIp: `198.19.${192 + index}.1`,
    network: `198.19.${192 + index}.0/24`,
    serviceRange: `198.19.${224 + index}.0/24`,
    podRange: `198.18.${128 + 4 * index}.0/22`,
  };
}

/** A node name as Kubernetes takes it (a DNS-1123 label), short enough for every name made from it. */
export function checkNodeName(name: string): void {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 30)
    throw new Error(
      `node name "${name}": lower-case letters, digits and "-", at most 30 characters (the kubelet's sockets live under a path made from it)`,
    );
}

export function nodePlan(cluster: ClusterPlan, name: string, index: number): NodePlan {
  checkNodeName(name);
  if (!Number.isInteger(index) || index < 1 || index > MAX_NODES)
    throw new Error(`node index ${index} out of 1..${MAX_NODES}`);
  const c = cluster.index;
  const slot = index - 1;
  const podBase = `198.18.${128 + 4 * c + Math.floor(slot / 4)}`;
  const podOffset = (slot % 4) * 64;
  const bridgePort = `${cluster.id}n${index}`;
  if (bridgePort.length > IFNAMSIZ) throw new Error(`link name ${bridgePort} too long`);
  return {
    name,
    index,
    netns: `${cluster.id}-${name}`,
    trafficNs: `${cluster.id}-${name}-t`,
    bridgePort,
    ip: `198.19.${192 + c}.${10 + index}`,
    // 02: a locally administered unicast address; c6:13 and c6:12 echo 198.19 and 198.18
    mac: `02:c6:13:${hex(192 + c)}:${hex(index)}:01`,
    podCidr: `${podBase}.${podOffset}/26`,
    podGateway: `${podBase}.${podOffset + 1}`,
    eth1: { ip: `198.18.${64 + c}.${4 * index + 1}`, mac: `02:c6:12:${hex(64 + c)}:${hex(index)}:01` },
    peer: {
      iface: "eth0",
      ip: `198.18.${64 + c}.${4 * index + 2}`,
      mac: `02:c6:12:${hex(64 + c)}:${hex(index)}:02`,
    },
    cgroupRoot: `${cgroupPrefix(cluster.id)}${name}`,
  };
}
