// The cluster network and the simulated nodes' namespaces.
//
// One cluster instance owns one /24 of 198.19.0.0/16 (inside 198.18.0.0/15, RFC 2544), picked through a lock
// file so that concurrent test runs never share one. A "switch" namespace holds a bridge; the host (the test
// process, where the API server listens) joins it through a veth from the root namespace, and every node
// namespace through its eth0, with the default route via the host. Each node also has eth1, a veth to a
// traffic namespace of its own, and a mount namespace with a fresh sysfs (showing the node's interfaces) and a
// fresh bpffs at /sys/fs/bpf, so that two nodes can pin the same path as two real nodes do.
// IPv6 is off before links come up and neighbours are static, so nothing talks unless a test does.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmdirSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { nsExec, sh } from "../../../testing/netns.ts";
import type { Undo } from "./cleanup.ts";

export const RUN_ROOT = "/run/xdp-counter-local";
const LOCKS = join(RUN_ROOT, ".subnets");
/** Node indexes per cluster: traffic links take a /30 each out of one /24. */
export const MAX_NODES = 60;

const hex = (n: number): string => n.toString(16).padStart(2, "0");

export interface ClusterNet {
  index: number;
  /** Prefix of every namespace and root-namespace link name of this cluster, e.g. "xcl7". */
  prefix: string;
  /** The cluster's private directory (a private bind mount) holding mount namespace files, logs, kubeconfigs. */
  dir: string;
  switchNs: string;
  hostIface: string;
  hostIp: string;
  hostMac: string;
}

export interface NodeNet {
  name: string;
  index: number;
  netns: string;
  trafficNs: string;
  /** The file the node's mount namespace is bound to. */
  mountNs: string;
  ip: string;
  mac: string;
  eth1: { ip: string; mac: string };
  /** The traffic namespace's end of eth1 (named eth0 there). */
  peer: { iface: string; ip: string; mac: string };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes a free cluster index: a lock file of ours, no address of 198.19.i.0/24 on the host, no names in use. */
export async function allocateIndex(): Promise<number> {
  mkdirSync(LOCKS, { recursive: true });
  const addrs = await sh("ip", ["-o", "-4", "addr", "show"]);
  const netns = await sh("ip", ["netns", "list"]);
  const links = await sh("ip", ["-o", "link", "show"]);
  const start = process.pid % 256;
  for (let k = 0; k < 256; k++) {
    const i = (start + k) % 256;
    const prefix = `xcl${i}`;
    if (addrs.includes(` 198.19.${i}.`)) continue;
    if (netns.split("\n").some((l) => l.startsWith(`${prefix}-`))) continue;
    if (links.includes(` ${prefix}h`)) continue;
    const lock = join(LOCKS, String(i));
    try {
      mkdirSync(LOCKS, { recursive: true });
      const fd = openSync(lock, "wx");
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return i;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") {
        k--; // the directory went with another run's last cluster: make it again
        continue;
      }
      if (code !== "EEXIST") throw err;
      const owner = Number(readFileSync(lock, "utf8").trim());
      if (owner && !alive(owner)) {
        // A dead run's lock with nothing of its left behind (checked above): take it over.
        try {
          unlinkSync(lock);
        } catch {}
        k--;
      }
    }
  }
  throw new Error("no free cluster network in 198.19.0.0/16 (256 clusters running?)");
}

export function releaseIndex(index: number): void {
  try {
    unlinkSync(join(LOCKS, String(index)));
    // The shared directories go with the last cluster (another run making one meanwhile just makes it again).
    rmdirSync(LOCKS);
    rmdirSync(RUN_ROOT);
  } catch {}
}

const ipv6Off = ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"];

async function addNetns(name: string, undo: Undo): Promise<void> {
  await sh("ip", ["netns", "add", name]);
  undo.push({ kind: "argv", argv: ["ip", "netns", "del", name] });
  await nsExec(name, ipv6Off);
  await sh("ip", ["-n", name, "link", "set", "lo", "up"]);
}

