import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { zeroCounters } from "./counters.ts";
import { ApiError } from "./errors.ts";
import { readXdpCounter } from "./read-xdpcounter.ts";

const good = {
  phase: "Counting",
  reportedAt: "2026-11-25T12:00:00Z",
  interfaces: [],
  packets: zeroCounters(),
  bytes: zeroCounters(),
};
const raw = (status: unknown, spec: unknown = {}) => ({
  apiVersion: "xdpcounter.dev/v1alpha1",
  kind: "XdpCounter",
  metadata: { name: "edge", uid: "u", generation: 1, resourceVersion: "7", managedFields: [] },
  spec,
  status,
});

describe("readXdpCounter", () => {
  it("sets one bad node entry aside and keeps the others", () => {
    const over = { ...good, packets: { ...zeroCounters(), pass: "20000000000000000000" } };
    const { object, invalidNodes } = readXdpCounter(raw({ nodes: { a: good, b: over } }));
    assert.deepEqual(Object.keys(object.status?.nodes ?? {}), ["a"]);
    assert.equal(invalidNodes.length, 1);
    assert.equal(invalidNodes[0]?.node, "b");
    assert.match(invalidNodes[0]?.message ?? "", /packets\.pass: must be at most 18446744073709551615/);
  });

  it("reads entries that leave out zero actions beside entries that carry all five", () => {
    const sparse = { ...good, packets: { pass: "9007199254740993" }, bytes: {} };
    const old = { ...good, packets: { ...zeroCounters(), pass: "3" } };
    const { object, invalidNodes } = readXdpCounter(raw({ nodes: { new: sparse, old } }));
    assert.deepEqual(invalidNodes, []);
    assert.deepEqual(object.status?.nodes?.new?.packets, { pass: "9007199254740993" });
    assert.equal(object.status?.nodes?.old?.packets.drop, "0");
  });

  it("keeps metadata fields it does not know", () => {
    const { object } = readXdpCounter(raw(undefined));
    assert.deepEqual(object.metadata.managedFields, []);
  });

  it("throws ApiError naming the XdpCounter when the spec is bad", () => {
    assert.throws(
      () => readXdpCounter(raw(undefined, { action: "tx" })),
      (error: unknown) =>
        error instanceof ApiError &&
        error.code === "InvalidXdpCounter" &&
        /XdpCounter edge .*spec\.action/.test(error.message),
    );
  });
});
