// The benchmarks: `npm run bench [-- --part per-packet,live] [--quick] [--out DIR]`.
// Writes one JSON file per part (DIR/<part>.json; DIR is bench/results, or bench/results/quick with --quick)
// and prints a summary. BENCHMARKS.md explains the method and the figures. Needs root.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { type FootprintResult, runFootprint } from "./footprint.ts";
import { LAYOUTS, type Layout, type LiveResult, runLive } from "./live.ts";
import { type PerPacketResult, runPerPacket } from "./per-packet.ts";
import { runScale, type ScaleResult } from "./scale.ts";
import { runVariants, type VariantsResult } from "./variants.ts";

export const PARTS = ["per-packet", "live", "variants", "footprint", "scale"] as const;
export type Part = (typeof PARTS)[number];
/**
 * What runs without --part: "variants" is an investigation, run on request; "footprint" and "scale" measure
 * the agent and the control plane (minutes each), also on request.
 */
export const DEFAULT_PARTS: Part[] = ["per-packet", "live"];

/** Sizes of a full run and of a quick one (a smoke test: seconds, not figures). */
export const SIZES = {
  full: {
    perPacket: { rounds: 9, repeat: 10_000_000 },
    live: { rounds: 5, count: 1_000_000 },
    variants: { loads: 8, rounds: 5, repeat: 5_000_000 },
    footprint: { intervalsMs: [1_000, 10_000], interfaces: 8, windowSeconds: 60, reads: 10_000 },
    scale: {
      // The real control plane with kwok's nodes (2 vCPUs for everything): 100, 1,000 and 5,000 nodes, one and
      // three XdpCounters, at 10 s and at the default 60 s, under the nodes' default budget of one report write a
      // minute (ADR 0027); each changing window one full compaction window (5 minutes).
      plan: [100, 1_000, 5_000].flatMap((nodes) =>
        [1, 3].flatMap((xdpCounters) =>
          [10_000, 60_000].map((intervalMs) => ({
            nodes,
            xdpCounters,
            intervalMs,
            reportWritesPerMinute: 1,
            changingMs: 300_000,
            // the quiet window (no writes when nothing changes) is the quick run's and the tests' to check
            quietPeriods: 0,
          })),
        ),
      ),
      pps: 1_000,
      pollMs: 500,
    },
  },
  quick: {
    perPacket: { rounds: 3, repeat: 20_000 },
    live: { rounds: 1, count: 20_000 },
    variants: { loads: 2, rounds: 2, repeat: 20_000 },
    footprint: { intervalsMs: [1_000, 10_000], interfaces: 3, windowSeconds: 3, reads: 200 },
    scale: {
      // a few kwok nodes, one short window, reports every 2 s (the budget raised as the e2e tests raise it)
      plan: [
        {
          nodes: 5,
          xdpCounters: 2,
          intervalMs: 2_000,
          reportWritesPerMinute: 600,
          changingMs: 6_000,
          quietPeriods: 2,
        },
      ],
      pps: 1_000,
      pollMs: 100,
    },
  },
} as const;

const USAGE = `usage: npm run bench -- [--part per-packet,live] [--quick] [--out DIR] [--layout same-cpu,split] [--nodes 1000,5000]
  --part    which parts to run, comma-separated, of ${PARTS.join(",")} (default: ${DEFAULT_PARTS.join(",")})
  --quick   tiny sizes: checks that everything runs and counts exactly, in seconds; figures mean nothing
  --out     where to write <part>.json (default bench/results, or bench/results/quick with --quick)
  --layout  live part: where the receiver's NAPI runs (default: both: ${LAYOUTS.join(",")})
  --nodes, --xdpcounters, --interval
            scale part: only the runs of these node counts (100, 1000, 5000), XdpCounter counts (1, 3) and
            report intervals (10s, 60s); default: all twelve
  Parts may also be named without --part: npm run bench -- scale`;

function fail(text: string): never {
  process.stderr.write(`bench: ${text}\n${USAGE}\n`);
  process.exit(2);
}

const list = <T extends string>(text: string, allowed: readonly T[], what: string): T[] => {
  const items = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const i of items) if (!allowed.includes(i as T)) fail(`unknown ${what} ${i}`);
  return items as T[];
};

