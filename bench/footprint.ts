// Part "footprint": what one agent costs on a node. Real agents (`xdp-counter agent`, a process each) run
// side by side, each in a node namespace of its own with 8 veth interfaces it counts on, reporting into the
// real API server (testing/cluster.ts): per report interval, the agent as the image ships it (the compiled JavaScript in dist/,
// built first, with the Node.js options the DaemonSet gives it) and, for comparison, run from the .ts
// sources as in development. Sampled from /proc: RSS (VmRSS) and CPU time over the window (utime + stime,
// plus cutime + cstime: the `ip` commands the agent runs to list interfaces are its cost too). Then the
// cost of one read of all 8 interfaces' counters, timed in this process with the BPF core's CounterReader
// on the agent's pinned maps.
import { execFileSync } from "node:child_process";
import { readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CounterReader } from "../agent/bpf/index.ts";
import { native } from "../agent/bpf/libbpf.ts";
import { pinPaths } from "../agent/bpf/pins.ts";
import { AGENT_NODE_OPTIONS } from "../operator/index.ts";
import { buildJs, DIST, DIST_BIN } from "../scripts/build-js.ts";
import { type AgentProcess, startAgent } from "../testing/agent.ts";
import { CLI } from "../testing/cli.ts";
import { TestCluster } from "../testing/cluster.ts";
import { sh, VethPair } from "../testing/netns.ts";
import { type Machine, machine } from "./machine.ts";
import { round, roundSummary, type Summary, summarize } from "./stats.ts";

const CLK_TCK = 100;
/** The agent's production poll interval (DEFAULT_POLL_MS): how often it re-reads the node's interfaces. */
const POLL = "5s";

/**
 * How an agent runs: "shipped" as the image runs it (dist/agent/cli/bin.js, NODE_OPTIONS from the rendered
 * DaemonSet), "sources" as development runs it (agent/cli/bin.ts through Node.js's type stripping, no options).
 */
export const AGENT_BUILDS = {
  shipped: { bin: DIST_BIN, nodeOptions: AGENT_NODE_OPTIONS },
  sources: { bin: CLI, nodeOptions: "" },
} as const;
export type AgentBuild = keyof typeof AGENT_BUILDS;

export interface FootprintRow {
  build: AgentBuild;
  /** the agent's NODE_OPTIONS ("" for none) */
  nodeOptions: string;
  reportIntervalMs: number;
  windowSeconds: number;
  /** CPU time over the window as % of one core */
  cpuPct: number;
  cpuSeconds: number;
  /** per-second CPU % of one core (from the same samples as RSS; 1 tick = 10 ms = 1 % steps) */
  cpuPctPerSecond: Summary;
  /** CPU % of one core in consecutive 10 s blocks of the window (1 s blocks in a window under 20 s) */
  cpuPctPerBlock: Summary;
  blockSeconds: number;
  rssMiB: Summary;
  /** report writes the API server took from this agent in the window (older results: status writes) */
  writes: number;
  /** report writes it refused (4xx/5xx) in the window; older results lack it */
  refusedWrites?: number;
}

export interface FootprintResult {
  part: "footprint";
  quick: boolean;
  machine: Machine;
  method: { interfaces: number; windowSeconds: number; poll: string; reads: number };
  rows: FootprintRow[];
  read: {
    interfaces: number;
    /** one read of every interface (one BPF_MAP_LOOKUP_BATCH each), µs */
    allInterfacesUs: Summary;
    perInterfaceUs: number;
    syscallsPerRead: number;
  };
  /** RSS of a process that only imports some modules, MiB (one sample each, after 1 s) */
  baselines: { what: string; rssMiB: number }[];
  targets: {
    idleCpuUnderHalfPctAt1s: { cpuPct: number; met: boolean } | null;
    rssUnder80MiB: { maxMiB: number; met: boolean };
  };
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state): utime is field 14, stime 15, and the waited-for children's cutime 16,
  // cstime 17 (the agent's `ip` commands: its interface polls).
  return Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** What a Node.js process holds after importing `modules` (nothing: the runtime alone), MiB. */
export function importRss(modules: string[], nodeOptions = ""): number {
  const script = `for (const m of process.argv.slice(1)) await import(m);
await new Promise((r) => setTimeout(r, 1000));
const s = (await import("node:fs")).readFileSync("/proc/self/status", "utf8");
process.stdout.write(/VmRSS:\\s+(\\d+)/.exec(s)[1]);`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script, ...modules], {
    cwd: join(import.meta.dirname, ".."),
    encoding: "utf8",
    env: { ...process.env, NODE_OPTIONS: nodeOptions },
  });
  return round(Number(out) / 1024, 1);
}

const ROOT = join(import.meta.dirname, "..");
/**
 * Where the agent's resident memory goes: Node.js, then each package the agent imports (koffi for libbpf, zod
 * through api/v1alpha1, node:https for the API), then the agent's own modules, from the sources and compiled
 * as shipped. The agent no longer imports @kubernetes/client-node (runtime/ loads its configuration,
 * docs/adr/0014); that row shows what a kubeconfig with an exec or auth-provider plugin still costs, since
 * only such a configuration loads it.
 */
