import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { zeroCounters } from "../bpf/index.ts";
import { renderMetrics } from "./metrics.ts";

describe("metrics exposition", () => {
  it("prints u64 counters exactly, with escaped labels, and the agent's health", () => {
    const counters = zeroCounters();
    counters.pass = { packets: 2n ** 64n - 1n, bytes: 9007199254740993n };
    const text = renderMetrics({
      xdpCounter: "edge",
      node: 'node-"a"',
      states: [
        { name: "eth0", attached: true, mode: "native", counters, problem: undefined },
        {
          name: "eth1",
          attached: false,
          mode: "",
          counters: undefined,
          problem: { reason: "DropRefused", error: "no" },
        },
      ],
      health: {
        reportsTotal: 3,
        reportErrorsTotal: 2,
        lastReportSeconds: 1764072000,
        reconcileErrorsTotal: 0,
        ready: true,
      },
    });
    const labels = 'xdpcounter="edge",node="node-\\"a\\"",interface="eth0"';
    assert.match(text, /^# TYPE xdp_counter_packets_total counter$/m);
    assert.ok(text.includes(`xdp_counter_packets_total{${labels},action="pass"} 18446744073709551615\n`));
    assert.ok(text.includes(`xdp_counter_bytes_total{${labels},action="pass"} 9007199254740993\n`));
    assert.ok(text.includes(`xdp_counter_packets_total{${labels},action="drop"} 0\n`));
    assert.ok(!text.includes('interface="eth1"'), "an interface without counters has no series");
    assert.match(text, /^xdp_counter_interfaces_attached\{[^}]*\} 1$/m);
    assert.match(text, /^xdp_counter_interfaces_failing\{[^}]*\} 1$/m);
    assert.match(text, /^xdp_counter_agent_report_errors_total\{[^}]*\} 2$/m);
    assert.match(text, /^xdp_counter_agent_last_report_timestamp_seconds\{[^}]*\} 1764072000$/m);
    assert.match(text, /^xdp_counter_agent_ready\{[^}]*\} 1$/m);
    assert.ok(text.endsWith("\n"));
  });
});
