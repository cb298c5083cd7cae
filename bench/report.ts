// Prints the Markdown tables of BENCHMARKS.md from the result files, so that the figures there are copied
// by a program and not by hand: `node bench/report.ts [DIR]` (default bench/results).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { FootprintResult } from "./footprint.ts";
import type { LiveResult } from "./live.ts";
import type { PerPacketResult } from "./per-packet.ts";
import type { ScaleResult } from "./scale.ts";
import type { Summary } from "./stats.ts";
import type { VariantsResult } from "./variants.ts";

const dir = process.argv[2] ?? join(import.meta.dirname, "results");
const f = (x: number, d = 2): string => x.toFixed(d);
const spread = (s: Summary, d = 2): string =>
  `${f(s.min, d)}–${f(s.max, d)} (IQR ${f(s.q1, d)}–${f(s.q3, d)})`;

export function perPacketTables(r: PerPacketResult): string {
  const out: string[] = [];
  out.push(
    `${r.method.rounds} rounds × ${r.method.repeat.toLocaleString("en")} repetitions per program, size and mode; one CPU = CPU ${r.method.oneCpu}; all CPUs = ${r.method.allCpus.join(", ")}. Machine: ${r.machine.nproc} CPUs, ${r.machine.cpuModel}, kernel ${r.machine.kernel}; ${r.machine.date}; load average at the end ${r.machine.loadAvg?.join(", ") ?? "not recorded"}.`,
    "",
    "| frame | CPUs | program | kernel ns/pkt (median) | CPU-time ns/pkt (median) | CPU-time spread: min–max (IQR) | × empty | + ns over empty |",
    "| ---: | --- | --- | ---: | ---: | --- | ---: | ---: |",
  );
  for (const row of r.rows) {
    out.push(
      `| ${row.size} B | ${row.mode} | ${row.program} | ${row.kernelNs.median} | ${f(row.cpuNs.median)} | ${spread(row.cpuNs)} | ${f(row.ratioToEmpty.cpu, 3)} | ${f(row.overEmptyNs.cpu)} |`,
    );
  }
  out.push(
    "",
    `Exactness: ${r.exactness.checks - r.exactness.failures.length} of ${r.exactness.checks} runs returned XDP_PASS and, for the seed and the three counters (single-buffer linear, multi-buffer counter and compat), counted exactly repeat × CPUs packets and repeat × CPUs × size bytes.`,
  );
  const overlaps = r.rows.filter((x) => x.overlap).map((x) => x.overlap?.median ?? 0);
  if (overlaps.length) {
    out.push(
      `All-CPU runs overlapped in time by a median of ${f(Math.min(...overlaps) * 100, 1)}–${f(Math.max(...overlaps) * 100, 1)} % of the longest run (per program and size).`,
    );
  }
  out.push(
    "",
    "| frame | program | one CPU (CPU-time ns) | all CPUs | slowdown ns | beyond the empty program's | target |",
  );
  out.push("| ---: | --- | ---: | ---: | ---: | ---: | --- |");
  for (const t of r.targets.noSlowdownOnAllCpus) {
    out.push(
      `| ${t.size} B | ${t.program} | ${f(t.oneCpuCpuNs)} | ${f(t.allCpusCpuNs)} | ${f(t.slowdownNs)} | ${f(t.beyondEmptyNs)} | ${t.met === null ? "—" : t.met ? "met" : "missed"} |`,
    );
  }
  return out.join("\n");
}

export function liveTables(r: LiveResult): string {
  const out: string[] = [];
  out.push(
    `${r.method.rounds} rounds × ${r.method.count.toLocaleString("en")} frames of ${r.method.length} B per configuration and layout; generator on CPU ${r.method.generatorCpu}; split layout: NAPI thread on CPU ${r.method.napiCpu}. Machine: ${r.machine.nproc} CPUs, ${r.machine.cpuModel}, kernel ${r.machine.kernel}; ${r.machine.date}; load average at the end ${r.machine.loadAvg?.join(", ") ?? "not recorded"}.`,
    "",
    "| layout | XDP on the node's veth | Mpps over generator CPU time (median) | spread min–max (IQR) | Mpps over wall time (median) | spread min–max | × empty | × none | exact runs | frames dropped at the veth (median) |",
    "| --- | --- | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: |",
  );
  for (const row of r.rows) {
    const oc = row.rxMppsOnCpu;
    out.push(
      `| ${row.layout} | ${row.config} | ${oc ? f(oc.median, 3) : "—"} | ${oc ? spread(oc, 3) : "—"} | ${f(row.rxMpps.median, 3)} | ${f(row.rxMpps.min, 3)}–${f(row.rxMpps.max, 3)} | ${f(row.ratioToEmpty, 3)} | ${f(row.ratioToNone, 3)} | ${row.exactRuns}/${row.runs} | ${row.lossPct.median} % |`,
    );
  }
  out.push(
    "",
    `Exactness: ${r.exactness.exact} of ${r.exactness.runs} runs exact (received == counted == sent); ${r.exactness.consistent} of ${r.exactness.runs} consistent (counted == received, and received + dropped at the veth == sent).`,
  );
  return out.join("\n");
}

