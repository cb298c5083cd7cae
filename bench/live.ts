// Part 2, live traffic: the project's generator (XDP live frames, XDP_TX out of the peer's veth) sends
// 64-byte frames into a veth pair as fast as it can; the node's veth receives them with no XDP program, the
// empty program, the seed's design, or the project's counter attached (native XDP). Rate = the node veth's
// rx_packets delta / the generator's wall time. Every run also checks that nothing was lost or miscounted.
//
// Two layouts of the two CPUs' work:
//  - "same-cpu": the generator is pinned to one CPU, and the node's NAPI runs in softirq on that same CPU
//    (veth schedules its NAPI where the frames were sent from): after each batch of 64 frames is flushed,
//    the softirq receives them before the generator goes on. Nothing can overflow, so sent == received.
//  - "split": the node veth's NAPI runs in a kernel thread (threaded NAPI) pinned to another CPU. The
//    generator no longer waits for the receiver; when it outruns it, the veth's ring (256 frames) overflows
//    and the rest are dropped before any XDP program sees them (the peer's tx_queue_0_xdp_xmit_errors).
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { detachCounter } from "../agent/bpf/counter.ts";
import { CounterReader } from "../agent/bpf/counters.ts";
import { mapInfo, progInfoById } from "../agent/bpf/info.ts";
import { native } from "../agent/bpf/libbpf.ts";
import { DEFAULT_PIN_ROOT, openPin, pinPaths, STANDALONE_OWNER } from "../agent/bpf/pins.ts";
import { runCli } from "../testing/cli.ts";
import { nsExec, sh, VethPair } from "../testing/netns.ts";
import { type Machine, machine } from "./machine.ts";
import { BENCH_BPF } from "./per-packet.ts";
import { round, roundSummary, type Summary, summarize } from "./stats.ts";

export const CONFIGS = ["none", "empty", "seed", "counter"] as const;
export type Config = (typeof CONFIGS)[number];
export const LAYOUTS = ["same-cpu", "split"] as const;
export type Layout = (typeof LAYOUTS)[number];

export interface LiveOptions {
  rounds: number;
  /** frames per run */
  count: number;
  length: number;
  layouts: Layout[];
  quick: boolean;
  log: (text: string) => void;
  /** stops between runs (Ctrl-C), so that what the part made is removed on the way out */
  signal?: AbortSignal;
}

export interface LiveRun {
  layout: Layout;
  config: Config;
  round: number;
  sent: number;
  rxPackets: string;
  /** packets the attached program counted (seed and counter), as a decimal string */
  counted: string | null;
  /** frames the peer's veth could not hand over (ring full): tx_queue_0_xdp_xmit_errors delta */
  xmitErrors: string;
  wallNs: string;
  /** the generator's own kernel timing of the run (time on CPU: excludes time it was scheduled out) */
  kernelNs: string;
  /** received / wall time */
  rxPps: number;
  /** received / the generator's kernel time: same-cpu layout only, where the receiving runs inside it */
  rxPpsOnCpu: number | null;
  /** counted == rx delta (where a program counts) and rx delta + xmit errors == sent */
  consistent: boolean;
  /** rx delta == sent and counted == sent */
  exact: boolean;
}

export interface LiveRow {
  layout: Layout;
  config: Config;
  /** received Mpps over wall-clock time */
  rxMpps: Summary;
  /** received Mpps over the generator's time on CPU (same-cpu layout; null for split) */
  rxMppsOnCpu: Summary | null;
  /** median / the empty program's median: of rxMppsOnCpu where there is one, else of rxMpps */
  ratioToEmpty: number;
  ratioToNone: number;
  /** the same ratios over wall-clock rates */
  wallRatioToEmpty: number;
  exactRuns: number;
  runs: number;
  lossPct: Summary;
}

export interface LiveResult {
  part: "live";
  quick: boolean;
  machine: Machine;
  method: {
    rounds: number;
    count: number;
    length: number;
    layouts: Layout[];
    generatorCpu: number;
    napiCpu: number;
    note: string;
  };
  rows: LiveRow[];
  runs: LiveRun[];
  exactness: { runs: number; exact: number; consistent: number; mismatches: LiveRun[] };
  targets: {
    counterAtLeast97PctOfEmpty: Array<{ layout: Layout; ratio: number; wallRatio: number; met: boolean }>;
  };
}

const ethtoolStat = async (ns: string, iface: string, name: string): Promise<bigint> => {
  const out = await nsExec(ns, ["ethtool", "-S", iface]);
  const m = new RegExp(`^\\s*${name}:\\s*(\\d+)`, "m").exec(out);
  return m?.[1] ? BigInt(m[1]) : 0n;
};

