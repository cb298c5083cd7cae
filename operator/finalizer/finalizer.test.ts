import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { makeXdpCounter } from "../../testing/operator.ts";
import { canRemoveFinalizer, FINALIZER, hasFinalizer, withFinalizer, withoutFinalizer } from "./finalizer.ts";

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

  it("can go once no node holds a report of the XdpCounter, and names those that do", () => {
    assert.deepEqual(canRemoveFinalizer([]), { removable: true, waitingFor: [] });
    assert.deepEqual(canRemoveFinalizer(["b", "a", "b"]), { removable: false, waitingFor: ["a", "b"] });
  });
});