export function variantsTables(r: VariantsResult): string {
  const out: string[] = [];
  out.push(
    `${r.method.loads} fresh loads × ${r.method.rounds} interleaved rounds × ${r.method.repeat.toLocaleString("en")} repetitions, ${r.method.size}-byte frames, CPU ${r.method.cpu}. Machine: ${r.machine.nproc} CPUs, ${r.machine.cpuModel}, kernel ${r.machine.kernel}; ${r.machine.date}; load average at the end ${r.machine.loadAvg?.join(", ") ?? "not recorded"}.`,
    "",
    "| variant | ns over empty: median of the loads | min–max of the loads (IQR) | each load's median |",
    "| --- | ---: | --- | --- |",
  );
  for (const row of r.rows) {
    out.push(
      `| ${row.variant} | ${f(row.acrossLoads.median)} | ${spread(row.acrossLoads)} | ${row.perLoadOverEmptyNs.map((x) => f(x, 1)).join(" ")} |`,
    );
  }
  return out.join("\n");
}

export function footprintTables(r: FootprintResult): string {
  const out: string[] = [];
  out.push(
    `${r.rows.length} agents side by side, each counting on ${r.method.interfaces} veth interfaces, poll ${r.method.poll}, idle (no traffic), ${r.method.windowSeconds} s window; RSS sampled every second. "shipped": the compiled JavaScript (dist/) with the DaemonSet's NODE_OPTIONS, as the image runs it; "sources": the .ts sources through Node.js's type stripping, no options, as in development. Machine: ${r.machine.nproc} CPUs, ${r.machine.cpuModel}, kernel ${r.machine.kernel}; ${r.machine.date}; load average at the end ${r.machine.loadAvg?.join(", ") ?? "not recorded"}.`,
    "",
    "| reportInterval | agent | NODE_OPTIONS | CPU % of one core (window) | CPU % per block: median, min–max (IQR) | RSS MiB (median) | RSS max | RSS spread min–max | writes in the window (refused) |",
    "| ---: | --- | --- | ---: | --- | ---: | ---: | --- | ---: |",
  );
  for (const row of r.rows) {
    const c = row.cpuPctPerBlock ?? row.cpuPctPerSecond;
    // Results from before the shipped build was measured have neither field: those agents ran from the sources.
    const build = row.build ?? "sources";
    const options = row.nodeOptions ? `\`${row.nodeOptions}\`` : "—";
    out.push(
      `| ${row.reportIntervalMs / 1000} s | ${build} | ${options} | ${f(row.cpuPct, 3)} | ${f(c.median, 3)}, ${spread(c, 3)} (${c.n} × ${row.blockSeconds ?? 1} s) | ${f(row.rssMiB.median, 1)} | ${f(row.rssMiB.max, 1)} | ${f(row.rssMiB.min, 1)}–${f(row.rssMiB.max, 1)} | ${row.writes}${row.refusedWrites === undefined ? "" : ` (${row.refusedWrites})`} |`,
    );
  }
  const a = r.read.allInterfacesUs;
  out.push(
    "",
    `One read of all counters (${r.read.interfaces} interfaces, ${r.method.reads.toLocaleString("en")} timed reads): median ${f(a.median, 1)} µs, ${spread(a, 1)}; ${f(r.read.perInterfaceUs, 2)} µs per interface; ${r.read.syscallsPerRead} syscalls per read (one BPF_MAP_LOOKUP_BATCH per interface).`,
    "",
    "| process that only imports | RSS MiB |",
    "| --- | ---: |",
  );
  for (const b of r.baselines) out.push(`| ${b.what} | ${f(b.rssMiB, 1)} |`);
  return out.join("\n");
}

