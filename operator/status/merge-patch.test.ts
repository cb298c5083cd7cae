import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyMergePatch, diffMergePatch, type JsonObject } from "./merge-patch.ts";

describe("merge patch", () => {
  it("applies RFC 7386's examples", () => {
    const cases: [unknown, unknown, unknown][] = [
      [{ a: "b" }, { a: "c" }, { a: "c" }],
      [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
      [{ a: "b" }, { a: null }, {}],
      [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
      [{ a: ["b"] }, { a: "c" }, { a: "c" }],
      [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
      [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
      [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
      [
        ["a", "b"],
        ["c", "d"],
        ["c", "d"],
      ],
      [{ a: "b" }, ["c"], ["c"]],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [[1, 2], { a: "b", c: null }, { a: "b" }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ];
    for (const [target, patch, result] of cases) {
      assert.deepEqual(
        applyMergePatch(target as never, patch as never),
        result,
        JSON.stringify([target, patch]),
      );
    }
  });

  it("removes a node's entry with null, leaving the others", () => {
    const status = { status: { nodes: { "node-a": { phase: "Counting" }, "node-b": { phase: "Clean" } } } };
    assert.deepEqual(applyMergePatch(status, { status: { nodes: { "node-a": null } } }), {
      status: { nodes: { "node-b": { phase: "Clean" } } },
    });
  });

  it("diffs to the smallest patch that applies back to the target", () => {
    const before: JsonObject = { a: 1, keep: "x", nested: { p: "1", q: "2" }, list: [1, 2], gone: true };
    const after: JsonObject = { a: 2, keep: "x", nested: { p: "1", q: "3" }, list: [1, 2, 3] };
    const patch = diffMergePatch(before, after);
    assert.deepEqual(patch, { a: 2, nested: { q: "3" }, list: [1, 2, 3], gone: null });
    assert.deepEqual(applyMergePatch(before, patch as JsonObject), after);
  });

  it("returns undefined for equal values, whatever their key order", () => {
    assert.equal(
      diffMergePatch({ a: { x: 1, y: [1, { z: 2 }] } }, { a: { y: [1, { z: 2 }], x: 1 } }),
      undefined,
    );
    assert.notEqual(diffMergePatch({ a: [1, 2] }, { a: [2, 1] }), undefined);
  });
});
