// Smoke test of the benchmarks: every part at tiny sizes (`--quick`), into a temporary folder. Checks the
// result files' shape and the exactness assertions, never speed: CI machines differ, and timing is what
// `npm run bench` is for. Needs root (XDP programs, network namespaces, which the parts remove themselves).
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { AGENT_NODE_OPTIONS } from "../operator/index.ts";
import { BASELINES, type FootprintResult } from "./footprint.ts";
import { CONFIGS, type LiveResult } from "./live.ts";
import { memoryCgroupsOf } from "./memory-cgroup.ts";
import { MODES, type PerPacketResult, PROGRAMS } from "./per-packet.ts";
import { main, SIZES } from "./run.ts";
import { CPU_USERS, type ScaleResult } from "./scale.ts";
import { summarize } from "./stats.ts";
import type { VariantsResult } from "./variants.ts";

const isSummary = (s: unknown, n: number): void => {
  const x = s as Record<string, number>;
  for (const k of ["median", "min", "max", "q1", "q3"]) assert.ok(Number.isFinite(x[k]), `${k} is a number`);
  assert.equal(x.n, n);
  assert.ok((x.min ?? 0) <= (x.median ?? 0) && (x.median ?? 0) <= (x.max ?? 0));
};

/** Processes running the kwok binary, by pid. */
function kwokProcesses(): number[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readlinkSync(`/proc/${p}/exe`).endsWith("/kwok");
      } catch {
        return false;
      }
    })
    .map(Number);
}

const isMachine = (m: Record<string, unknown>): void => {
  assert.ok(Number.isInteger(m.nproc) && (m.nproc as number) >= 1);
  for (const k of ["cpuModel", "kernel", "node", "date"]) assert.equal(typeof m[k], "string", k);
  assert.equal((m.loadAvg as number[]).length, 3);
};

test("summaries: median, quartiles and range of an unordered list", () => {
  assert.deepEqual(summarize([5, 1, 3]), { n: 3, median: 3, min: 1, max: 5, q1: 2, q3: 4 });
  assert.equal(summarize([4, 1, 3, 2]).median, 2.5);
});

test("npm run bench -- --quick: every part runs, writes its file, and counts exactly", async (t) => {
  const out = mkdtempSync(join(tmpdir(), "xdp-counter-bench-"));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  await main(["--quick", "--out", out, "--part", "per-packet,live,variants"]);

  const pp = JSON.parse(readFileSync(join(out, "per-packet.json"), "utf8")) as PerPacketResult;
  assert.equal(pp.part, "per-packet");
  assert.equal(pp.quick, true);
  isMachine(pp.machine as unknown as Record<string, unknown>);
  assert.equal(pp.method.rounds, SIZES.quick.perPacket.rounds);
  assert.deepEqual(pp.method.sizes, [64, 1500]);
  assert.equal(pp.rows.length, PROGRAMS.length * MODES.length * 2);
  for (const row of pp.rows) {
    isSummary(row.kernelNs, pp.method.rounds);
    isSummary(row.cpuNs, pp.method.rounds);
    assert.equal(row.perRound.length, pp.method.rounds);
    const workers = row.mode === "one-cpu" ? 1 : pp.method.allCpus.length;
    for (const r of row.perRound) assert.equal(r.length, workers);
  }
  // Every run returned XDP_PASS, and the seed and the counter counted every repetition on every CPU.
  assert.deepEqual(pp.exactness.failures, []);
  assert.equal(pp.exactness.checks, pp.method.rounds * PROGRAMS.length * MODES.length * 2);
  assert.equal(pp.targets.counterWithin2nsOfEmpty.length, MODES.length * 2);
  assert.equal(pp.targets.noSlowdownOnAllCpus.length, PROGRAMS.length * 2);

  const live = JSON.parse(readFileSync(join(out, "live.json"), "utf8")) as LiveResult;
  assert.equal(live.part, "live");
  isMachine(live.machine as unknown as Record<string, unknown>);
  const layouts = live.method.layouts;
  assert.deepEqual(layouts, ["same-cpu", "split"]);
  assert.equal(live.rows.length, CONFIGS.length * layouts.length);
  assert.equal(live.runs.length, live.method.rounds * CONFIGS.length * layouts.length);
  for (const row of live.rows) isSummary(row.rxMpps, live.method.rounds);
  for (const run of live.runs) {
    assert.equal(run.sent, live.method.count);
    // Whatever reached the node was counted, and whatever did not was dropped at the veth, nothing else.
    assert.ok(run.consistent, `consistent: ${JSON.stringify(run)}`);
    if (run.config === "seed" || run.config === "counter") assert.equal(run.counted, run.rxPackets);
    // Generator and receiver on one CPU: nothing can overflow, every frame sent is received and counted.
    if (run.layout === "same-cpu") assert.ok(run.exact, `exact: ${JSON.stringify(run)}`);
  }
  assert.equal(live.targets.counterAtLeast97PctOfEmpty.length, layouts.length);

  const v = JSON.parse(readFileSync(join(out, "variants.json"), "utf8")) as VariantsResult;
  assert.equal(v.part, "variants");
  isMachine(v.machine as unknown as Record<string, unknown>);
  assert.deepEqual(
    v.rows.map((r) => r.variant),
    [
      "counter",
      "counter-linear",
      "counter-compat",
      "counter-len-first",
      "counter-runtime-key",
      "counter-fixed",
      "seed",
    ],
  );
  for (const row of v.rows) {
    assert.equal(row.perLoadOverEmptyNs.length, v.method.loads);
    isSummary(row.acrossLoads, v.method.loads);
    isSummary(row.allRounds, v.method.loads * v.method.rounds);
  }
});

