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

/** The operator's limit, heap and OOM kills; runs from before the limit was set have none. */
function operatorMemory(x: ScaleResult["runs"][number]): string {
  const heap = x.operatorHeapUsedMiB;
  const limit = x.operatorMemory;
  if (!limit) return "no limit";
  return `${f(limit.limitMiB, 0)}, ${heap ? `${f(heap.median, 0)} (${f(heap.max, 0)})` : "—"}, ${limit.oomKills}`;
}

export function scaleTables(r: ScaleResult): string {
  const out: string[] = [];
  const n = (x: number): string => x.toLocaleString("en");
  const mib = (b: number): string => f(b / 2 ** 20, 1);
  const pct = (x: number): string => `${f(x * 100, 1)} %`;
  const k = r.method.kwok;
  out.push(
    `Synthetic counters growing by ${r.method.ppsPerNode} packets/s per node and XdpCounter, then frozen; report interval ±${r.method.jitter * 100} % jitter; each XdpCounter polled every ${r.method.pollMs} ms for totals. kwok: Node status every ${k.heartbeatSeconds} s, Leases of ${k.leaseDurationSeconds} s (renewed every ${k.leaseDurationSeconds / 4} s); the controller manager's node monitor grace period ${k.nodeMonitorGracePeriodSeconds} s. Machine: ${r.machine.nproc} CPUs, ${r.machine.cpuModel}, kernel ${r.machine.kernel}; ${r.machine.date}; load average at the end ${r.machine.loadAvg?.join(", ") ?? "not recorded"}.`,
    "",
    "**API load** in the changing window (kube-apiserver's `apiserver_request_total` and `apiserver_request_body_size_bytes`; writes per second):",
    "",
    "| nodes | XdpCounters | interval | budget /min | report period | report writes/s | XdpCounter status writes/s | operator's other writes/s | node Lease writes/s | Node status writes/s | pod status writes/s | other writes/s | product ÷ Lease writes | product ÷ a kubelet's Lease writes | B per report write (server; client median) | watch events/s sent (≥ 0.5), by resource |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
  );
  for (const x of r.runs) {
    const w = x.api.writesPerSecond;
    // the resources whose watchers got at least one event every 2 s, most first
    const watch = Object.entries(x.api.watchEventsPerSecond)
      .filter(([, v]) => v >= 0.5)
      .sort((a, b) => b[1] - a[1])
      .map(([res, v]) => `${res} ${f(v, 1)}`)
      .join(", ");
    out.push(
      `| ${n(x.nodes)} | ${x.xdpCounters} | ${x.intervalMs / 1000} s | ${x.reportWritesPerMinute} | ${x.periodMs / 1000} s | ${f(w.reports, 2)} | ${f(w.xdpCounters, 2)} | ${f(w.operatorOther, 2)} | ${f(w.leases, 1)} | ${f(w.nodeStatus, 2)} | ${f(w.podStatus, 2)} | ${f(w.other, 2)} | ${pct(x.api.productShareOfLeases)} | ${pct(x.api.productShareOfKubeletLeases)} | ${x.api.reportRequestBytes ?? "—"}; ${x.agents.requestBytes.median} | ${watch || "—"} |`,
    );
  }
  out.push(
    "",
    "**etcd** (its own `/metrics`: `etcd_mvcc_db_total_size_in_bytes`, `…_in_use_in_bytes`, `etcd_mvcc_put_total`, `etcd_debugging_mvcc_total_put_size_in_bytes`), and **CPU and RSS** of every process in the changing window:",
    "",
    "| nodes | XdpCounters | interval | DB MiB before → after (in use after) | puts/s | bytes put/s | bytes put per 5-minute compaction window | share of the 2 GiB quota | CPU % of one core: kube-apiserver, etcd, controller manager, scheduler, kwok, operator, agents | RSS MiB (median): kube-apiserver, etcd, controller manager, scheduler, kwok, operator (max), agents' process | operator: memory limit, V8 heap in use MiB median (max), OOM kills | load average at start |",
    "| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- | --- | --- | ---: |",
  );
  for (const x of r.runs) {
    const e = x.etcd;
    const c = x.cpuPct;
    const m = x.rssMiB;
    const med = (s: { median: number } | undefined) => (s ? f(s.median, 0) : "—");
    out.push(
      `| ${n(x.nodes)} | ${x.xdpCounters} | ${x.intervalMs / 1000} s | ${mib(e.dbBytesBefore)} → ${mib(e.dbBytesAfter)} (${mib(e.dbInUseBytesAfter)}) | ${f(e.putsPerSecond, 1)} | ${n(e.putBytesPerSecond)} | ${mib(e.putBytesPerCompactionWindow)} MiB | ${pct(e.shareOfQuotaPerCompactionWindow)} | ${f(c["kube-apiserver"], 0)}, ${f(c.etcd, 0)}, ${f(c["kube-controller-manager"], 0)}, ${f(c["kube-scheduler"], 0)}, ${f(c.kwok, 0)}, ${f(c.operator, 0)}, ${f(c.agents, 0)} | ${med(m["kube-apiserver"])}, ${med(m.etcd)}, ${med(m["kube-controller-manager"])}, ${med(m["kube-scheduler"])}, ${med(m.kwok)}, ${med(m.operator)} (${m.operator ? f(m.operator.max, 0) : "—"}), ${med(m.agents)} | ${operatorMemory(x)} | ${f(x.loadAvgAtStart, 1)} |`,
    );
  }
  out.push(
    "",
    "**The agents and the operator** (the agents' client counts every apply; the operator's writes from the API server's audit log):",
    "",
    "| nodes | XdpCounters | interval | setup: Nodes Ready, agent pods Ready (s) | report writes per report per period | failed writes | apply answered in ms: median, min–max | shortest gap between a report's writes (periods) | quiet: writes (counters changed), refused | agents' watch events, steady windows: ConfigMap + Node | status writes per XdpCounter per interval | status writes when quiet | report → totals ms: median, p99 (n) | never in totals | one report B | XdpCounter B (status B) | totals exact | ready nodes |",
    "| ---: | ---: | ---: | --- | ---: | ---: | --- | ---: | --- | --- | ---: | ---: | --- | ---: | ---: | --- | --- | --- |",
  );
  for (const x of r.runs) {
    const g = x.agents;
    const o = x.operator;
    const l = o.reportToTotalsMs;
    out.push(
      `| ${n(x.nodes)} | ${x.xdpCounters} | ${x.intervalMs / 1000} s | ${f(x.setup.nodesReadySeconds, 0)}, ${f(x.setup.agentPodsReadySeconds, 0)} | ${f(g.writesPerReportPerPeriod, 3)} | ${n(g.failedWrites)} | ${f(g.answerMs.median, 0)}, ${spread(g.answerMs, 0)} | ${f(g.minGapPeriods, 2)} | ${g.quietWrites} (${g.quietCountersChanged}), ${g.quietFailedWrites} | ${g.steadyWatchEvents.configMap} + ${n(g.steadyWatchEvents.node)} | ${f(o.statusWritesPerXdpCounterPerInterval, 2)} | ${o.quietStatusWrites} | ${l ? `${f(l.median, 0)}, ${o.reportToTotalsP99Ms ?? "—"} (n ${n(l.n)})` : "—"} | ${o.unresolved} | ${n(x.objects.reportBytes)} | ${n(x.objects.xdpCounterBytes)} (${n(x.objects.statusBytes)}) | ${x.objects.totalsExact ? "yes" : "no"} | ${x.objects.readyNodes.join(", ")} |`,
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
