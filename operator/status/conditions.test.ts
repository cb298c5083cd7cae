import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { computeConditions, listSome, type Observations } from "./conditions.ts";

const allGood: Observations = {
  daemonSetFound: true,
  desiredNodes: 3,
  readyNodes: 3,
  notReadyNodes: [],
  nodeErrors: [],
  interfaceErrors: [],
};
const t0 = new Date("2026-11-25T12:00:00.750Z");
const t1 = new Date("2026-11-25T12:05:00Z");

function byType(conditions: ReturnType<typeof computeConditions>) {
  return Object.fromEntries(conditions.map((c) => [c.type, c]));
}

describe("computeConditions", () => {
  it("is Ready and not Degraded when every node counts", () => {
    const { Ready, Degraded } = byType(computeConditions(undefined, allGood, 4, t0));
    assert.equal(Ready?.status, "True");
    assert.equal(Ready?.reason, "AllNodesCounting");
    assert.equal(Ready?.observedGeneration, 4);
    assert.equal(Ready?.lastTransitionTime, "2026-11-25T12:00:00Z", "whole seconds, as metav1.Time");
    assert.equal(Degraded?.status, "False");
  });

  it("keeps lastTransitionTime while the status holds, even when the message changes", () => {
    const first = computeConditions(
      undefined,
      { ...allGood, readyNodes: 1, notReadyNodes: ["b", "c"] },
      4,
      t0,
    );
    const second = computeConditions(first, { ...allGood, readyNodes: 2, notReadyNodes: ["c"] }, 5, t1);
    const ready = byType(second).Ready;
    assert.equal(ready?.status, "False");
    assert.equal(ready?.lastTransitionTime, "2026-11-25T12:00:00Z");
    assert.match(ready?.message ?? "", /2 of 3 nodes counting; not ready: c/);
    assert.equal(ready?.observedGeneration, 5);
  });

  it("moves lastTransitionTime when the status flips", () => {
    const first = computeConditions(
      undefined,
      { ...allGood, readyNodes: 1, notReadyNodes: ["b", "c"] },
      4,
      t0,
    );
    const second = computeConditions(first, allGood, 4, t1);
    assert.equal(byType(second).Ready?.lastTransitionTime, "2026-11-25T12:05:00Z");
    assert.equal(
      byType(second).Degraded?.lastTransitionTime,
      "2026-11-25T12:00:00Z",
      "Degraded did not flip",
    );
  });

  it("gives actionable reasons", () => {
    const cases: [Partial<Observations>, string, string][] = [
      [{ daemonSetFound: false }, "DaemonSetMissing", "DaemonSetMissing"],
      [{ daemonSetConflict: "owned by another XdpCounter" }, "DaemonSetConflict", "DaemonSetConflict"],
      [{ desiredNodes: 0, readyNodes: 0 }, "NoNodesSelected", "NoErrors"],
      [{ readyNodes: 2, notReadyNodes: ["c"] }, "NodesNotReady", "NoErrors"],
      [{ specError: "reportInterval: must be at most 1h" }, "InvalidSpec", "InvalidSpec"],
      [{ deleting: true }, "Deleting", "NoErrors"],
      [
        { interfaceErrors: [{ node: "a", interface: "eth0", reason: "ForeignXdpProgram", message: "x" }] },
        "AllNodesCounting",
        "ForeignXdpProgram",
      ],
      [
        {
          interfaceErrors: [{ node: "a", interface: "eth0", reason: "AttachFailed", message: "EOPNOTSUPP" }],
        },
        "AllNodesCounting",
        "InterfaceErrors",
      ],
      [{ nodeErrors: [{ node: "a", message: "bpffs not mounted" }] }, "AllNodesCounting", "NodeErrors"],
    ];
    for (const [change, ready, degraded] of cases) {
      const { Ready, Degraded } = byType(computeConditions(undefined, { ...allGood, ...change }, 1, t0));
      assert.equal(Ready?.reason, ready, JSON.stringify(change));
      assert.equal(Degraded?.reason, degraded, JSON.stringify(change));
      assert.equal(Degraded?.status, degraded === "NoErrors" ? "False" : "True");
    }
  });

  it("a foreign program outranks other interface errors and names where", () => {
    const observations = {
      ...allGood,
      interfaceErrors: [
        { node: "a", interface: "eth0", reason: "AttachFailed", message: "x" },
        { node: "b", interface: "eth1", reason: "ForeignXdpProgram", message: "y" },
      ],
    };
    const degraded = byType(computeConditions(undefined, observations, 1, t0)).Degraded;
    assert.equal(degraded?.reason, "ForeignXdpProgram");
    assert.match(degraded?.message ?? "", /on b\/eth1;/);
  });
});

describe("listSome", () => {
  it("lists five and counts the rest", () => {
    assert.equal(listSome(["a", "b"]), "a, b");
    assert.equal(listSome(["1", "2", "3", "4", "5", "6", "7"]), "1, 2, 3, 4, 5 (+2 more)");
  });
});