test("npm run bench -- --quick --part footprint,scale: both run, clean up and write files of the right shape", async (t) => {
  const out = mkdtempSync(join(tmpdir(), "xdp-counter-bench-"));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  await main(["--quick", "--out", out, "--part", "footprint,scale"]);

  const fp = JSON.parse(readFileSync(join(out, "footprint.json"), "utf8")) as FootprintResult;
  assert.equal(fp.part, "footprint");
  assert.equal(fp.quick, true);
  isMachine(fp.machine as unknown as Record<string, unknown>);
  assert.equal(fp.method.interfaces, SIZES.quick.footprint.interfaces);
  assert.deepEqual(
    fp.rows.map((r) => [r.reportIntervalMs, r.build]),
    SIZES.quick.footprint.intervalsMs.flatMap((ms) => [
      [ms, "shipped"],
      [ms, "sources"],
    ]),
    "the shipped agent and the one from the sources, side by side, per interval",
  );
  for (const row of fp.rows) {
    assert.equal(row.nodeOptions, row.build === "shipped" ? AGENT_NODE_OPTIONS : "");
  }
  for (const row of fp.rows) {
    assert.ok(row.cpuPct >= 0 && Number.isFinite(row.cpuPct));
    assert.ok(row.rssMiB.n >= 2);
    isSummary(row.rssMiB, row.rssMiB.n);
    assert.ok(row.rssMiB.min > 10, "a Node.js process holds more than 10 MiB");
  }
  assert.equal(fp.read.interfaces, SIZES.quick.footprint.interfaces);
  assert.equal(fp.read.syscallsPerRead, fp.read.interfaces);
  isSummary(fp.read.allInterfacesUs, SIZES.quick.footprint.reads);
  assert.equal(fp.baselines.length, BASELINES.length);
  assert.equal(typeof fp.targets.rssUnder80MiB.met, "boolean");

  const sc = JSON.parse(readFileSync(join(out, "scale.json"), "utf8")) as ScaleResult;
  assert.equal(sc.part, "scale");
  isMachine(sc.machine as unknown as Record<string, unknown>);
  assert.equal(sc.runs.length, SIZES.quick.scale.plan.length);
  for (const run of sc.runs) {
    assert.equal(run.objects.reports, run.nodes * run.xdpCounters, "one report per node and XdpCounter");
    assert.ok(run.objects.totalsExact, "the operator's totals are the sums of the frozen counters");
    assert.deepEqual(run.objects.readyNodes, Array(run.xdpCounters).fill(run.nodes));
    assert.ok(
      run.setup.nodesReadySeconds > 0 && run.setup.agentPodsReadySeconds > 0,
      "kwok's nodes and pods",
    );
    assert.ok(run.agents.writesPerSecond > 0);
    assert.equal(run.agents.quietCountersChanged, 0, "no counters changed while quiet");
    assert.equal(run.agents.steadyWatchEvents.configMap, 0, "no spec changed: no ConfigMap event");
    assert.ok(
      run.operator.statusWritesPerXdpCounterPerInterval <= 1.001,
      "at most one status write per interval",
    );
    assert.equal(run.operator.quietStatusWrites, 0, "no status write while nothing changes");
    assert.ok(run.objects.reportBytes > 500 && run.objects.xdpCounterBytes > 500);
    // what kube-apiserver and etcd counted in the changing window: the agents' applies, kwok's Leases
    const w = run.api.writesPerSecond;
    assert.ok(w.reports > 0 && w.leases > 0, JSON.stringify(w));
    assert.ok(run.api.productShareOfLeases > 0);
    assert.ok((run.api.reportRequestBytes ?? 0) > 500, "the API server saw the report bodies");
    assert.ok(run.etcd.putsPerSecond > 0 && run.etcd.putBytesPerCompactionWindow > 0);
    assert.ok(run.etcd.dbBytesAfter > 0);
    for (const who of CPU_USERS) {
      assert.ok(Number.isFinite(run.cpuPct[who]), `CPU of ${who}`);
      assert.ok((run.rssMiB[who]?.median ?? 0) > 1, `RSS of ${who}`);
    }
    // the operator ran under its container's limit in the chart, and its heap was read from its own metrics
    assert.equal(run.operatorMemory?.limitMiB, 256);
    assert.equal(run.operatorMemory?.oomKills, 0);
    const heap = run.operatorHeapUsedMiB?.median ?? 0;
    assert.ok(
      heap > 1 && heap < (run.rssMiB.operator?.max ?? 0),
      `operator heap ${heap} MiB, within its RSS`,
    );
  }
  assert.deepEqual(memoryCgroupsOf(), [], "the operator's memory cgroup removed with its run");
  assert.deepEqual(kwokProcesses(), [], "kwok stopped with its run");
});