function summaryPerPacket(r: PerPacketResult): string {
  const lines = ["per-packet (ns/packet, medians; kernel duration | CPU time; ×empty):"];
  for (const row of r.rows) {
    lines.push(
      `  ${String(row.size).padStart(4)} B  ${row.mode.padEnd(8)}  ${row.program.padEnd(7)}  ${String(row.kernelNs.median).padStart(6)} | ${row.cpuNs.median.toFixed(2).padStart(6)}  ×${row.ratioToEmpty.cpu.toFixed(3)}`,
    );
  }
  lines.push(
    `  exactness: ${r.exactness.checks - r.exactness.failures.length}/${r.exactness.checks} runs exact`,
  );
  return lines.join("\n");
}

function summaryLive(r: LiveResult): string {
  const lines = [
    "live (Mpps received, medians [min–max]; over generator CPU time | over wall time; ×empty):",
  ];
  const range = (s: { median: number; min: number; max: number }): string =>
    `${s.median.toFixed(3)} [${s.min.toFixed(3)}–${s.max.toFixed(3)}]`;
  for (const row of r.rows) {
    lines.push(
      `  ${row.layout.padEnd(8)}  ${row.config.padEnd(7)}  ${row.rxMppsOnCpu ? range(row.rxMppsOnCpu) : "-".padEnd(19)} | ${range(row.rxMpps)}  ×${row.ratioToEmpty.toFixed(3)}  exact ${row.exactRuns}/${row.runs}  lost ${row.lossPct.median}%`,
    );
  }
  lines.push(
    `  exactness: ${r.exactness.exact}/${r.exactness.runs} runs exact, ${r.exactness.consistent}/${r.exactness.runs} consistent (counted == received, received + dropped == sent)`,
  );
  return lines.join("\n");
}

function summaryFootprint(r: FootprintResult): string {
  const lines = [
    "footprint (one agent, idle, per report interval, shipped (dist/) and from the sources; CPU % of one core over the window, RSS MiB):",
  ];
  for (const row of r.rows) {
    lines.push(
      `  ${String(row.reportIntervalMs / 1000).padStart(3)} s  ${row.build.padEnd(7)}  CPU ${row.cpuPct.toFixed(3)} %  RSS median ${row.rssMiB.median} max ${row.rssMiB.max}  writes ${row.writes}`,
    );
  }
  const a = r.read.allInterfacesUs;
  lines.push(
    `  one read of ${r.read.interfaces} interfaces: ${a.median} µs median [IQR ${a.q1}–${a.q3}], ${r.read.syscallsPerRead} syscalls`,
  );
  return lines.join("\n");
}

function summaryScale(r: ScaleResult): string {
  const lines = ["scale (kwok nodes, the real control plane, one NodeAgent each):"];
  for (const x of r.runs) {
    const g = x.agents;
    const op = x.operator;
    lines.push(
      `  ${String(x.nodes).padStart(5)} nodes × ${x.xdpCounters} @${x.intervalMs / 1000} s, ${x.reportWritesPerMinute}/min (a report every ${x.periodMs / 1000} s): ${g.writesPerSecond} report writes/s (${g.writesPerReportPerPeriod}/report/period, ${g.failedWrites} failed), ${g.requestBytes.median} B each; product ÷ Lease writes ${x.api.productShareOfLeases}; agents' watch events ${g.steadyWatchEvents.configMap} ConfigMap + ${g.steadyWatchEvents.node} Node`,
      `        etcd: ${(x.etcd.putBytesPerCompactionWindow / 2 ** 20).toFixed(1)} MiB put per compaction window (${(x.etcd.shareOfQuotaPerCompactionWindow * 100).toFixed(2)} % of the quota); operator: ${op.statusWritesPerXdpCounterPerInterval} status writes per XdpCounter per interval, ${op.quietStatusWrites} quiet, RSS ${x.rssMiB.operator?.median ?? "-"} MiB; report→totals ${op.reportToTotalsMs?.median ?? "-"} ms median; totals exact ${x.objects.totalsExact}`,
      `        CPU %: apiserver ${x.cpuPct["kube-apiserver"]}, etcd ${x.cpuPct.etcd}, kcm ${x.cpuPct["kube-controller-manager"]}, scheduler ${x.cpuPct["kube-scheduler"]}, kwok ${x.cpuPct.kwok}, operator ${x.cpuPct.operator}, agents ${x.cpuPct.agents}`,
    );
  }
  return lines.join("\n");
}

