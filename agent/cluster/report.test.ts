import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { U64_MAX, XDP_ACTIONS, xdpCounterReport, zeroTotals } from "../../api/v1alpha1/index.ts";
import { type Counters, zeroCounters } from "../bpf/index.ts";
import type { InterfaceState } from "./reconciler.ts";
import {
  buildReport,
  changeKey,
  interfaceTotals,
  type NodeTotals,
  nodeTotals,
  RateMeter,
  reportObject,
} from "./report.ts";

const now = new Date("2026-12-03T12:00:00Z");
const xdpc = { name: "edge", uid: "edge-uid", generation: 4 };
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
const held: InterfaceState = {
  name: "eth1",
  attached: false,
  mode: "",
  counters: undefined,
  problem: {
    reason: "HeldByXdpCounter",
    error: "eth1 is counted by XdpCounter first on this node",
    heldBy: "first",
  },
};
/** The object as the API server would store it, checked against the CRD's schema. */
const valid = (body: ReturnType<typeof buildReport>) =>
  xdpCounterReport.parse(reportObject(body, { name: "node-1", uid: "node-uid" }));

describe("report", () => {
  it("carries exact u64 counters per interface and summed for the node, valid for the CRD schema", () => {
    const body = buildReport({
      xdpCounter: xdpc,
      nodeName: "node-1",
      states: [eth0, { ...eth0, name: "eth2", counters: counters(5n, 320n, 2n) }],
      now,
    });
    assert.equal(body.phase, "Counting");
    assert.equal(body.interfaces?.[0]?.packets.pass, "9223372036854775813");
    assert.equal(body.packets.pass, "9223372036854775818");
    assert.equal(body.packets.drop, "2");
    // the node's byte total would pass 2^64−1: it stops there
    assert.equal(body.bytes.pass, "18446744073709551615");
    assert.equal(body.packets.aborted, undefined, "actions that counted 0 are left out");
    const object = valid(body);
    assert.equal(object.metadata.name, "edge.node-1");
    assert.deepEqual(object.metadata.labels, { "xdpcounter.dev/xdpcounter": "edge" });
    assert.deepEqual(object.xdpCounter, { name: "edge", uid: "edge-uid" });
    assert.equal(object.generation, 4);
  });

  it("says who holds an interface, and is in Error only when it counts on nothing", () => {
    const both = buildReport({ xdpCounter: xdpc, nodeName: "node-1", states: [eth0, held], now });
    assert.equal(both.phase, "Counting");
    assert.deepEqual(
      [both.interfaces?.[1]?.reason, both.interfaces?.[1]?.heldBy],
      ["HeldByXdpCounter", "first"],
    );
    const none = buildReport({ xdpCounter: xdpc, nodeName: "node-1", states: [held], now });
    assert.equal(none.phase, "Error");
    assert.match(none.error ?? "", /eth1: eth1 is counted by XdpCounter first/);
    valid(none);
    const empty = buildReport({
      xdpCounter: xdpc,
      nodeName: "node-1",
      states: [],
      now,
      nodeProblem: "no interface on node node-1 matches",
    });
    assert.equal(empty.phase, "Error");
    assert.equal(empty.error, "no interface on node node-1 matches");
  });

  it("changes key when anything but the time changes", () => {
    const a = buildReport({ xdpCounter: xdpc, nodeName: "n", states: [eth0], now });
    const later = buildReport({
      xdpCounter: xdpc,
      nodeName: "n",
      states: [eth0],
      now: new Date(now.getTime() + 5_000),
    });
    assert.equal(changeKey(a), changeKey(later));
    const more = buildReport({
      xdpCounter: xdpc,
      nodeName: "n",
      states: [{ ...eth0, counters: counters(1n, 64n) }],
      now,
    });
    assert.notEqual(changeKey(a), changeKey(more));
    const newer = buildReport({ xdpCounter: { ...xdpc, generation: 5 }, nodeName: "n", states: [eth0], now });
    assert.notEqual(changeKey(a), changeKey(newer));
  });
});