export async function createClusterNet(index: number, undo: Undo): Promise<ClusterNet> {
  const prefix = `xcl${index}`;
  const net: ClusterNet = {
    index,
    prefix,
    dir: join(RUN_ROOT, prefix),
    switchNs: `${prefix}-switch`,
    hostIface: `${prefix}h`,
    hostIp: `198.19.${index}.1`,
    hostMac: `02:c6:13:${hex(index)}:00:01`,
  };
  // A private bind mount of our own: `unshare --mount=FILE` refuses a file on a shared mount.
  mkdirSync(net.dir, { recursive: true });
  undo.push({ kind: "rm", path: net.dir });
  await sh("mount", ["--bind", net.dir, net.dir]);
  undo.push({ kind: "argv", argv: ["umount", "-l", net.dir] });
  await sh("mount", ["--make-private", net.dir]);
  mkdirSync(join(net.dir, "mnt"));

  await addNetns(net.switchNs, undo);
  await sh("ip", ["-n", net.switchNs, "link", "add", "br0", "type", "bridge", "stp_state", "0"]);
  await sh("ip", ["-n", net.switchNs, "link", "set", "br0", "up"]);
  await sh("ip", [
    "-n",
    net.switchNs,
    "link",
    "add",
    "host",
    "type",
    "veth",
    "peer",
    "name",
    net.hostIface,
    "address",
    net.hostMac,
    "netns",
    "1",
  ]);
  undo.push({ kind: "argv", argv: ["ip", "link", "del", net.hostIface] });
  await sh("sysctl", ["-qw", `net.ipv6.conf.${net.hostIface}.disable_ipv6=1`]);
  await sh("ip", ["addr", "add", `${net.hostIp}/24`, "dev", net.hostIface]);
  await sh("ip", ["link", "set", net.hostIface, "up"]);
  await sh("ip", ["-n", net.switchNs, "link", "set", "host", "master", "br0", "up"]);
  return net;
}

/** Network and mount namespaces of one simulated node. */
export async function createNodeNet(
  net: ClusterNet,
  name: string,
  index: number,
  undo: Undo,
): Promise<NodeNet> {
  if (index < 1 || index > MAX_NODES) throw new Error(`node index ${index} out of 1..${MAX_NODES}`);
  const node: NodeNet = {
    name,
    index,
    netns: `${net.prefix}-${name}`,
    trafficNs: `${net.prefix}-${name}-t`,
    mountNs: join(net.dir, "mnt", name),
    ip: `198.19.${net.index}.${10 + index}`,
    mac: `02:c6:13:${hex(net.index)}:${hex(index)}:01`,
    eth1: { ip: `198.18.${net.index}.${4 * index + 1}`, mac: `02:c6:12:${hex(net.index)}:${hex(index)}:01` },
    peer: {
      iface: "eth0",
      ip: `198.18.${net.index}.${4 * index + 2}`,
      mac: `02:c6:12:${hex(net.index)}:${hex(index)}:02`,
    },
  };
  await addNetns(node.netns, undo);
  await addNetns(node.trafficNs, undo);

  // eth0 on the cluster network, default route via the host (where the API server listens).
  const port = `n${index}`;
  await sh("ip", [
    "-n",
    net.switchNs,
    "link",
    "add",
    port,
    "type",
    "veth",
    "peer",
    "name",
    "eth0",
    "address",
    node.mac,
    "netns",
    node.netns,
  ]);
  await sh("ip", ["-n", net.switchNs, "link", "set", port, "master", "br0", "up"]);
  await sh("ip", ["-n", node.netns, "addr", "add", `${node.ip}/24`, "dev", "eth0"]);
  await sh("ip", [
    "-n",
    node.netns,
    "neigh",
    "replace",
    net.hostIp,
    "lladdr",
    net.hostMac,
    "dev",
    "eth0",
    "nud",
    "permanent",
  ]);
  await sh("ip", ["-n", node.netns, "link", "set", "eth0", "up"]);
  await sh("ip", ["-n", node.netns, "route", "add", "default", "via", net.hostIp, "dev", "eth0"]);
  await sh("ip", ["neigh", "replace", node.ip, "lladdr", node.mac, "dev", net.hostIface, "nud", "permanent"]);

  // eth1 to the node's traffic namespace, where tests send frames from.
  await sh("ip", [
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
  ]);
  for (const [ns, iface, self, other] of [
    [node.netns, "eth1", node.eth1, node.peer],
    [node.trafficNs, node.peer.iface, node.peer, node.eth1],
  ] as const) {
    await sh("ip", ["-n", ns, "addr", "add", `${self.ip}/30`, "dev", iface]);
    await sh("ip", [
      "-n",
      ns,
      "neigh",
      "replace",
      other.ip,
      "lladdr",
      other.mac,
      "dev",
      iface,
      "nud",
      "permanent",
    ]);
  }
  // GRO gives eth1 the NAPI receive path that frames sent by XDP_TX need while no XDP program is attached.
  await nsExec(node.netns, ["ethtool", "-K", "eth1", "gro", "on"]);
  await sh("ip", ["-n", node.netns, "link", "set", "eth1", "up"]);
  await sh("ip", ["-n", node.trafficNs, "link", "set", node.peer.iface, "up"]);

  await createMountNs(node, undo);
  return node;
}

