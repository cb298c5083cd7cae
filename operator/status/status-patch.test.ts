import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { XdpCounterStatus } from "../../api/v1alpha1/index.ts";
import { zeroCounters } from "../../api/v1alpha1/index.ts";
import { applyMergePatch, type Json } from "./merge-patch.ts";
import { type OperatorStatus, statusPatch, toOperatorStatus } from "./status-patch.ts";

const ready = {
  type: "Ready",
  status: "True" as const,
  reason: "AllNodesCounting",
  message: "All 1 selected nodes are counting.",
  observedGeneration: 1,
  lastTransitionTime: "2026-11-25T12:00:00Z",
};
const totals = { packets: { ...zeroCounters(), pass: "10" }, bytes: { ...zeroCounters(), pass: "640" } };
const rates = {
  packetsPerSecond: { aborted: 0, drop: 0, pass: 12.5, tx: 0, redirect: 0 },
  bitsPerSecond: { aborted: 0, drop: 0, pass: 6_400, tx: 0, redirect: 0 },
  totalPacketsPerSecond: 12.5,
  totalBitsPerSecond: 6_400,
};
const operatorFields: OperatorStatus = {
  observedGeneration: 1,
  totals,
  rates,
  desiredNodes: 1,
  reportingNodes: 1,
  readyNodes: 1,
  interfaces: "eth0/native=1",
  conditions: [ready],
};
const current: XdpCounterStatus = { ...operatorFields };

describe("statusPatch", () => {
  it("is null when nothing the operator owns changed", () => {
    assert.equal(statusPatch(current, operatorFields), null);
  });

  it("patches only what changed, deep inside totals", () => {
    const next = {
      ...operatorFields,
      totals: { ...totals, packets: { ...zeroCounters(), pass: "9007199254740993" } },
    };
    assert.deepEqual(statusPatch(current, next), {
      status: { totals: { packets: { pass: "9007199254740993" } } },
    });
  });

  it("replaces conditions whole (a merge patch cannot merge lists)", () => {
    const flipped = { ...ready, status: "False" as const, reason: "NodesNotReady" };
    const patch = statusPatch(current, { ...operatorFields, conditions: [flipped] });
    assert.deepEqual(patch, { status: { conditions: [flipped] } });
  });

  it("patches a rate alone when only it changed", () => {
    const next = { ...operatorFields, rates: { ...rates, totalPacketsPerSecond: 13 } };
    const patch = statusPatch(current, next);
    assert.deepEqual(patch, { status: { rates: { totalPacketsPerSecond: 13 } } });
    const applied = applyMergePatch({ status: current } as unknown as Json, patch as unknown as Json) as {
      status: XdpCounterStatus;
    };
    assert.equal(applied.status.rates?.totalPacketsPerSecond, 13);
    assert.equal(applied.status.rates?.packetsPerSecond.pass, 12.5);
  });

  it("removes the interfaces summary when there is none", () => {
    const { interfaces: _, ...rest } = operatorFields;
    assert.deepEqual(statusPatch(current, rest), { status: { interfaces: null } });
  });

  it("writes every field on the first status", () => {
    const patch = statusPatch(undefined, operatorFields);
    assert.deepEqual(patch?.status, operatorFields);
  });
});

describe("toOperatorStatus", () => {
  it("carries the aggregate, conditions and generation; no summary, no field", () => {
    const aggregate = { totals, rates, desiredNodes: 1, reportingNodes: 1, readyNodes: 1 };
    const next = toOperatorStatus({ ...aggregate, interfaces: "eth0/native=1" }, [ready], 1);
    assert.deepEqual(next, operatorFields);
    assert.equal(statusPatch(current, next), null);
    const { interfaces: _, ...withoutSummary } = next;
    assert.deepEqual(toOperatorStatus(aggregate, [ready], 1), withoutSummary);
  });
});
