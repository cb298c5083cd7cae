import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { addCounters, formatCounters, parseCounters, zeroCounters, zeroTotals } from "./counters.ts";
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
});
