import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { zeroCounters } from "../bpf/index.ts";
import { renderMetrics } from "./metrics.ts";

describe("metrics exposition", () => {
  it("prints u64 counters exactly, with escaped labels, and the agent's health", () => {
    const counters = zeroCounters();
    counters.pass = { packets: 2n ** 64n - 1n, bytes: 9007199254740993n };
    const text = renderMetrics({
      node: 'node-"a"',
      ready: true,
      units: [
        {
          xdpCounter: "edge",
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
        },
      ],
    });
    const labels = 'xdpcounter="edge",node="node-\\"a\\"",interface="eth0"';
    assert.match(text, /^# TYPE xdpcounter_packets_total counter$/m);
    assert.ok(text.includes(`xdpcounter_packets_total{${labels},action="pass"} 18446744073709551615\n`));
    assert.ok(text.includes(`xdpcounter_bytes_total{${labels},action="pass"} 9007199254740993\n`));
    assert.ok(text.includes(`xdpcounter_packets_total{${labels},action="drop"} 0\n`));
    assert.ok(
      !/^xdpcounter_(packets|bytes)_total\{[^}]*interface="eth1"/m.test(text),
      "an interface without counters has no counter series",
    );
    assert.ok(
      text.includes(
        `xdpcounter_interface_info{${labels},state="counting",reason="",mode="native"} 1\n` +
          `xdpcounter_interface_info{xdpcounter="edge",node="node-\\"a\\"",interface="eth1",state="failing",reason="DropRefused",mode=""} 1\n`,
      ),
      "each selected interface's state, reason and mode",
    );
    assert.match(text, /^xdpcounter_interfaces_attached\{[^}]*\} 1$/m);
    assert.match(text, /^xdpcounter_interfaces_failing\{[^}]*\} 1$/m);
    assert.match(text, /^xdpcounter_agent_report_errors_total\{[^}]*\} 2$/m);
    assert.match(text, /^xdpcounter_agent_last_report_timestamp_seconds\{[^}]*\} 1764072000$/m);
    assert.match(text, /^xdpcounter_agent_ready\{[^}]*\} 1$/m);
    assert.ok(text.endsWith("\n"));
  });
});
