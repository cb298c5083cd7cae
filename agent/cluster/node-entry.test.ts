import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nodeEntryPatch, nodeStatus } from "../../api/v1alpha1/index.ts";
import { type Counters, zeroCounters } from "../bpf/index.ts";
import { buildNodeEntry, changeKey } from "./node-entry.ts";
import type { InterfaceState } from "./reconciler.ts";

const now = new Date("2026-11-25T12:00:00Z");
function counters(pass: bigint, passBytes: bigint, drop = 0n): Counters {
  const c = zeroCounters();
  c.pass = { packets: pass, bytes: passBytes };
  c.drop = { packets: drop, bytes: drop * 64n };
  return c;
}
const eth0: InterfaceState = {
  name: "eth0",
  attached: true,
  mode: "native",
  counters: counters(2n ** 63n + 5n, 2n ** 64n - 1n),
  problem: undefined,
};
const eth1: InterfaceState = {
  name: "eth1",
  attached: false,
  mode: "",
  counters: undefined,
  problem: {
    reason: "ForeignXdpProgram",
    error: "attach XDP program on eth1 failed: program 'xdp_lb' (id 7)",
  },
};

describe("node entry", () => {
  it("carries exact u64 counters per interface and summed per node, valid for the CRD schema", () => {
    const entry = buildNodeEntry({
      states: [eth0, { ...eth0, name: "eth2", counters: counters(5n, 320n, 2n) }],
      generation: 4,
      now,
    });
    assert.equal(entry.phase, "Counting");
    assert.equal(entry.reportedAt, "2026-11-25T12:00:00.000Z");
    assert.equal(entry.interfaces[0]?.packets.pass, "9223372036854775813");
    assert.equal(entry.interfaces[0]?.bytes.pass, "18446744073709551615");
    assert.equal(entry.packets.pass, "9223372036854775818");
    assert.equal(entry.packets.drop, "2");
    // the node's byte total would pass 2^64−1: it stops there
    assert.equal(entry.bytes.pass, "18446744073709551615");
    assert.equal(entry.error, undefined);
    nodeStatus.parse(entry);
    // the patch sends null for the absent error, so an old error is cleared
    assert.equal(nodeEntryPatch("n", entry).status.nodes.n?.error, null);
  });

  it("carries why auto runs an interface in generic mode, only while it is attached, valid for the CRD schema", () => {
    const fallback = {
      reason: "NativeMtuTooLarge" as const,
      message: `the veth driver refuses native XDP at MTU 9000: "${"x".repeat(600)}"`,
    };
    const entry = buildNodeEntry({
      states: [
        { ...eth0, mode: "generic", fallback },
        { ...eth1, fallback },
      ],
      generation: 1,
      now,
    });
    assert.equal(entry.interfaces[0]?.fallback?.reason, "NativeMtuTooLarge");
    assert.equal(entry.interfaces[0]?.fallback?.message.length, 512, "cut to the schema's bound");
    assert.equal(entry.interfaces[1]?.fallback, undefined, "not attached: no fallback to report");
    nodeStatus.parse(entry);
    assert.notEqual(
      changeKey(entry),
      changeKey(buildNodeEntry({ states: [eth0, eth1], generation: 1, now })),
    );
  });

  it("leaves out the actions that counted 0, on the node and on each interface", () => {
    const entry = buildNodeEntry({
      states: [{ ...eth0, counters: counters(9007199254740993n, 9007199254740993n * 1514n) }],
      generation: 1,
      now,
    });
    const packets = { pass: "9007199254740993" };
    const bytes = { pass: "13636899671677863402" };
    assert.deepEqual(entry.packets, packets);
    assert.deepEqual(entry.bytes, bytes);
    assert.deepEqual(entry.interfaces[0]?.packets, packets);
    assert.deepEqual(entry.interfaces[0]?.bytes, bytes);
    nodeStatus.parse(entry);
    const none = buildNodeEntry({ states: [{ ...eth0, counters: zeroCounters() }], generation: 1, now });
    assert.deepEqual([none.packets, none.bytes, none.interfaces[0]?.packets], [{}, {}, {}]);
  });

  it("carries both actions while the action changes, from pass to drop and back", () => {
    // pass counted before the change, drop after; the pinned counters keep both
    const toDrop = buildNodeEntry({
      states: [{ ...eth0, counters: counters(10n, 640n, 3n) }],
      generation: 2,
      now,
    });
    assert.deepEqual(toDrop.packets, { drop: "3", pass: "10" });
    assert.deepEqual(toDrop.bytes, { drop: "192", pass: "640" });
    assert.deepEqual(toDrop.interfaces[0]?.packets, { drop: "3", pass: "10" });
    // a node that only ever dropped (its counters were reset, or it started with drop) and now passes
    const c = zeroCounters();
    c.drop = { packets: 2n ** 53n + 1n, bytes: 64n };
    c.pass = { packets: 1n, bytes: 2n ** 64n - 1n };
    const toPass = buildNodeEntry({ states: [{ ...eth0, counters: c }], generation: 3, now });
    assert.deepEqual(toPass.packets, { drop: "9007199254740993", pass: "1" });
    assert.deepEqual(toPass.bytes, { drop: "64", pass: "18446744073709551615" });
    // the patch removes whatever an earlier write left for the other three actions
    const body = nodeEntryPatch("n", toPass).status.nodes.n;
    assert.deepEqual(body?.packets, {
      aborted: null,
      drop: "9007199254740993",
      pass: "1",
      tx: null,
      redirect: null,
    });
  });

  it("reports a failing interface on the interface while another counts", () => {
    const entry = buildNodeEntry({ states: [eth0, eth1], generation: 1, now });
    assert.equal(entry.phase, "Counting");
    assert.deepEqual(entry.interfaces[1], {
      name: "eth1",
      mode: "",
      attached: false,
      packets: {},
      bytes: {},
      reason: "ForeignXdpProgram",
      error: "attach XDP program on eth1 failed: program 'xdp_lb' (id 7)",
    });
  });

  it("is in phase Error, saying why, when it counts on nothing", () => {
    const entry = buildNodeEntry({ states: [eth1], generation: 1, now });
    assert.equal(entry.phase, "Error");
    assert.match(entry.error ?? "", /eth1: .*xdp_lb/);
    const none = buildNodeEntry({ states: [], generation: 1, now, nodeProblem: "no default route" });
    assert.equal(none.phase, "Error");
    assert.equal(none.error, "no default route");
    nodeStatus.parse(none);
  });

  it("uses the phase it is given in clean mode", () => {
    const entry = buildNodeEntry({ states: [], generation: 2, now, phase: "Clean" });
    assert.equal(entry.phase, "Clean");
    assert.deepEqual(entry.interfaces, []);
  });

  it("changes key when anything but the time changes", () => {
    const a = buildNodeEntry({ states: [eth0], generation: 1, now });
    const later = buildNodeEntry({ states: [eth0], generation: 1, now: new Date(now.getTime() + 10_000) });
    assert.equal(changeKey(a), changeKey(later));
    const more = buildNodeEntry({ states: [{ ...eth0, counters: counters(1n, 64n) }], generation: 1, now });
    assert.notEqual(changeKey(a), changeKey(more));
    assert.notEqual(changeKey(a), changeKey(buildNodeEntry({ states: [eth0], generation: 2, now })));
  });
});
