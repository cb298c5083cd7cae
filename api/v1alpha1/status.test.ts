import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  addCounters,
  counterOf,
  formatCounters,
  formatNonZeroCounters,
  parseCounters,
  zeroCounters,
  zeroTotals,
} from "./counters.ts";
import { reportName, xdpCounterReport } from "./report.ts";
import { xdpCounterStatus } from "./status.ts";

const counters = { aborted: "0", drop: "1", pass: "18446744073709551615", tx: "0", redirect: "0" };

describe("XdpCounter status", () => {
  const rates = {
    packetsPerSecond: { aborted: 0, drop: 0, pass: 1.5, tx: 0, redirect: 0 },
    bitsPerSecond: { aborted: 0, drop: 0, pass: 768, tx: 0, redirect: 0 },
    totalPacketsPerSecond: 1.5,
    totalBitsPerSecond: 768,
  };

  it("holds totals, rates and node counts, and no per-node entries", () => {
    const status = {
      observedGeneration: 2,
      totals: { packets: counters, bytes: counters },
      rates,
      desiredNodes: 3,
      reportingNodes: 3,
      readyNodes: 2,
      conditions: [
        {
          type: "Ready",
          status: "True",
          reason: "AllNodesCounting",
          message: "",
          lastTransitionTime: "2026-11-25T11:00:00+01:00",
        },
      ],
    };
    assert.deepEqual(xdpCounterStatus.parse(status), status);
    const withNodes = xdpCounterStatus.parse({ ...status, nodes: { a: {} } }) as Record<string, unknown>;
    assert.equal(withNodes.nodes, undefined, "per-node entries are gone (reports hold them)");
  });

  it("requires all five actions in the totals and in the rates", () => {
    const complete = { packets: zeroCounters(), bytes: zeroCounters() };
    assert.equal(xdpCounterStatus.safeParse({ totals: complete }).success, true);
    const sparse = { packets: { pass: "1" }, bytes: zeroCounters() };
    const result = xdpCounterStatus.safeParse({ totals: sparse });
    assert.equal(result.success, false);
    assert.deepEqual(result.error?.issues[0]?.path, ["totals", "packets", "aborted"]);
    const sparseRates = { ...rates, packetsPerSecond: { pass: 1 } };
    assert.equal(xdpCounterStatus.safeParse({ rates: sparseRates }).success, false);
    assert.equal(
      xdpCounterStatus.safeParse({ rates: { ...rates, totalPacketsPerSecond: -1 } }).success,
      false,
    );
  });

  it("refuses totals written as JSON numbers or beyond 2^64-1, and condition statuses it does not know", () => {
    const asNumber = { packets: { ...counters, drop: 1 }, bytes: counters };
    assert.equal(xdpCounterStatus.safeParse({ totals: asNumber }).success, false);
    const over = { packets: { ...counters, drop: "18446744073709551616" }, bytes: counters };
    assert.equal(xdpCounterStatus.safeParse({ totals: over }).success, false);
    const badReason = {
      type: "Ready",
      status: "True",
      reason: "not camel",
      message: "",
      lastTransitionTime: "2026-11-25T11:00:00Z",
    };
    assert.equal(xdpCounterStatus.safeParse({ conditions: [badReason] }).success, false);
    const badTime = {
      type: "Ready",
      status: "True",
      reason: "Ok",
      message: "",
      lastTransitionTime: "yesterday",
    };
    assert.equal(xdpCounterStatus.safeParse({ conditions: [badTime] }).success, false);
  });
});

describe("XdpCounterReport", () => {
  const report = {
    apiVersion: "xdpcounter.dev/v1alpha1",
    kind: "XdpCounterReport",
    metadata: { name: "edge.node-a", labels: { "xdpcounter.dev/xdpcounter": "edge" } },
    nodeName: "node-a",
    xdpCounter: { name: "edge", uid: "u-1" },
    generation: 3,
    phase: "Counting",
    reportedAt: "2026-12-03T11:00:00Z",
    interfaces: [
      { name: "eth0", mode: "native", attached: true, packets: { pass: "18446744073709551615" }, bytes: {} },
      {
        name: "eth1",
        mode: "",
        attached: false,
        packets: {},
        bytes: {},
        reason: "HeldByXdpCounter",
        heldBy: "first",
        error: "eth1 is counted by XdpCounter first on this node",
      },
    ],
    packets: { pass: "18446744073709551615" },
    bytes: {},
    rates: { packetsPerSecond: { pass: 2.5 }, bitsPerSecond: { pass: 1280 }, seconds: 10 },
  };

  it("accepts one node's counts for one XdpCounter, zero actions left out", () => {
    assert.deepEqual(xdpCounterReport.parse(report), report);
  });

  it("refuses a phase it does not know, counters as numbers, and a negative rate", () => {
    assert.equal(xdpCounterReport.safeParse({ ...report, phase: "Clean" }).success, false);
    assert.equal(xdpCounterReport.safeParse({ ...report, packets: { pass: 1 } }).success, false);
    const negative = { ...report, rates: { ...report.rates, packetsPerSecond: { pass: -1 } } };
    assert.equal(xdpCounterReport.safeParse(negative).success, false);
  });

  it("is named <xdpcounter>.<node>, bounded with a hash past 253 characters", () => {
    assert.equal(reportName("edge", "node-a"), "edge.node-a");
    const long = reportName("x".repeat(63), `${"n".repeat(200)}.example.com`);
    assert.equal(long.length, 253);
    assert.match(long, /^x{63}\.n+-[0-9a-f]{10}$/);
    assert.notEqual(long, reportName("x".repeat(63), `${"n".repeat(200)}.example.org`));
  });
});

describe("counters", () => {
  it("sums counters exactly above 2^53", () => {
    const sum = zeroTotals();
    addCounters(sum, { ...zeroCounters(), pass: "9007199254740993" });
    addCounters(sum, { ...zeroCounters(), pass: "9007199254740993" });
    assert.equal(formatCounters(sum).pass, "18014398509481986");
    assert.deepEqual(parseCounters(formatCounters(sum)), sum);
  });

  it("reads an absent action as 0 and writes only the actions that counted", () => {
    assert.deepEqual(parseCounters({}), zeroTotals());
    assert.deepEqual(parseCounters({ drop: "9007199254740993" }), {
      ...zeroTotals(),
      drop: 9007199254740993n,
    });
    assert.equal(counterOf({ pass: "5" }, "drop"), 0n);
    assert.equal(counterOf({ pass: "5", drop: "0" }, "drop"), 0n);
    assert.equal(counterOf({ pass: "18446744073709551615" }, "pass"), 18446744073709551615n);
    assert.deepEqual(formatNonZeroCounters(zeroTotals()), {});
    assert.deepEqual(formatNonZeroCounters({ ...zeroTotals(), tx: 9007199254740993n, pass: 1n }), {
      pass: "1",
      tx: "9007199254740993",
    });
    assert.deepEqual(formatCounters({ ...zeroTotals(), pass: 1n }), { ...zeroCounters(), pass: "1" });
    const sum = zeroTotals();
    addCounters(sum, { pass: "9007199254740993" });
    addCounters(sum, { ...zeroCounters(), pass: "9007199254740993", drop: "2" });
    assert.deepEqual(sum, { ...zeroTotals(), pass: 18014398509481986n, drop: 2n });
  });
});
