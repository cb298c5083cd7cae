import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { makeXdpCounter, nodeEntry } from "../../testing/operator.ts";
import { canRemoveFinalizer, FINALIZER, hasFinalizer, withFinalizer, withoutFinalizer } from "./finalizer.ts";

const deleting = { deletionTimestamp: "2026-11-25T12:00:00Z" };

describe("finalizer", () => {
  it("is named xdpcounter.dev/cleanup", () => {
    assert.equal(FINALIZER, "xdpcounter.dev/cleanup");
  });

  it("adds once and removes only ours", () => {
    assert.deepEqual(withFinalizer(undefined), [FINALIZER]);
    assert.deepEqual(withFinalizer(["other", FINALIZER]), ["other", FINALIZER]);
    assert.deepEqual(withoutFinalizer(["a", FINALIZER, "b"]), ["a", "b"]);
    assert.equal(hasFinalizer(makeXdpCounter("x", {}, undefined, { finalizers: [FINALIZER] })), true);
    assert.equal(hasFinalizer(makeXdpCounter("x")), false);
  });

  it("waits for every existing node that reported and is not Clean", () => {
    const xdpc = makeXdpCounter(
      "x",
      {},
      { nodes: { a: nodeEntry({ phase: "Clean" }), b: nodeEntry({ phase: "Cleaning" }), c: nodeEntry() } },
      deleting,
    );
    assert.deepEqual(canRemoveFinalizer(xdpc, [{ name: "a" }, { name: "b" }, { name: "c" }]), {
      removable: false,
      waitingFor: ["b", "c"],
    });
  });

  it("does not wait for nodes that are gone", () => {
    const xdpc = makeXdpCounter(
      "x",
      {},
      { nodes: { a: nodeEntry({ phase: "Clean" }), gone: nodeEntry() } },
      deleting,
    );
    assert.deepEqual(canRemoveFinalizer(xdpc, [{ name: "a" }]), { removable: true, waitingFor: [] });
  });

  it("waits for deselected nodes (their agent cleans up there), not for nodes no agent can run on", () => {
    const xdpc = makeXdpCounter(
      "x",
      { nodeSelector: { pool: "edge" } },
      { nodes: { moved: nodeEntry() } },
      deleting,
    );
    assert.equal(canRemoveFinalizer(xdpc, [{ name: "moved", labels: { pool: "core" } }]).removable, false);
    assert.equal(canRemoveFinalizer(xdpc, [{ name: "moved", labels: { pool: "edge" } }]).removable, false);
    const tainted = {
      name: "moved",
      labels: { pool: "edge" },
      taints: [{ key: "k", effect: "NoExecute" as const }],
    };
    assert.equal(canRemoveFinalizer(xdpc, [tainted]).removable, true);
  });

  it("removes at once when no node ever reported", () => {
    assert.equal(
      canRemoveFinalizer(makeXdpCounter("x", {}, undefined, deleting), [{ name: "a" }]).removable,
      true,
    );
  });
});
