// Test hosts: a "node" network namespace and a "peer" namespace joined by a veth pair, silent unless spoken
// to (IPv6 off before the links come up, static neighbour entries, so no autoconfiguration, ND or ARP).
// Addresses come from 198.18.0.0/15, the range set aside for benchmarking network devices (RFC 2544).
// Everything made here is removed by destroy(), which tests call from t.after so it runs on failure too.
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);
let seq = 0;

export interface Host {
  ns: string;
  iface: string;
  mac: string;
  ip: string;
}

export async function sh(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { maxBuffer: 64 << 20 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** argv that runs a command inside a namespace, keeping the host's bpffs (unlike `ip netns exec`). */
export const inNs = (ns: string, argv: string[]): string[] => [
  "nsenter",
  `--net=/run/netns/${ns}`,
  "--",
  ...argv,
];

export async function nsExec(ns: string, argv: string[]): Promise<string> {
  const [cmd, ...args] = inNs(ns, argv);
  return sh(cmd as string, args);
}

export interface LinkStats {
  rxPackets: bigint;
  rxBytes: bigint;
  txPackets: bigint;
}

export class VethPair {
  readonly node: Host;
  readonly peer: Host;
  #made: string[] = [];

  private constructor(node: Host, peer: Host) {
    this.node = node;
    this.peer = peer;
  }

  /** Creates both namespaces and the link. `tag` keeps names unique across concurrent runs. */
  static async create(opts: { gro?: boolean; mtu?: number } = {}): Promise<VethPair> {
    const id = `${process.pid % 100000}${String.fromCharCode(97 + (seq % 26))}`;
    const n = seq++ % 250;
    const pair = new VethPair(
      {
        ns: `xct-${id}-node`,
        iface: `xc${id}n`,
        mac: `02:00:c6:12:${(n + 1).toString(16).padStart(2, "0")}:01`,
        ip: `198.18.${n}.1`,
      },
      {
        ns: `xct-${id}-peer`,
        iface: `xc${id}p`,
        mac: `02:00:c6:12:${(n + 1).toString(16).padStart(2, "0")}:02`,
        ip: `198.18.${n}.2`,
      },
    );
    try {
      await pair.#setup(opts.gro ?? false);
      if (opts.mtu !== undefined) await pair.setMtu(opts.mtu);
      return pair;
    } catch (err) {
      await pair.destroy();
      throw err;
    }
  }

  async #setup(gro: boolean): Promise<void> {
    for (const h of [this.node, this.peer]) {
      await sh("ip", ["netns", "add", h.ns]);
      this.#made.push(h.ns);
      await nsExec(h.ns, [
        "sysctl",
        "-qw",
        "net.ipv6.conf.all.disable_ipv6=1",
        "net.ipv6.conf.default.disable_ipv6=1",
      ]);
    }
    await sh("ip", [
      "link",
      "add",
      this.node.iface,
      "address",
      this.node.mac,
      "netns",
      this.node.ns,
      "type",
      "veth",
      "peer",
      "name",
      this.peer.iface,
      "address",
      this.peer.mac,
      "netns",
      this.peer.ns,
    ]);
    for (const [h, other] of [
      [this.node, this.peer],
      [this.peer, this.node],
    ] as const) {
      await sh("ip", ["-n", h.ns, "addr", "add", `${h.ip}/24`, "dev", h.iface]);
      await sh("ip", [
        "-n",
        h.ns,
        "neigh",
        "replace",
        other.ip,
        "lladdr",
        other.mac,
        "dev",
        h.iface,
        "nud",
        "permanent",
      ]);
      // GRO gives a veth without XDP the NAPI receive path, which frames sent by XDP_TX need.
      if (gro) await nsExec(h.ns, ["ethtool", "-K", h.iface, "gro", "on"]);
      await sh("ip", ["-n", h.ns, "link", "set", h.iface, "up"]);
    }
  }

  async stats(h: Host): Promise<LinkStats> {
    const out = await sh("ip", ["-n", h.ns, "-s", "-j", "link", "show", "dev", h.iface]);
    // Parse the counters as bigint: they are u64 and JSON.parse would round them above 2^53.
    const grab = (dir: "rx" | "tx", field: string): bigint => {
      const m = new RegExp(`"${dir}":\\{[^}]*?"${field}":(\\d+)`).exec(out);
      if (!m?.[1]) throw new Error(`no ${dir}.${field} in ip -s -j output for ${h.iface}`);
      return BigInt(m[1]);
    };
    return {
      rxPackets: grab("rx", "packets"),
      rxBytes: grab("rx", "bytes"),
      txPackets: grab("tx", "packets"),
    };
  }

  /** The namespace's IP-layer counter of datagrams received (/proc/net/snmp, Ip InReceives). */
  async ipInReceives(h: Host): Promise<bigint> {
    const snmp = await nsExec(h.ns, ["cat", "/proc/net/snmp"]);
    const [names, values] = snmp.split("\n").filter((l) => l.startsWith("Ip:"));
    const i = names?.split(/\s+/).indexOf("InReceives") ?? -1;
    const v = values?.split(/\s+/)[i];
    if (i < 0 || v === undefined) throw new Error("no Ip InReceives in /proc/net/snmp");
    return BigInt(v);
  }

  /** The XDP program id attached to a host's interface, 0 if none. */
  async xdpProgId(h: Host): Promise<number> {
    const out = await sh("ip", ["-n", h.ns, "-j", "link", "show", "dev", h.iface]);
    const link = (
      JSON.parse(out) as Array<{
        xdp?: { prog?: { id: number }; attached?: Array<{ prog: { id: number } }> };
      }>
    )[0];
    return link?.xdp?.prog?.id ?? link?.xdp?.attached?.[0]?.prog.id ?? 0;
  }

  /**
   * Sends `count` UDP frames of `length` bytes from the peer to the node (or to another address on the
   * node's side: a macvlan's, say); returns how many were sent.
   */
  async send(count: number, length: number, to: { dstMac?: string; dstIp?: string } = {}): Promise<number> {
    return (await this.sendTimed(count, length, to)).sent;
  }

  /**
   * Sends like send(), and returns the generator's timing too. `cpu` pins the generator to one CPU (taskset),
   * `batch` sets the frames per batch handed to the driver.
   */
  async sendTimed(
    count: number,
    length: number,
    opts: { cpu?: number; batch?: number; dstMac?: string; dstIp?: string } = {},
  ): Promise<{ sent: number; wallNs: bigint; durationNs: bigint }> {
    const pin = opts.cpu === undefined ? [] : ["taskset", "-c", String(opts.cpu)];
    const out = await nsExec(this.peer.ns, [
      ...pin,
      process.execPath,
      new URL("./traffic/send.ts", import.meta.url).pathname,
      "--iface",
      this.peer.iface,
      "--src-mac",
      this.peer.mac,
      "--dst-mac",
      opts.dstMac ?? this.node.mac,
      "--src-ip",
      this.peer.ip,
      "--dst-ip",
      opts.dstIp ?? this.node.ip,
      "--length",
      String(length),
      "--count",
      String(count),
      "--batch",
      String(opts.batch ?? 64),
    ]);
    const r = JSON.parse(out) as { sent: number; wallNs: string; durationNs: string };
    return { sent: r.sent, wallNs: BigInt(r.wallNs), durationNs: BigInt(r.durationNs) };
  }

  /**
   * Sends real UDP datagrams from the peer to the node through both network stacks: `frames` maps a frame
   * size on the wire (headers included, up to the MTU + 14) to a count. For frames larger than a page,
   * which the live-frames generator cannot send. Returns the frames and bytes sent.
   */
  async sendDatagrams(
    frames: Array<[size: number, count: number]>,
  ): Promise<{ sent: bigint; bytes: bigint }> {
    const out = await nsExec(this.peer.ns, [
      process.execPath,
      new URL("./udp-send.ts", import.meta.url).pathname,
      "--src",
      this.peer.ip,
      "--dst",
      this.node.ip,
      "--frames",
      frames.map(([size, count]) => `${size}:${count}`).join(","),
    ]);
    const r = JSON.parse(out) as { sent: number; bytes: number };
    return { sent: BigInt(r.sent), bytes: BigInt(r.bytes) };
  }

  /** Sets the MTU of both ends of the pair. */
  async setMtu(mtu: number): Promise<void> {
    for (const h of [this.node, this.peer]) {
      await sh("ip", ["-n", h.ns, "link", "set", h.iface, "mtu", String(mtu)]);
    }
  }

  async destroy(): Promise<void> {
    // Deleting a namespace deletes its veth end, and with it the pair and any XDP program on it.
    for (const ns of this.#made.splice(0).reverse()) {
      await sh("ip", ["netns", "del", ns]).catch(() => undefined);
    }
  }
}

export { spawn };
