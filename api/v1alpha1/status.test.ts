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
import { xdpCounterStatus } from "./status.ts";

const counters = { aborted: "0", drop: "1", pass: "18446744073709551615", tx: "0", redirect: "0" };

describe("XdpCounter status", () => {
  it("accepts a node entry keyed by node name with u64 counters", () => {
    const status = {
      nodes: {
        "node-a": {
          phase: "Counting",
          reportedAt: "2026-11-25T11:00:00Z",
          interfaces: [{ name: "eth0", mode: "native", attached: true, packets: counters, bytes: counters }],
          packets: counters,
          bytes: counters,
        },
      },
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
  });

  it("accepts node and interface counters that leave out zero actions, and the old entries with all five", () => {
    const sparse = { pass: "18446744073709551615" };
    const entry = (packets: object, bytes: object) => ({
      phase: "Counting",
      reportedAt: "2026-11-25T11:00:00Z",
      interfaces: [
        { name: "eth0", mode: "native", attached: true, packets, bytes },
        { name: "eth1", mode: "", attached: false, packets: {}, bytes: {} },
      ],
      packets,
      bytes,
    });
    const status = {
      nodes: { new: entry(sparse, sparse), old: entry(counters, counters), idle: entry({}, {}) },
    };
    assert.deepEqual(xdpCounterStatus.parse(status), status);
  });

  it("requires all five actions in the totals", () => {
    const complete = { packets: zeroCounters(), bytes: zeroCounters() };
    assert.equal(xdpCounterStatus.safeParse({ totals: complete }).success, true);
    const sparse = { packets: { pass: "1" }, bytes: zeroCounters() };
    const result = xdpCounterStatus.safeParse({ totals: sparse });
    assert.equal(result.success, false);
    assert.deepEqual(result.error?.issues[0]?.path, ["totals", "packets", "aborted"]);
  });

  it("refuses counters written as JSON numbers or beyond 2^64-1", () => {
    const asNumber = { ...counters, drop: 1 };
    const entry = {
      phase: "Counting",
      reportedAt: "2026-11-25T11:00:00Z",
      packets: asNumber,
      bytes: counters,
    };
    const result = xdpCounterStatus.safeParse({ nodes: { a: entry } });
    assert.equal(result.success, false);
    assert.deepEqual(result.error?.issues[0]?.path, ["nodes", "a", "packets", "drop"]);
    const over = { ...entry, packets: { ...counters, drop: "18446744073709551616" } };
    assert.equal(xdpCounterStatus.safeParse({ nodes: { a: over } }).success, false);
  });

  it("refuses a phase, a mode or a condition status it does not know", () => {
    const entry = {
      phase: "Sleeping",
      reportedAt: "2026-11-25T11:00:00Z",
      packets: counters,
      bytes: counters,
    };
    assert.equal(xdpCounterStatus.safeParse({ nodes: { a: entry } }).success, false);
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
