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
    "| reportInterval | agent | NODE_OPTIONS | CPU % of one core (window) | CPU % per block: median, min–max (IQR) | RSS MiB (median) | RSS max | RSS spread min–max | status writes in the window |",
    "| ---: | --- | --- | ---: | --- | ---: | ---: | --- | ---: |",
  );
  for (const row of r.rows) {
    const c = row.cpuPctPerBlock ?? row.cpuPctPerSecond;
    // Results from before the shipped build was measured have neither field: those agents ran from the sources.
    const build = row.build ?? "sources";
    const options = row.nodeOptions ? `\`${row.nodeOptions}\`` : "—";
    out.push(
      `| ${row.reportIntervalMs / 1000} s | ${build} | ${options} | ${f(row.cpuPct, 3)} | ${f(c.median, 3)}, ${spread(c, 3)} (${c.n} × ${row.blockSeconds ?? 1} s) | ${f(row.rssMiB.median, 1)} | ${f(row.rssMiB.max, 1)} | ${f(row.rssMiB.min, 1)}–${f(row.rssMiB.max, 1)} | ${row.writes} |`,
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
  out.push(
    `Synthetic counters growing by ${r.method.ppsPerNode} packets/s per node, then frozen; report interval ±${r.method.jitter * 100} % jitter, ${r.method.heartbeatIntervals ? `heartbeat after ${r.method.heartbeatIntervals} intervals` : "no heartbeat"}; the object polled every ${r.method.pollMs} ms for totals. Machine: ${r.machine.nproc} CPUs, ${r.machine.cpuModel}, kernel ${r.machine.kernel}; ${r.machine.date}; load average at the end ${r.machine.loadAvg?.join(", ") ?? "not recorded"}.`,
    "",
    "| nodes | interval | intervals (changing + quiet) | agent writes/s | per node per interval | request B/s | body B (median) | failed writes | write answered in ms: median, min–max (IQR) | shortest gap between a node's writes (intervals) | writes when quiet (per node per interval; changed) |",
    "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |",
  );
  for (const x of r.runs) {
    const g = x.agents;
    out.push(
      `| ${x.nodes.toLocaleString("en")} | ${x.intervalMs / 1000} s | ${x.changingIntervals} + ${x.quietIntervals} | ${f(g.writesPerSecond, 1)} | ${f(g.writesPerNodePerInterval, 3)} | ${g.requestBytesPerSecond.toLocaleString("en")} | ${g.requestBytes.median} | ${g.failedWrites} | ${f(g.answerMs.median, 0)}, ${spread(g.answerMs, 0)} | ${f(g.minGapIntervals, 2)} | ${g.quietWrites} (${f(g.quietWritesPerNodePerInterval, 3)}; ${g.quietChangedWrites} changed) |`,
    );
  }
  out.push(
    "",
    "| nodes | interval | object JSON bytes | node entries (of them written by the bench after the run) | bytes per entry | of etcd's 1.5 MiB | totals exact | ready nodes | operator writes/s (changing) | operator writes when quiet | report → totals ms: median, p95, max | reports never seen in totals | operator RSS MiB: median, min–max |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- | ---: | --- |",
  );
  for (const x of r.runs) {
    const l = x.operator.reportToTotalsMs;
    out.push(
      `| ${x.nodes.toLocaleString("en")} | ${x.intervalMs / 1000} s | ${x.object.bytes.toLocaleString("en")} | ${x.object.nodeEntries} (${x.object.filledByBench ?? 0}) | ${x.object.bytesPerNode} | ${f(x.object.fractionOfEtcdLimit * 100, 1)} % | ${x.object.totalsExact ? "yes" : "no"} | ${x.object.readyNodes ?? "—"} | ${f(x.operator.writesPerSecond, 2)} | ${x.operator.quietWrites} | ${l ? `${f(l.median, 0)}, ${x.operator.reportToTotalsP95Ms ?? "—"}, ${f(l.max, 0)} (n ${l.n})` : "—"} | ${x.operator.unresolved} | ${f(x.operator.rssMiB.median, 1)}, ${f(x.operator.rssMiB.min, 1)}–${f(x.operator.rssMiB.max, 1)} |`,
    );
  }
  const measured = r.runs.filter((x) => x.controlPlane);
  if (measured.length) {
    const mib = (b: number): string => f(b / 2 ** 20, 1);
    out.push(
      "",
      `What the control plane counted from the reporters' start to their stop (${measured[0]?.controlPlane?.version} kube-apiserver's \`apiserver_request_total\`, etcd's \`etcd_mvcc_*\`; the bench's fill-in after the run left out):`,
      "",
      "| nodes | interval | status patches answered (agents and operator), by code | other requests | etcd puts | etcd DB MiB: before → after (in use after) |",
      "| ---: | ---: | --- | ---: | ---: | --- |",
    );
    for (const x of measured) {
      const cp = x.controlPlane;
      if (!cp) continue;
      const entries = Object.entries(cp.requests);
      const patches = entries
        .filter(([k]) => k.startsWith("PATCH xdpcounters/status "))
        .map(([k, n]) => `${k.split(" ")[2]}: ${n.toLocaleString("en")}`)
        .join(", ");
      const other = entries
        .filter(([k]) => !k.startsWith("PATCH xdpcounters/status "))
        .reduce((a, [, n]) => a + n, 0);
      const e = cp.etcdAfter;
      out.push(
        `| ${x.nodes.toLocaleString("en")} | ${x.intervalMs / 1000} s | ${patches || "—"} | ${other.toLocaleString("en")} | ${cp.etcd.etcd_mvcc_put_total.toLocaleString("en")} | ${mib(cp.etcdBefore.etcd_mvcc_db_total_size_in_bytes)} → ${mib(e.etcd_mvcc_db_total_size_in_bytes)} (${mib(e.etcd_mvcc_db_total_size_in_use_in_bytes)}) |`,
      );
    }
  }
  for (const x of r.runs) {
    if (x.object.refused) {
      out.push(
        "",
        `At ${x.nodes.toLocaleString("en")} nodes the API server refused the object once it held ${x.object.refused.afterNodes.toLocaleString("en")} entries: HTTP ${x.object.refused.status}: ${x.object.refused.message}`,
      );
    }
    const reasons = Object.entries(x.agents.failureReasons ?? {});
    if (reasons.length) {
      out.push(
        "",
        `Failed agent writes at ${x.nodes.toLocaleString("en")} nodes: ${reasons.map(([m, n]) => `${n} × "${m}"`).join("; ")}.`,
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
