import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { zeroCounters } from "./counters.ts";
import { nodeEntryPatch, removeNodeEntryPatch } from "./node-patch.ts";

type Json = null | string | number | boolean | Json[] | { [key: string]: Json };
/** RFC 7386, as the API server applies it. */
function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === "object" && target !== null && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch as Record<string, Json>)) {
    if (value === null) delete out[key];
    else out[key] = applyMergePatch(out[key], value);
  }
  return out;
}

import type { NodeStatus } from "./status.ts";

const entry: NodeStatus = {
  phase: "Counting",
  reportedAt: "2026-11-25T12:00:00Z",
  interfaces: [],
  packets: zeroCounters(),
  bytes: zeroCounters(),
};

const nulls = { aborted: null, drop: null, pass: null, tx: null, redirect: null };

describe("node entry patches", () => {
  it("writes the whole entry under the node's key and clears absent fields with null", () => {
    assert.deepEqual(nodeEntryPatch("node-a", entry), {
      status: { nodes: { "node-a": { ...entry, generation: null, error: null } } },
    });
  });

  it("sends null for each action the node's counters leave out, so no older count stays behind", () => {
    const sparse: NodeStatus = { ...entry, packets: { drop: "7" }, bytes: {} };
    const body = nodeEntryPatch("node-a", sparse).status.nodes["node-a"];
    assert.deepEqual(body?.packets, { ...nulls, drop: "7" });
    assert.deepEqual(body?.bytes, nulls);
    // merged into an entry written with all five actions (or with an older, higher count)
    const before = { ...entry, packets: { ...zeroCounters(), pass: "12" }, bytes: zeroCounters() };
    const merged = applyMergePatch({ "node-a": before }, nodeEntryPatch("node-a", sparse).status.nodes);
    assert.deepEqual(merged, { "node-a": { ...entry, packets: { drop: "7" }, bytes: {} } });
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
