import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { countsOn, isSelected, selectedNodeNames, tolerates } from "./node-selection.ts";

describe("node selection", () => {
  it("matches every nodeSelector label", () => {
    const spec = { nodeSelector: { zone: "a", role: "edge" } };
    assert.equal(isSelected(spec, { name: "n", labels: { zone: "a", role: "edge", x: "y" } }), true);
    assert.equal(isSelected(spec, { name: "n", labels: { zone: "a" } }), false);
    assert.equal(isSelected(spec, { name: "n", labels: { zone: "b", role: "edge" } }), false);
    assert.equal(isSelected({}, { name: "n" }), true);
  });

  it("needs every NoSchedule and NoExecute taint tolerated, not PreferNoSchedule", () => {
    const taint = { key: "dedicated", value: "net", effect: "NoSchedule" as const };
    assert.equal(isSelected({}, { name: "n", taints: [taint] }), false);
    assert.equal(isSelected({}, { name: "n", taints: [{ ...taint, effect: "PreferNoSchedule" }] }), true);
    const spec = { tolerations: [{ key: "dedicated", operator: "Equal" as const, value: "net" }] };
    assert.equal(isSelected(spec, { name: "n", taints: [taint] }), true);
    assert.equal(isSelected(spec, { name: "n", taints: [{ ...taint, value: "storage" }] }), false);
  });

  it("tolerates what the DaemonSet controller tolerates for every daemon pod", () => {
    const notReady = { key: "node.kubernetes.io/not-ready", effect: "NoExecute" as const };
    const cordoned = { key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" as const };
    assert.equal(isSelected({}, { name: "n", taints: [notReady, cordoned] }), true);
  });

  it("follows the toleration rules of core/v1", () => {
    const taint = { key: "k", value: "v", effect: "NoExecute" as const };
    assert.equal(tolerates({ operator: "Exists" }, taint), true, "empty key with Exists tolerates all");
    assert.equal(tolerates({ key: "k", operator: "Exists" }, taint), true);
    assert.equal(tolerates({ key: "k", operator: "Exists", effect: "NoSchedule" }, taint), false);
    assert.equal(tolerates({ key: "k", value: "v" }, taint), true, "operator defaults to Equal");
    assert.equal(tolerates({ key: "k", value: "w" }, taint), false);
    assert.equal(tolerates({ key: "other", operator: "Exists" }, taint), false);
  });

  it("lists the selected nodes", () => {
    const nodes = [{ name: "a", labels: { x: "1" } }, { name: "b" }, { name: "c", labels: { x: "1" } }];
    assert.deepEqual([...selectedNodeNames({ nodeSelector: { x: "1" } }, nodes)].sort(), ["a", "c"]);
  });
});

describe("countsOn", () => {
  const spec = { nodeSelector: { pool: "edge" } };
  const notReady = { key: "node.kubernetes.io/not-ready", effect: "NoSchedule" as const };
  const evicting = { key: "dedicated", value: "db", effect: "NoExecute" as const };

  it("takes a node on only when every NoSchedule and NoExecute taint is tolerated", () => {
    assert.equal(countsOn(spec, { name: "a", labels: { pool: "edge" } }, false), true);
    assert.equal(countsOn(spec, { name: "a", labels: { pool: "edge" }, taints: [notReady] }, false), false);
    assert.equal(countsOn(spec, { name: "a", labels: { pool: "core" } }, false), false);
  });

  it("keeps counting through a NoSchedule taint (a node going NotReady), not through a NoExecute one", () => {
    assert.equal(countsOn(spec, { name: "a", labels: { pool: "edge" }, taints: [notReady] }, true), true);
    assert.equal(countsOn(spec, { name: "a", labels: { pool: "edge" }, taints: [evicting] }, true), false);
    assert.equal(
      countsOn(spec, { name: "a", labels: { pool: "core" } }, true),
      false,
      "labels always decide",
    );
  });
});
