// The agents' and the operator's /metrics text, as their endpoints serve it, parsed and linted by the real
// `promtool check metrics` (Prometheus' own parser and its naming rules: `_total` on counters and only there,
// base units, help text on every family). Any problem promtool prints fails the test, naming the metric.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { zeroCounters } from "../../agent/bpf/index.ts";
import { renderMetrics } from "../../agent/cluster/metrics.ts";
import { createMetrics } from "../../operator/controller/metrics.ts";
import { prometheusBinary } from "./binaries.ts";

function checkMetrics(text: string): { code: number | null; problems: string } {
  const r = spawnSync(prometheusBinary("promtool"), ["check", "metrics"], { input: text, encoding: "utf8" });
  return { code: r.status, problems: `${r.stdout}${r.stderr}`.trim() };
}

test("promtool check metrics finds nothing to say about an agent's metrics", () => {
  const counters = zeroCounters();
  counters.pass = { packets: 2n ** 64n - 1n, bytes: 123_456_789n };
  counters.aborted = { packets: 3n, bytes: 180n };
  const health = {
    reportsTotal: 12,
    reportErrorsTotal: 1,
    lastReportSeconds: 1_796_300_000,
    reconcileErrorsTotal: 0,
    ready: true,
  };
  const text = renderMetrics({
    node: "node-1",
    ready: true,
    units: [
      {
        xdpCounter: "edge",
        states: [
          { name: "eth0", attached: true, mode: "native", counters, problem: undefined },
          { name: "eth1", attached: true, mode: "generic", counters: zeroCounters(), problem: undefined },
          {
            name: "eth2",
            attached: false,
            mode: "",
            counters: undefined,
            problem: { reason: "ForeignXdpProgram", error: "another XDP program is attached" },
          },
        ],
        health,
      },
      { xdpCounter: "core", states: [], health: { ...health, ready: false } },
    ],
  });
  // the test's input is not empty nor trivially clean: promtool must have parsed these families
  for (const family of ["xdpcounter_packets_total", "xdpcounter_interface_info", "xdpcounter_agent_ready"])
    assert.match(text, new RegExp(`^# TYPE ${family} `, "m"));
  const { code, problems } = checkMetrics(text);
  assert.equal(problems, "", `promtool check metrics:\n${problems}`);
  assert.equal(code, 0);
});

test("promtool check metrics finds nothing to say about the operator's metrics", async () => {
  const metrics = createMetrics({ defaultMetrics: true });
  metrics.reconciles.inc({ outcome: "Synced" });
  metrics.reconcileErrors.inc();
  metrics.queueDepth.set(2);
  metrics.informerEvents.inc({ informer: "nodes", event: "relist" });
  metrics.reconcileDuration.observe(0.012);
  const text = await metrics.registry.metrics();
  assert.match(text, /^# TYPE xdpcounter_operator_reconcile_duration_seconds histogram$/m);
  const { code, problems } = checkMetrics(text);
  assert.equal(problems, "", `promtool check metrics:\n${problems}`);
  assert.equal(code, 0);
});

test("promtool check metrics does fail a badly named counter (the check can fail)", () => {
  const { code, problems } = checkMetrics(
    "# HELP xdpcounter_packets packets\n# TYPE xdpcounter_packets counter\nxdpcounter_packets 1\n",
  );
  assert.notEqual(code, 0);
  assert.match(problems, /xdpcounter_packets counter metrics should have "_total" suffix/);
});
