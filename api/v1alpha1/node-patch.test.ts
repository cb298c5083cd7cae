import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { zeroCounters } from "./counters.ts";
import { nodeEntryPatch, removeNodeEntryPatch } from "./node-patch.ts";
import type { NodeStatus } from "./status.ts";

const entry: NodeStatus = {
  phase: "Counting",
  reportedAt: "2026-11-25T12:00:00Z",
  interfaces: [],
  packets: zeroCounters(),
  bytes: zeroCounters(),
};

describe("node entry patches", () => {
  it("writes the whole entry under the node's key and clears absent fields with null", () => {
    assert.deepEqual(nodeEntryPatch("node-a", entry), {
      status: { nodes: { "node-a": { ...entry, generation: null, error: null } } },
    });
  });

  it("keeps fields that are set", () => {
    const patch = nodeEntryPatch("node-a", {
      ...entry,
      phase: "Error",
      error: "bpffs is not mounted",
      generation: 4,
    });
    const body = patch.status.nodes["node-a"];
    assert.equal(body?.error, "bpffs is not mounted");
    assert.equal(body?.generation, 4);
  });

  it("refuses an entry the API server would refuse", () => {
    assert.throws(() => nodeEntryPatch("node-a", { ...entry, packets: { ...zeroCounters(), pass: "-1" } }));
  });

  it("removes an entry with null", () => {
    assert.deepEqual(removeNodeEntryPatch("node-a"), { status: { nodes: { "node-a": null } } });
  });
});