export function scaleTables(r: ScaleResult): string {
  const out: string[] = [];
  const n = (x: number): string => x.toLocaleString("en");
  const mib = (b: number): string => f(b / 2 ** 20, 1);
  out.push(
    `Synthetic counters growing by ${r.method.ppsPerNode} packets/s per node and XdpCounter, then frozen; report interval ±${r.method.jitter * 100} % jitter; each XdpCounter polled every ${r.method.pollMs} ms for totals. Machine: ${r.machine.nproc} CPUs, ${r.machine.cpuModel}, kernel ${r.machine.kernel}; ${r.machine.date}; load average at the end ${r.machine.loadAvg?.join(", ") ?? "not recorded"}.`,
    "",
    "| nodes | XdpCounters (reports) | interval | report writes/s | per report per interval | body B (median) | request B/s | failed writes | apply answered in ms: median, min–max (IQR) | shortest gap between a report's writes (intervals) | quiet window: writes (counters changed), refused | watch events at the agents: run (quiet), ConfigMap + Node |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- | --- |",
  );
  for (const x of r.runs) {
    const g = x.agents;
    out.push(
      `| ${n(x.nodes)} | ${x.xdpCounters} (${n(x.objects.reports)}) | ${x.intervalMs / 1000} s | ${f(g.writesPerSecond, 1)} | ${f(g.writesPerReportPerInterval, 3)} | ${g.requestBytes.median} | ${n(g.requestBytesPerSecond)} | ${n(g.failedWrites)} | ${f(g.answerMs.median, 0)}, ${spread(g.answerMs, 0)} | ${f(g.minGapIntervals, 2)} | ${g.quietWrites} (${g.quietCountersChanged}), ${g.quietFailedWrites} | ${g.watchEvents.configMap} + ${g.watchEvents.node} (${g.quietWatchEvents.configMap} + ${g.quietWatchEvents.node}) |`,
    );
  }
  out.push(
    "",
    "| nodes | XdpCounters | one report B | XdpCounter B (status B) | totals exact | ready nodes | status writes per XdpCounter per interval | shortest gap between status writes (intervals) | status writes when quiet | report → totals ms: median, p95, p99, max | reports never seen in totals | operator RSS MiB: median, min–max |",
    "| ---: | ---: | ---: | --- | --- | --- | ---: | ---: | ---: | --- | ---: | --- |",
  );
  for (const x of r.runs) {
    const l = x.operator.reportToTotalsMs;
    const o = x.operator;
    out.push(
      `| ${n(x.nodes)} | ${x.xdpCounters} | ${n(x.objects.reportBytes)} | ${n(x.objects.xdpCounterBytes)} (${n(x.objects.statusBytes)}) | ${x.objects.totalsExact ? "yes" : "no"} | ${x.objects.readyNodes.join(", ")} | ${f(o.statusWritesPerXdpCounterPerInterval, 2)} | ${f(o.minStatusGapIntervals, 2)} | ${o.quietStatusWrites} | ${l ? `${f(l.median, 0)}, ${o.reportToTotalsP95Ms ?? "—"}, ${o.reportToTotalsP99Ms ?? "—"}, ${f(l.max, 0)} (n ${n(l.n)})` : "—"} | ${o.unresolved} | ${f(o.rssMiB.median, 1)}, ${f(o.rssMiB.min, 1)}–${f(o.rssMiB.max, 1)} |`,
    );
  }
  out.push(
    "",
    `What the control plane counted from the agents' start to their stop (${r.runs[0]?.controlPlane.version} kube-apiserver's \`apiserver_request_total\`, etcd's \`etcd_mvcc_*\`):`,
    "",
    "| nodes | XdpCounters | report applies answered, by code | XdpCounter status patches, by code | other requests | etcd puts | etcd DB MiB: before → after (in use after) | CPU % of one core while changing: kube-apiserver, etcd, operator, agents (load average at start) |",
    "| ---: | ---: | --- | --- | ---: | ---: | --- | --- |",
  );
  for (const x of r.runs) {
    const cp = x.controlPlane;
    const entries = Object.entries(cp.requests);
    const by = (prefix: string): string =>
      entries
        .filter(([k]) => k.startsWith(prefix))
        .map(([k, v]) => `${k.split(" ")[2]}: ${n(v)}`)
        .join(", ") || "—";
    const other = entries
      .filter(
        ([k]) => !k.startsWith("APPLY xdpcounterreports ") && !k.startsWith("PATCH xdpcounters/status "),
      )
      .reduce((a, [, v]) => a + v, 0);
    const e = cp.etcdAfter;
    out.push(
      `| ${n(x.nodes)} | ${x.xdpCounters} | ${by("APPLY xdpcounterreports ")} | ${by("PATCH xdpcounters/status ")} | ${n(other)} | ${n(cp.etcd.etcd_mvcc_put_total)} | ${mib(cp.etcdBefore.etcd_mvcc_db_total_size_in_bytes)} → ${mib(e.etcd_mvcc_db_total_size_in_bytes)} (${mib(e.etcd_mvcc_db_total_size_in_use_in_bytes)}) | ${x.cpuPct ? `${f(x.cpuPct["kube-apiserver"], 0)}, ${f(x.cpuPct.etcd, 0)}, ${f(x.cpuPct.operator, 0)}, ${f(x.cpuPct.agents, 0)} (${f(x.loadAvgAtStart, 1)})` : "—"} |`,
    );
  }
  for (const x of r.runs) {
    const reasons = Object.entries(x.agents.failureReasons ?? {});
    if (reasons.length) {
      out.push(
        "",
        `Refused report writes at ${n(x.nodes)} nodes × ${x.xdpCounters}: ${reasons.map(([m, k]) => `${k} × "${m}"`).join("; ")}.`,
      );
    }
  }
  return out.join("\n");
}

if (import.meta.main) {
  for (const [part, render] of [
    ["per-packet", perPacketTables],
    ["live", liveTables],
    ["variants", variantsTables],
    ["footprint", footprintTables],
    ["scale", scaleTables],
  ] as const) {
    const file = join(dir, `${part}.json`);
    if (!existsSync(file)) continue;
    process.stdout.write(`### ${part}\n\n${render(JSON.parse(readFileSync(file, "utf8")))}\n\n`);
  }
}