// Run inside the new mount namespace (already private, entered from the node's netns): drop the copies of
// other namespaces' bind mounts (they would keep those namespaces alive), then a fresh sysfs, which shows the
// netns of whoever mounts it, and a fresh bpffs on it.
const mountScript = `
umount -l /run/netns 2>/dev/null
awk '$2 ~ "^${RUN_ROOT}/" {print $2}' /proc/self/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
umount -l /sys && mount -t sysfs sysfs /sys && mount -t bpf bpffs /sys/fs/bpf
`;

async function createMountNs(node: NodeNet, undo: Undo): Promise<void> {
  writeFileSync(node.mountNs, "");
  undo.push({ kind: "argv", argv: ["umount", node.mountNs] });
  await nsExec(node.netns, [
    "unshare",
    `--mount=${node.mountNs}`,
    "--propagation",
    "private",
    "sh",
    "-c",
    mountScript,
  ]);
  if (!existsSync(node.mountNs)) throw new Error(`mount namespace of ${node.name} was not persisted`);
}

/** argv that runs a command inside a node's network and mount namespaces. */
export function inNode(node: Pick<NodeNet, "netns" | "mountNs">, argv: string[], cwd = "/"): string[] {
  return [
    "nsenter",
    `--net=/run/netns/${node.netns}`,
    `--mount=${node.mountNs}`,
    `--wd=${cwd}`,
    "--",
    ...argv,
  ];
}

export interface LinkStats {
  rxPackets: bigint;
  rxBytes: bigint;
  txPackets: bigint;
}

export async function linkStats(ns: string, iface: string): Promise<LinkStats> {
  const out = await sh("ip", ["-n", ns, "-s", "-j", "link", "show", "dev", iface]);
  // u64 counters: parse as bigint, JSON.parse would round them above 2^53.
  const grab = (dir: "rx" | "tx", field: string): bigint => {
    const m = new RegExp(`"${dir}":\\{[^}]*?"${field}":(\\d+)`).exec(out);
    if (!m?.[1]) throw new Error(`no ${dir}.${field} in ip -s -j output for ${iface} in ${ns}`);
    return BigInt(m[1]);
  };
  return { rxPackets: grab("rx", "packets"), rxBytes: grab("rx", "bytes"), txPackets: grab("tx", "packets") };
}

const sendScript = new URL("../../../agent/traffic/send.ts", import.meta.url).pathname;

/** Sends `count` UDP frames of `length` bytes from the node's traffic namespace into its eth1. */
export async function sendTraffic(node: NodeNet, count: number, length: number): Promise<number> {
  const out = await nsExec(node.trafficNs, [
    process.execPath,
    sendScript,
    "--iface",
    node.peer.iface,
    "--src-mac",
    node.peer.mac,
    "--dst-mac",
    node.eth1.mac,
    "--src-ip",
    node.peer.ip,
    "--dst-ip",
    node.eth1.ip,
    "--length",
    String(length),
    "--count",
    String(count),
  ]);
  return (JSON.parse(out) as { sent: number }).sent;
}