export const BASELINES: { what: string; modules: string[]; nodeOptions?: string }[] = [
  { what: "Node.js alone", modules: [] },
  { what: "+ koffi, zod, node:https", modules: ["koffi", "zod", "node:https"] },
  {
    what: "the agent's modules, sources (agent/cluster/main.ts)",
    modules: [`${ROOT}/agent/cluster/main.ts`],
  },
  {
    what: "the agent's modules, compiled (dist/agent/cluster/main.js)",
    modules: [`${DIST}/agent/cluster/main.js`],
  },
  {
    what: `the agent's modules, compiled, NODE_OPTIONS=${AGENT_NODE_OPTIONS}`,
    modules: [`${DIST}/agent/cluster/main.js`],
    nodeOptions: AGENT_NODE_OPTIONS,
  },
  {
    what: "+ @kubernetes/client-node (exec or auth-provider kubeconfigs only)",
    modules: [`${DIST}/agent/cluster/main.js`, "@kubernetes/client-node"],
    nodeOptions: AGENT_NODE_OPTIONS,
  },
];

export async function runFootprint(o: {
  intervalsMs: number[];
  interfaces: number;
  windowSeconds: number;
  reads: number;
  quick: boolean;
  log: (text: string) => void;
  signal?: AbortSignal;
}): Promise<FootprintResult> {
  // Measure what the sources compile to now, never a dist/ left by an earlier build.
  o.log("footprint: compiling the agent to dist/ (npm run build:js)");
  buildJs();
  const runs = o.intervalsMs.flatMap((intervalMs) =>
    (Object.keys(AGENT_BUILDS) as AgentBuild[]).map((build) => ({ intervalMs, build })),
  );
  const cluster = await TestCluster.start();
  const pairs: VethPair[] = [];
  const agents: AgentProcess[] = [];
  try {
    const setups: { pid: number; agent: AgentProcess; ifaces: string[]; pinRoot: string; name: string }[] =
      [];
    for (const [k, { intervalMs, build }] of runs.entries()) {
      const pair = await VethPair.create();
      pairs.push(pair);
      const ifaces = [pair.node.iface];
      for (let i = 1; i < o.interfaces; i++) {
        const a = `${pair.node.iface}${i}`;
        const b = `${pair.peer.iface}${i}`;
        await sh("ip", [
          "-n",
          pair.node.ns,
          "link",
          "add",
          a,
          "type",
          "veth",
          "peer",
          "name",
          b,
          "netns",
          pair.peer.ns,
        ]);
        await sh("ip", ["-n", pair.node.ns, "link", "set", a, "up"]);
        await sh("ip", ["-n", pair.peer.ns, "link", "set", b, "up"]);
        ifaces.push(a);
      }
      const name = `footprint-${process.pid}-${k}`;
      await cluster.createXdpCounter(name, {
        interfaces: ifaces,
        reportInterval: `${intervalMs / 1000}s`,
      });
      // The agent reads its XdpCounters from a ConfigMap (docs/adr/0021): one of its own, with only this
      // XdpCounter, and its Node by name.
      const node = `node-${name}`;
      const specs = `specs-${name}`;
      await cluster.ensureNode(node);
      await cluster.publishSpecs(specs, [name]);
      const { path: kubeconfig } = await cluster.kubeconfigFor(pair.node.ns);
      const pinRoot = cluster.pinRoot();
      const agent = startAgent({
        ns: pair.node.ns,
        node,
        specs,
        kubeconfig,
        pinRoot,
        pollInterval: POLL,
        logLevel: "info",
        bin: AGENT_BUILDS[build].bin,
        env: { NODE_OPTIONS: AGENT_BUILDS[build].nodeOptions },
      });
      agents.push(agent);
      await agent.waitForLog((l) => l.msg === "ready: the selected interfaces are attached", 30_000);
      const pid = agent.child.pid as number;
      // nsenter execs the agent, so the child's pid is the agent's own (Node.js, not nsenter).
      const exe = readlinkSync(`/proc/${pid}/exe`);
      if (!exe.endsWith("/node")) throw new Error(`agent pid ${pid} is ${exe}, not node`);
      setups.push({ pid, agent, ifaces, pinRoot, name });
    }
    // Let start-up (module loading, the first attach and report) pass before the window opens.
    await sleep(o.quick ? 500 : 3_000);
    o.log(`footprint: ${setups.length} agents ready; measuring ${o.windowSeconds} s side by side`);
    // Count each agent's report writes in the window (server-side applies of its XdpCounterReport, answered
    // 2xx, and refused), from the API server's audit log.
    const reportWrites = (ok: boolean): Map<string, number> =>
      new Map(
        setups.map((s) => [
          s.name,
          cluster
            .writes()
            .filter(
              (r) =>
                r.method === "PATCH" &&
                r.url.includes(`/xdpcounterreports/${s.name}.`) &&
                r.status < 300 === ok,
            ).length,
        ]),
      );
    const statusWrites = (): Map<string, number> => reportWrites(true);
    const refusedBefore = reportWrites(false);
    const writesBefore = statusWrites();
    const start = setups.map((s) => ({ ticks: cpuTicks(s.pid), t: performance.now() }));
    const rss: number[][] = setups.map(() => []);
    const perSec: number[][] = setups.map(() => []);
    const last = setups.map((s) => cpuTicks(s.pid));
    const end = Date.now() + o.windowSeconds * 1000;
    while (Date.now() < end) {
      await sleep(1000, undefined, { signal: o.signal });
      setups.forEach((s, i) => {
        rss[i]?.push(rssMiB(s.pid));
        const now = cpuTicks(s.pid);
        perSec[i]?.push(((now - (last[i] ?? now)) / CLK_TCK) * 100);
        last[i] = now;
      });
    }
    const block = o.windowSeconds >= 20 ? 10 : 1;
    const blocks = (xs: number[], n: number): number[] => {
      const out: number[] = [];
      for (let k = 0; k + n <= xs.length; k += n) out.push(xs.slice(k, k + n).reduce((a, b) => a + b, 0) / n);
      return out.length ? out : [0];
    };
    const writesAfter = statusWrites();
    const refusedAfter = reportWrites(false);
    const rows: FootprintRow[] = setups.map((s, i) => {
      const ticks = cpuTicks(s.pid) - (start[i]?.ticks ?? 0);
      const secs = (performance.now() - (start[i]?.t ?? 0)) / 1000;
      const run = runs[i] ?? { intervalMs: 0, build: "shipped" };
      return {
        build: run.build,
        nodeOptions: AGENT_BUILDS[run.build].nodeOptions,
        reportIntervalMs: run.intervalMs,
        windowSeconds: round(secs, 1),
        cpuPct: round(((ticks / CLK_TCK) * 100) / secs, 3),
        cpuSeconds: ticks / CLK_TCK,
        cpuPctPerSecond: roundSummary(summarize(perSec[i] ?? []), 1),
        cpuPctPerBlock: roundSummary(summarize(blocks(perSec[i] ?? [], block)), 3),
        blockSeconds: block,
        rssMiB: roundSummary(summarize(rss[i] ?? []), 1),
        writes: (writesAfter.get(s.name) ?? 0) - (writesBefore.get(s.name) ?? 0),
        refusedWrites: (refusedAfter.get(s.name) ?? 0) - (refusedBefore.get(s.name) ?? 0),
      };
    });

    // One read of all counters: the first agent's pinned maps, read here with the same CounterReader.
    const first = setups[0];
    if (!first) throw new Error("no agent");
    const fds = first.ifaces.map((iface) => {
      const fd = native.bpf_obj_get(pinPaths(first.pinRoot, first.name, iface).stats) as number;
      if (fd < 0) throw new Error(`cannot open the pinned stats map of ${iface}`);
      return fd;
    });
    const readers = fds.map((fd, i) => new CounterReader(fd, first.ifaces[i]));
    let readUs: number[];
    try {
      for (let i = 0; i < 100; i++) for (const r of readers) r.read();
      readUs = [];
      for (let i = 0; i < o.reads; i++) {
        const t = process.hrtime.bigint();
        for (const r of readers) r.read();
        readUs.push(Number(process.hrtime.bigint() - t) / 1000);
      }
    } finally {
      for (const fd of fds) native.close(fd);
    }
    const all = roundSummary(summarize(readUs), 1);
    // The targets are the shipped agent's.
    const shipped = rows.filter((r) => r.build === "shipped");
    const at1s = shipped.find((r) => r.reportIntervalMs === 1000);
    const maxRss = Math.max(...shipped.map((r) => r.rssMiB.max));
    return {
      part: "footprint",
      quick: o.quick,
      machine: machine(),
      method: { interfaces: o.interfaces, windowSeconds: o.windowSeconds, poll: POLL, reads: o.reads },
      rows,
      read: {
        interfaces: readers.length,
        allInterfacesUs: all,
        perInterfaceUs: round(all.median / readers.length, 2),
        syscallsPerRead: readers.length,
      },
      baselines: BASELINES.map((b) => ({ what: b.what, rssMiB: importRss(b.modules, b.nodeOptions) })),
      targets: {
        idleCpuUnderHalfPctAt1s: at1s ? { cpuPct: at1s.cpuPct, met: at1s.cpuPct < 0.5 } : null,
        rssUnder80MiB: { maxMiB: maxRss, met: maxRss < 80 },
      },
    };
  } finally {
    for (const a of agents) await a.stop("SIGTERM").catch(() => undefined);
    for (const p of pairs) await p.destroy();
    await cluster.stop();
  }
}
