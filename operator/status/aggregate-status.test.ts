import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { zeroCounters } from "../../api/v1alpha1/index.ts";
import { makeXdpCounter, nodeEntry } from "../../testing/operator.ts";
import { aggregateStatus, summarizeInterfaces } from "./aggregate-status.ts";

const readyAgents = new Set(["a", "b", "c", "d"]);
const nodes = [{ name: "a" }, { name: "b" }, { name: "c" }];
const iface = (name: string, mode: "native" | "generic" | "", extra = {}) => ({
  name,
  mode,
  attached: mode !== "",
  packets: zeroCounters(),
  bytes: zeroCounters(),
  ...extra,
});

describe("aggregateStatus", () => {
  it("sums exactly above 2^53", () => {
    const big = { ...zeroCounters(), pass: "9007199254740993", drop: "18446744073709551000" };
    const xdpc = makeXdpCounter(
      "edge",
      {},
      {
        nodes: {
          a: nodeEntry({ packets: big, bytes: big }),
          b: nodeEntry({ packets: { ...zeroCounters(), pass: "9007199254740993", drop: "615" } }),
        },
      },
    );
    const result = aggregateStatus(xdpc, { nodes, readyAgents });
    assert.equal(result.totals.packets.pass, "18014398509481986");
    assert.equal(result.totals.packets.drop, "18446744073709551615");
    assert.equal(result.totals.bytes.pass, "9007199254740993");
  });

  it("sums entries that leave out zero actions with entries that carry all five, and writes all five", () => {
    // agents roll out one node at a time: old agents still write "0" for every action
    const xdpc = makeXdpCounter(
      "edge",
      {},
      {
        nodes: {
          a: nodeEntry({ packets: { pass: "9007199254740993" }, bytes: { pass: "18446744073709551000" } }),
          b: nodeEntry({
            packets: { ...zeroCounters(), pass: "9007199254740993", drop: "615" },
            bytes: { ...zeroCounters(), pass: "615", drop: "39360" },
          }),
          c: nodeEntry({ packets: { drop: "1" }, bytes: { drop: "64" } }),
          d: nodeEntry(),
        },
      },
    );
    const result = aggregateStatus(xdpc, { nodes: [...nodes, { name: "d" }], readyAgents });
    assert.deepEqual(result.totals, {
      packets: { aborted: "0", drop: "616", pass: "18014398509481986", tx: "0", redirect: "0" },
      bytes: { aborted: "0", drop: "39424", pass: "18446744073709551615", tx: "0", redirect: "0" },
    });
    const empty = aggregateStatus(makeXdpCounter(), { nodes, readyAgents }).totals;
    assert.deepEqual(empty, { packets: zeroCounters(), bytes: zeroCounters() });
  });

  it("stops at 2^64-1 rather than failing when the cluster sum overflows", () => {
    const max = { ...zeroCounters(), pass: "18446744073709551615" };
    const xdpc = makeXdpCounter(
      "edge",
      {},
      { nodes: { a: nodeEntry({ packets: max }), b: nodeEntry({ packets: max }) } },
    );
    assert.equal(aggregateStatus(xdpc, { nodes, readyAgents }).totals.packets.pass, "18446744073709551615");
  });

  it("counts desired and ready nodes, and lists those not ready", () => {
    const xdpc = makeXdpCounter(
      "edge",
      {},
      {
        nodes: {
          a: nodeEntry(),
          b: nodeEntry(), // Counting, but its agent pod is not Ready
          c: nodeEntry({ phase: "Error", error: "no such interface" }),
        },
      },
    );
    const result = aggregateStatus(xdpc, {
      nodes: [...nodes, { name: "d" }],
      readyAgents: new Set(["a", "c", "d"]),
    });
    assert.equal(result.desiredNodes, 4);
    assert.equal(result.readyNodes, 1);
    assert.deepEqual(result.notReadyNodes, ["b", "c", "d"]);
    assert.deepEqual(result.nodeErrors, [{ node: "c", message: "no such interface" }]);
  });

  it("an entry's age does not matter: agents write only on change, readiness comes from the pod", () => {
    const xdpc = makeXdpCounter(
      "edge",
      {},
      { nodes: { a: nodeEntry({ reportedAt: "2025-01-01T00:00:00Z" }) } },
    );
    assert.equal(aggregateStatus(xdpc, { nodes: [{ name: "a" }], readyAgents }).readyNodes, 1);
    assert.equal(aggregateStatus(xdpc, { nodes: [{ name: "a" }], readyAgents: new Set() }).readyNodes, 0);
  });

  it("marks entries of deleted, clean-deselected and untolerated nodes stale, and leaves them out of the totals", () => {
    const one = { ...zeroCounters(), pass: "1" };
    const xdpc = makeXdpCounter(
      "edge",
      { nodeSelector: { pool: "edge" } },
      {
        nodes: {
          a: nodeEntry({ packets: one }),
          gone: nodeEntry({ packets: one }),
          moved: nodeEntry({ packets: one, phase: "Clean" }),
          tainted: nodeEntry({ packets: one }),
        },
      },
    );
    const result = aggregateStatus(xdpc, {
      nodes: [
        { name: "a", labels: { pool: "edge" } },
        { name: "moved", labels: { pool: "core" } },
        { name: "tainted", labels: { pool: "core" }, taints: [{ key: "k", effect: "NoSchedule" }] },
      ],
      readyAgents,
    });
    assert.deepEqual(result.staleNodes, ["gone", "moved", "tainted"]);
    assert.deepEqual(result.cleaningNodes, []);
    assert.equal(result.totals.packets.pass, "1");
    assert.equal(result.desiredNodes, 1);
  });

  it("keeps the entry of a deselected node until it is Clean, without counting it", () => {
    const one = { ...zeroCounters(), pass: "1" };
    const xdpc = makeXdpCounter(
      "edge",
      { nodeSelector: { pool: "edge" } },
      {
        nodes: {
          a: nodeEntry({ packets: one }),
          moved: nodeEntry({ packets: one }),
          cleaning: nodeEntry({ phase: "Cleaning", error: "x" }),
        },
      },
    );
    const result = aggregateStatus(xdpc, {
      nodes: [
        { name: "a", labels: { pool: "edge" } },
        { name: "moved", labels: { pool: "core" } },
        { name: "cleaning" },
      ],
      readyAgents,
    });
    assert.deepEqual(result.staleNodes, []);
    assert.deepEqual(result.cleaningNodes, ["cleaning", "moved"]);
    assert.equal(result.totals.packets.pass, "1");
    assert.equal(result.desiredNodes, 1);
    assert.equal(result.readyNodes, 1);
    assert.deepEqual(result.notReadyNodes, []);
    assert.deepEqual(result.nodeErrors, []);
  });

  it("while deleting, keeps entries of nodes that still exist for the finalizer to wait on", () => {
    const xdpc = makeXdpCounter(
      "edge",
      { nodeSelector: { pool: "edge" } },
      { nodes: { moved: nodeEntry({ phase: "Cleaning" }), gone: nodeEntry() } },
      { deletionTimestamp: "2026-11-25T12:00:00Z" },
    );
    const result = aggregateStatus(xdpc, {
      nodes: [{ name: "moved", labels: { pool: "core" } }],
      readyAgents,
    });
    assert.deepEqual(result.staleNodes, ["gone"]);
  });

  it("names the reason where auto fell back to generic, apart from the interfaces that run generic as asked", () => {
    const fallback = {
      reason: "NativeMtuTooLarge" as const,
      message: "the veth driver refuses native XDP at MTU 9000",
    };
    const xdpc = makeXdpCounter(
      "jumbo",
      {},
      {
        nodes: {
          a: nodeEntry({ interfaces: [iface("eth0", "generic", { fallback })] }),
          b: nodeEntry({ interfaces: [iface("eth0", "generic", { fallback }), iface("eth1", "generic")] }),
        },
      },
    );
    const result = aggregateStatus(xdpc, { nodes, readyAgents });
    assert.equal(result.interfaces, "eth0/generic(NativeMtuTooLarge)=2, eth1/generic=1");
    assert.deepEqual(result.interfaceErrors, [], "a fallback is not an error");
  });

  it("summarizes attached interfaces and collects interface errors", () => {
    const xdpc = makeXdpCounter(
      "edge",
      {},
      {
        nodes: {
          a: nodeEntry({ interfaces: [iface("eth0", "native"), iface("eth1", "generic")] }),
          b: nodeEntry({
            interfaces: [
              iface("eth0", "native"),
              iface("eth1", "", { reason: "ForeignXdpProgram", error: "program 42 (cilium) is attached" }),
            ],
          }),
        },
      },
    );
    const result = aggregateStatus(xdpc, { nodes, readyAgents });
    assert.equal(result.interfaces, "eth0/native=2, eth1/generic=1");
    assert.deepEqual(result.interfaceErrors, [
      {
        node: "b",
        interface: "eth1",
        reason: "ForeignXdpProgram",
        message: "program 42 (cilium) is attached",
      },
    ]);
  });

  it("omits the summary when nothing is attached", () => {
    const xdpc = makeXdpCounter("edge", {}, { nodes: { a: nodeEntry() } });
    assert.equal(aggregateStatus(xdpc, { nodes, readyAgents }).interfaces, undefined);
  });
});

describe("summarizeInterfaces", () => {
  it("cuts a long summary to 256 characters and says how many were left out", () => {
    const many = new Map(
      Array.from({ length: 40 }, (_, i) => [`veth${String(i).padStart(6, "0")}/generic`, 1] as const),
    );
    const text = summarizeInterfaces(many) ?? "";
    assert.ok(text.length <= 256, `${text.length}`);
    const shown = text.split(", ").filter((p) => p.startsWith("veth")).length;
    assert.match(text, new RegExp(`, \\+${40 - shown} more$`));
  });
});
