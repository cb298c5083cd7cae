import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { XdpCounterStatus } from "../../api/v1alpha1/index.ts";
import { zeroCounters } from "../../api/v1alpha1/index.ts";
import { nodeEntry } from "../../testing/operator.ts";
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
const operatorFields: OperatorStatus = {
  observedGeneration: 1,
  totals,
  desiredNodes: 1,
  readyNodes: 1,
  interfaces: "eth0/native=1",
  conditions: [ready],
};
const current: XdpCounterStatus = {
  ...operatorFields,
  nodes: { "node-a": nodeEntry({ packets: { ...zeroCounters(), pass: "10" } }) },
};

describe("statusPatch", () => {
  it("is null when nothing the operator owns changed", () => {
    assert.equal(statusPatch(current, operatorFields), null);
    assert.equal(statusPatch(current, { ...operatorFields, staleNodes: ["not-there"] }), null);
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

  it("never touches the agents' node entries except to remove stale ones", () => {
    const patch = statusPatch(current, { ...operatorFields, readyNodes: 0, staleNodes: ["node-a"] });
    assert.deepEqual(patch, { status: { readyNodes: 0, nodes: { "node-a": null } } });
    const applied = applyMergePatch({ status: current } as unknown as Json, patch as unknown as Json) as {
      status: XdpCounterStatus;
    };
    assert.deepEqual(applied.status.nodes, {});
    assert.equal(applied.status.totals?.packets.pass, "10");
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
  it("carries the aggregate, conditions and generation into a patch that removes stale nodes", () => {
    const next = toOperatorStatus(
      { totals, desiredNodes: 1, readyNodes: 1, interfaces: "eth0/native=1", staleNodes: ["node-a"] },
      [ready],
      1,
    );
    assert.deepEqual(statusPatch(current, next), { status: { nodes: { "node-a": null } } });
    const { interfaces: _, ...withoutSummary } = next;
    const noSummary = toOperatorStatus(
      { totals, desiredNodes: 1, readyNodes: 1, staleNodes: [] },
      [ready],
      1,
    );
    assert.deepEqual(noSummary, { ...withoutSummary, staleNodes: [] });
  });
});