/** The kernel threads of an interface's threaded NAPI (named napi/IFACE-ID). */
function napiThreads(iface: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").startsWith(`napi/${iface}-`)) out.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Packets the seed program attached to an interface has counted under XDP_PASS. */
function seedCount(progId: number): bigint {
  for (const id of progInfoById(progId).mapIds) {
    const fd = native.bpf_map_get_fd_by_id(id);
    if (fd < 0) continue;
    try {
      if (mapInfo(fd).name !== "xdp_seed_stats") continue;
      const key = Buffer.alloc(4);
      key.writeUInt32LE(2);
      const value = Buffer.alloc(16);
      if (native.bpf_map_lookup_elem(fd, key, value) !== 0) throw new Error("cannot read the seed's map");
      return value.readBigUInt64LE(0);
    } finally {
      native.close(fd);
    }
  }
  throw new Error(`program ${progId} has no xdp_seed_stats map`);
}

class Receiver {
  readonly pair: VethPair;
  readonly layout: Layout;
  readonly napiCpu: number;
  config: Config = "none";
  #counterFd: number | undefined;

  constructor(pair: VethPair, layout: Layout, napiCpu: number) {
    this.pair = pair;
    this.layout = layout;
    this.napiCpu = napiCpu;
  }

  get #node() {
    return this.pair.node;
  }

  async attach(config: Config): Promise<void> {
    const { ns, iface } = this.#node;
    if (config === "empty" || config === "seed") {
      const obj = join(BENCH_BPF, config === "empty" ? "xdp_empty.o" : "xdp_seed.o");
      await sh("ip", ["-n", ns, "link", "set", "dev", iface, "xdpdrv", "obj", obj, "sec", "xdp"]);
    } else if (config === "counter") {
      const r = await runCli(ns, ["attach", "--iface", iface, "--mode", "native", "--json"]);
      if (r.code !== 0) throw new Error(`xdp-counter attach failed (${r.code}): ${r.stderr}`);
      this.#counterFd = openPin(pinPaths(DEFAULT_PIN_ROOT, STANDALONE_OWNER, iface).stats);
      if (this.#counterFd === undefined) throw new Error("the counter's stats map is not pinned");
    }
    this.config = config;
    // Attaching or detaching XDP on a veth re-creates its NAPI, and with it the NAPI thread: pin it anew.
    if (this.layout === "split") {
      const threads = napiThreads(iface);
      if (threads.length === 0) throw new Error(`no NAPI thread for ${iface}`);
      for (const pid of threads) await sh("taskset", ["-pc", String(this.napiCpu), String(pid)]);
    }
  }

  async detach(): Promise<void> {
    const { ns, iface } = this.#node;
    if (this.config === "empty" || this.config === "seed") {
      await sh("ip", ["-n", ns, "link", "set", "dev", iface, "xdpdrv", "off"]);
    } else if (this.config === "counter") {
      if (this.#counterFd !== undefined) native.close(this.#counterFd);
      this.#counterFd = undefined;
      detachCounter({ iface, owner: STANDALONE_OWNER });
    }
    this.config = "none";
  }

  async counted(): Promise<bigint | null> {
    if (this.config === "counter" && this.#counterFd !== undefined) {
      return new CounterReader(this.#counterFd).read().pass.packets;
    }
    if (this.config === "seed") return seedCount(await this.pair.xdpProgId(this.#node));
    return null;
  }
}

export async function runLive(opts: LiveOptions): Promise<LiveResult> {
  const ncpu = availableParallelism();
  const generatorCpu = 0;
  const napiCpu = ncpu > 1 ? 1 : 0;
  const runs: LiveRun[] = [];

  for (const layout of opts.layouts) {
    const pair = await VethPair.create({ gro: true });
    const rx = new Receiver(pair, layout, napiCpu);
    try {
      if (layout === "split") {
        await sh("ip", [
          "netns",
          "exec",
          pair.node.ns,
          "sh",
          "-c",
          `echo 1 > /sys/class/net/${pair.node.iface}/threaded`,
        ]);
      }
      await rx.attach("none");
      // Warm-up, not recorded: the first send pages in the generator and the receive path.
      await pair.sendTimed(Math.min(opts.count, 50_000), opts.length, { cpu: generatorCpu });

      for (let r = 0; r < opts.rounds; r++) {
        const order = CONFIGS.map((_, i) => CONFIGS[(i + r) % CONFIGS.length] as Config);
        for (const config of order) {
          opts.signal?.throwIfAborted();
          await rx.attach(config);
          try {
            const before = await pair.stats(pair.node);
            const errBefore = await ethtoolStat(pair.peer.ns, pair.peer.iface, "tx_queue_0_xdp_xmit_errors");
            const countedBefore = await rx.counted();
            const sent = await pair.sendTimed(opts.count, opts.length, { cpu: generatorCpu });
            // The receiving thread may still hold up to a ring's worth of frames (split layout), and on a
            // busy machine it may wait a while for its CPU: give it up to 5 s to account for every frame.
            let after = await pair.stats(pair.node);
            let errAfter = await ethtoolStat(pair.peer.ns, pair.peer.iface, "tx_queue_0_xdp_xmit_errors");
            for (let i = 0; i < 100; i++) {
              if (after.rxPackets - before.rxPackets + (errAfter - errBefore) >= BigInt(sent.sent)) break;
              await new Promise((res) => setTimeout(res, 50));
              after = await pair.stats(pair.node);
              errAfter = await ethtoolStat(pair.peer.ns, pair.peer.iface, "tx_queue_0_xdp_xmit_errors");
            }
            const countedAfter = await rx.counted();
            const rxDelta = after.rxPackets - before.rxPackets;
            const counted =
              countedBefore !== null && countedAfter !== null ? countedAfter - countedBefore : null;
            const xmitErrors = errAfter - errBefore;
            const sentN = BigInt(sent.sent);
            const run: LiveRun = {
              layout,
              config,
              round: r,
              sent: sent.sent,
              rxPackets: rxDelta.toString(),
              counted: counted === null ? null : counted.toString(),
              xmitErrors: xmitErrors.toString(),
              wallNs: sent.wallNs.toString(),
              kernelNs: sent.durationNs.toString(),
              rxPps: Math.round((Number(rxDelta) / Number(sent.wallNs)) * 1e9),
              rxPpsOnCpu:
                layout === "same-cpu" ? Math.round((Number(rxDelta) / Number(sent.durationNs)) * 1e9) : null,
              consistent: (counted === null || counted === rxDelta) && rxDelta + xmitErrors === sentN,
              exact: rxDelta === sentN && (counted === null || counted === sentN),
            };
            runs.push(run);
          } finally {
            await rx.detach();
          }
        }
        opts.log(`live (${layout}): round ${r + 1}/${opts.rounds} done`);
      }
    } finally {
      await rx.detach().catch(() => undefined);
      await pair.destroy();
    }
  }

  const rows: LiveRow[] = [];
  for (const layout of opts.layouts) {
    const of = (c: Config): LiveRun[] => runs.filter((x) => x.layout === layout && x.config === c);
    const wall = (c: Config): number => summarize(of(c).map((x) => x.rxPps)).median;
    const onCpu = (c: Config): number => summarize(of(c).map((x) => x.rxPpsOnCpu ?? x.rxPps)).median;
    for (const config of CONFIGS) {
      const list = of(config);
      rows.push({
        layout,
        config,
        rxMpps: roundSummary(summarize(list.map((x) => x.rxPps / 1e6)), 3),
        rxMppsOnCpu:
          layout === "same-cpu"
            ? roundSummary(summarize(list.map((x) => (x.rxPpsOnCpu ?? 0) / 1e6)), 3)
            : null,
        ratioToEmpty: round(onCpu(config) / onCpu("empty"), 3),
        ratioToNone: round(onCpu(config) / onCpu("none"), 3),
        wallRatioToEmpty: round(wall(config) / wall("empty"), 3),
        exactRuns: list.filter((x) => x.exact).length,
        runs: list.length,
        lossPct: roundSummary(summarize(list.map((x) => (100 * Number(x.xmitErrors)) / x.sent)), 1),
      });
    }
  }
  const mismatches = runs.filter((x) => !x.consistent || !x.exact);
  return {
    part: "live",
    quick: opts.quick,
    machine: machine(),
    method: {
      rounds: opts.rounds,
      count: opts.count,
      length: opts.length,
      layouts: opts.layouts,
      generatorCpu,
      napiCpu,
      note: "XDP live-frames generator (bpf/xdp_tx.o, XDP_TX) in the peer namespace, pinned with taskset; rate = node veth rx_packets delta / generator wall time; configurations interleaved in a rotating order every round; reference programs attached with ip ... xdpdrv, the counter with xdp-counter attach --mode native.",
    },
    rows,
    runs,
    exactness: {
      runs: runs.length,
      exact: runs.filter((x) => x.exact).length,
      consistent: runs.filter((x) => x.consistent).length,
      mismatches,
    },
    targets: {
      counterAtLeast97PctOfEmpty: opts.layouts.map((layout) => {
        const row = rows.find((x) => x.layout === layout && x.config === "counter");
        const ratio = row?.ratioToEmpty ?? 0;
        return { layout, ratio, wallRatio: row?.wallRatioToEmpty ?? 0, met: ratio >= 0.97 };
      }),
    },
  };
}