function summaryVariants(r: VariantsResult): string {
  const lines = [
    "variants (CPU-time ns/packet over the empty program; median over loads [min–max of the loads]):",
  ];
  for (const row of r.rows) {
    const a = row.acrossLoads;
    lines.push(
      `  ${row.variant.padEnd(18)} ${a.median.toFixed(2)} [${a.min.toFixed(2)}–${a.max.toFixed(2)}]  per load: ${row.perLoadOverEmptyNs.join(" ")}`,
    );
  }
  return lines.join("\n");
}

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      part: { type: "string" },
      quick: { type: "boolean", default: false },
      out: { type: "string" },
      layout: { type: "string", default: LAYOUTS.join(",") },
      nodes: { type: "string" },
      xdpcounters: { type: "string" },
      interval: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write("bench: run as root: it loads XDP programs and creates network namespaces\n");
    process.exit(3);
  }
  if (values.part && positionals.length) fail("name the parts with --part or without it, not both");
  const parts = list(values.part ?? (positionals.join(",") || DEFAULT_PARTS.join(",")), PARTS, "part");
  const layouts = list<Layout>(values.layout, LAYOUTS, "layout");
  const quick = values.quick;
  const out = values.out ?? join(import.meta.dirname, "results", ...(quick ? ["quick"] : []));
  mkdirSync(out, { recursive: true });
  const log = (text: string): void => {
    process.stderr.write(`bench: ${text}\n`);
  };
  // Ctrl-C stops between two runs, and the part removes its namespaces, programs and pins on the way out.
  const stop = new AbortController();
  const onSignal = (): void => {
    log("stopping after the current run, then cleaning up");
    stop.abort(new Error("interrupted"));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const signal = stop.signal;
  try {
    const nodes = values.nodes?.split(",").map((n) => {
      const x = Number(n);
      if (!Number.isInteger(x) || x < 1) fail(`bad node count ${n}`);
      return x;
    });
    const numbers = (text: string | undefined, what: string, scale = 1) =>
      text?.split(",").map((n) => {
        const x = Number(n.replace(/s$/, ""));
        if (!Number.isFinite(x) || x <= 0) fail(`bad ${what} ${n}`);
        return x * scale;
      });
    await runParts(parts, {
      quick,
      layouts,
      out,
      log,
      signal,
      nodes,
      xdpCounters: numbers(values.xdpcounters, "XdpCounter count"),
      intervalsMs: numbers(values.interval, "interval", 1000),
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

async function runParts(
  parts: Part[],
  o: {
    quick: boolean;
    layouts: Layout[];
    out: string;
    log: (text: string) => void;
    signal: AbortSignal;
    nodes?: number[] | undefined;
    xdpCounters?: number[] | undefined;
    intervalsMs?: number[] | undefined;
  },
): Promise<void> {
  const { quick, layouts, out, log, signal } = o;
  const sizes = quick ? SIZES.quick : SIZES.full;

  for (const part of parts) {
    const started = Date.now();
    let result: PerPacketResult | LiveResult | VariantsResult | FootprintResult | ScaleResult;
    let summary: string;
    if (part === "per-packet") {
      const r = await runPerPacket({ ...sizes.perPacket, sizes: [64, 1500], quick, log, signal });
      result = r;
      summary = summaryPerPacket(r);
    } else if (part === "live") {
      const r = await runLive({ ...sizes.live, length: 64, layouts, quick, log, signal });
      result = r;
      summary = summaryLive(r);
    } else if (part === "footprint") {
      const r = await runFootprint({
        ...sizes.footprint,
        intervalsMs: [...sizes.footprint.intervalsMs],
        quick,
        log,
        signal,
      });
      result = r;
      summary = summaryFootprint(r);
    } else if (part === "scale") {
      const sc = sizes.scale;
      const plan = sc.plan.filter(
        (p) =>
          (!o.nodes || o.nodes.includes(p.nodes)) &&
          (!o.xdpCounters || o.xdpCounters.includes(p.xdpCounters)) &&
          (!o.intervalsMs || o.intervalsMs.includes(p.intervalMs)),
      );
      if (plan.length === 0) fail("--nodes, --xdpcounters and --interval leave no run of the plan");
      const r = await runScale({
        plan,
        pps: sc.pps,
        pollMs: sc.pollMs,
        quick,
        log,
        signal,
      });
      result = r;
      summary = summaryScale(r);
    } else {
      const r = await runVariants({ ...sizes.variants, quick, log });
      result = r;
      summary = summaryVariants(r);
    }
    const file = join(out, `${part}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(
      `${summary}\n  (${((Date.now() - started) / 1000).toFixed(1)} s; ${relative(process.cwd(), file)})\n`,
    );
  }
}

if (import.meta.main) {
  try {
    await main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