describe("rates", () => {
  const totals = (pass: bigint, passBytes: bigint) => {
    const t = { packets: zeroTotals(), bytes: zeroTotals() };
    t.packets.pass = pass;
    t.bytes.pass = passBytes;
    return t;
  };
  /** One interface, eth0, with these totals. */
  const one = (pass: bigint, passBytes: bigint) => new Map([["eth0", totals(pass, passBytes)]]);

  it("packets/s and bits/s by action between readings; none at the first", () => {
    const meter = new RateMeter();
    assert.equal(meter.sample(one(1_000n, 64_000n), 0), undefined);
    assert.deepEqual(meter.sample(one(26_000n, 1_664_000n), 10_000), {
      packetsPerSecond: { pass: 2_500 },
      bitsPerSecond: { pass: 1_280_000 },
      seconds: 10,
    });
    // no traffic: no rates, so idle reports do not differ by the span they were measured over
    assert.equal(meter.sample(one(26_000n, 1_664_000n), 20_000), undefined);
  });

  it("a counter that went down started again from 0: its rate is what it counted since", () => {
    const meter = new RateMeter();
    meter.sample(one(2n ** 60n, 2n ** 62n), 0);
    assert.deepEqual(meter.sample(one(300n, 19_200n), 3_000), {
      packetsPerSecond: { pass: 100 },
      bitsPerSecond: { pass: 51_200 },
      seconds: 3,
    });
  });

  it("an interface that went away or started again from 0 takes nothing from the others' rates", () => {
    const meter = new RateMeter();
    const big = 1_000_000_000n;
    meter.sample(
      new Map([
        ["eth0", totals(big, 64n * big)],
        ["eth1", totals(big, 64n * big)],
        ["eth2", totals(5_000n, 320_000n)],
      ]),
      0,
    );
    // eth1 is gone, eth2 was re-created (its pins with it) and counted 10 since, eth0 counted 1,000
    const rates = meter.sample(
      new Map([
        ["eth0", totals(big + 1_000n, 64n * (big + 1_000n))],
        ["eth2", totals(10n, 640n)],
      ]),
      10_000,
    );
    // the node's sum went down from 2,000,005,000 to 1,000,001,010: as one counter that would read as a
    // reset, and as 100,000,101 packets/s
    assert.deepEqual(rates, {
      packetsPerSecond: { pass: 101 },
      bitsPerSecond: { pass: 51_712 },
      seconds: 10,
    });
  });

  it("node totals sum the interfaces exactly", () => {
    const t = nodeTotals([eth0, { ...eth0, name: "eth2", counters: counters(5n, 320n, 2n) }]);
    assert.equal(t.packets.pass, 2n ** 63n + 10n);
    assert.equal(t.packets.drop, 2n);
  });

  it("interface totals are the reported interfaces' own, by name", () => {
    const t = interfaceTotals([eth0, held]);
    assert.deepEqual([...t.keys()], ["eth0", "eth1"]);
    assert.equal(t.get("eth0")?.bytes.pass, 2n ** 64n - 1n);
    assert.equal(t.get("eth1")?.packets.pass, 0n, "never attached: 0");
  });

  it("for any readings, resets and interfaces coming and going included, rates are what each counted, never negative", () => {
    const u64 = fc.oneof(fc.bigInt({ min: 0n, max: 1_000_000n }), fc.bigInt({ min: 0n, max: U64_MAX }));
    const action = fc.record(
      Object.fromEntries(XDP_ACTIONS.map((a) => [a, u64])) as Record<
        (typeof XDP_ACTIONS)[number],
        typeof u64
      >,
    );
    const reading = fc.dictionary(
      fc.constantFrom("eth0", "eth1", "eth2", "ens5"),
      fc.record({ packets: action, bytes: action }),
      { maxKeys: 4 },
    );
    const step = fc.record({ afterMs: fc.integer({ min: 0, max: 120_000 }), reading });
    fc.assert(
      fc.property(fc.array(step, { minLength: 2, maxLength: 8 }), (steps) => {
        const meter = new RateMeter();
        let previous: { at: number; reading: Record<string, NodeTotals> } | undefined;
        let at = 0;
        for (const { afterMs, reading: current } of steps) {
          at += afterMs;
          const rates = meter.sample(new Map(Object.entries(current)), at);
          if (!previous || at <= previous.at) {
            assert.equal(rates, undefined);
          } else {
            const seconds = (at - previous.at) / 1000;
            for (const [unit, field, factor] of [
              ["packetsPerSecond", "packets", 1n],
              ["bitsPerSecond", "bytes", 8n],
            ] as const) {
              for (const a of XDP_ACTIONS) {
                let want = 0n;
                for (const [name, now] of Object.entries(current)) {
                  const before = previous.reading[name]?.[field][a];
                  want +=
                    before === undefined || now[field][a] < before ? now[field][a] : now[field][a] - before;
                }
                const got = rates?.[unit][a] ?? 0;
                assert.ok(Number.isFinite(got) && got >= 0, `${unit}.${a} = ${got}`);
                assert.equal(got, Math.round((Number(want * factor) / seconds) * 1000) / 1000);
              }
            }
            if (rates) assert.equal(rates.seconds, Math.round(seconds * 1000) / 1000);
          }
          previous = { at, reading: current };
        }
      }),
    );
  });
});
