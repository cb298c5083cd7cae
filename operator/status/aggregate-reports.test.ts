import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  type ActionCounters,
  parseU64,
  U64_MAX,
  XDP_ACTIONS,
  type XdpAction,
  zeroCounters,
} from "../../api/v1alpha1/index.ts";
import { makeReport, makeXdpCounter } from "../../testing/operator.ts";
import { aggregateReports, summarizeInterfaces } from "./aggregate-reports.ts";

const nodes = [{ name: "a" }, { name: "b" }, { name: "c" }];
const readyAgents = new Set(["a", "b", "c"]);
const xdpc = makeXdpCounter("edge");

describe("aggregateReports", () => {
  it("sums counters exactly above 2^53, and caps at 2^64 - 1", () => {
    const result = aggregateReports(
      xdpc,
      [
        makeReport(xdpc, "a", { packets: { pass: "9007199254740993", drop: "18446744073709551000" } }),
        makeReport(xdpc, "b", { packets: { pass: "9007199254740993", drop: "615" }, bytes: { pass: "64" } }),
        makeReport(xdpc, "c", { packets: { drop: "1" } }),
      ],
      { nodes, readyAgents },
    );
    assert.deepEqual(result.totals.packets, {
      ...zeroCounters(),
      pass: "18014398509481986",
      drop: "18446744073709551615",
    });
    assert.equal(result.totals.bytes.pass, "64");
    assert.equal(result.reportingNodes, 3);
  });

  it("sums the nodes' rates by action and in all, over Counting reports only", () => {
    const rates = (pass: number, drop = 0) => ({
      packetsPerSecond: { pass, ...(drop ? { drop } : {}) },
      bitsPerSecond: { pass: pass * 1000, ...(drop ? { drop: drop * 512 } : {}) },
      seconds: 10,
    });
    const result = aggregateReports(
      xdpc,
      [
        makeReport(xdpc, "a", { rates: rates(100.5) }),
        makeReport(xdpc, "b", { rates: rates(0.25, 3) }),
        makeReport(xdpc, "c", { phase: "Error", error: "no interface", rates: rates(1_000) }),
      ],
      { nodes, readyAgents },
    );
    assert.deepEqual(result.rates, {
      packetsPerSecond: { aborted: 0, drop: 3, pass: 100.75, tx: 0, redirect: 0 },
      bitsPerSecond: { aborted: 0, drop: 1536, pass: 100_750, tx: 0, redirect: 0 },
      totalPacketsPerSecond: 103.75,
      totalBitsPerSecond: 102_286,
    });
    assert.deepEqual(result.nodeErrors, [{ node: "c", message: "no interface" }]);
  });

  it("ready: selected, Counting and a Ready agent pod; the rest are named", () => {
    const result = aggregateReports(
      xdpc,
      [makeReport(xdpc, "a"), makeReport(xdpc, "b"), makeReport(xdpc, "c", { phase: "Error" })],
      { nodes: [...nodes, { name: "d" }], readyAgents: new Set(["a", "c", "d"]) },
    );
    assert.equal(result.desiredNodes, 4);
    assert.equal(result.readyNodes, 1);
    assert.deepEqual(result.notReadyNodes, ["b", "c", "d"]);
  });

  it("a node no longer selected still cleans up: not counted, listed as cleaning", () => {
    const selective = makeXdpCounter("edge", { nodeSelector: { pool: "edge" } });
    const labelled = [
      { name: "a", labels: { pool: "edge" } },
      { name: "b", labels: { pool: "core" } },
    ];
    const result = aggregateReports(
      selective,
      [
        makeReport(selective, "a", { packets: { pass: "5" } }),
        makeReport(selective, "b", { phase: "Cleaning", packets: { pass: "7" } }),
      ],
      { nodes: labelled, readyAgents },
    );
    assert.equal(result.totals.packets.pass, "5");
    assert.deepEqual([result.desiredNodes, result.reportingNodes], [1, 1]);
    assert.deepEqual(result.cleaningNodes, ["b"]);
    // while the XdpCounter is being deleted every report is still counted: the finalizer waits on them
    const deleting = makeXdpCounter("edge", { nodeSelector: { pool: "edge" } }, undefined, {
      deletionTimestamp: "2026-12-03T12:00:00Z",
    });
    const gone = aggregateReports(
      deleting,
      [
        makeReport(deleting, "a", { packets: { pass: "5" } }),
        makeReport(deleting, "b", { packets: { pass: "7" } }),
      ],
      { nodes: labelled, readyAgents },
    );
    assert.equal(gone.totals.packets.pass, "12");
    assert.deepEqual(gone.cleaningNodes, []);
  });

  it("reports of an earlier XdpCounter of the same name, or of a node that is gone, are stale", () => {
    const earlier = makeXdpCounter("edge", {}, undefined, { uid: "earlier-uid" });
    const result = aggregateReports(
      xdpc,
      [
        makeReport(earlier, "a", { packets: { pass: "1000" } }),
        makeReport(xdpc, "b", { packets: { pass: "1" } }),
        makeReport(xdpc, "gone", { packets: { pass: "50" } }),
      ],
      { nodes, readyAgents },
    );
    assert.deepEqual(result.staleReports, ["edge.a", "edge.gone"]);
    assert.equal(result.totals.packets.pass, "1");
    assert.equal(result.reportingNodes, 1);
  });

  it("summarizes attached interfaces and lists interface problems with their holder", () => {
    const counting = (name: string, mode: "native" | "generic") => ({
      name,
      mode,
      attached: true,
      packets: {},
      bytes: {},
    });
    const result = aggregateReports(
      xdpc,
      [
        makeReport(xdpc, "a", { interfaces: [counting("eth0", "native")] }),
        makeReport(xdpc, "b", { interfaces: [counting("eth0", "native")] }),
        makeReport(xdpc, "c", {
          interfaces: [
            {
              name: "eth0",
              mode: "",
              attached: false,
              packets: {},
              bytes: {},
              reason: "HeldByXdpCounter",
              heldBy: "first",
              error: "eth0 is counted by XdpCounter first on this node",
            },
          ],
        }),
      ],
      { nodes, readyAgents },
    );
    assert.equal(result.interfaces, "eth0/native=2");
    assert.deepEqual(result.interfaceErrors, [
      {
        node: "c",
        interface: "eth0",
        reason: "HeldByXdpCounter",
        message: "eth0 is counted by XdpCounter first on this node",
      },
    ]);
  });
});

/** A u64 counter: small ones, ones near 2^64 − 1 (so that sums pass it), and any. */
const u64 = fc.oneof(
  fc.bigInt({ min: 0n, max: 10_000n }),
  fc.bigInt({ min: U64_MAX - 10_000n, max: U64_MAX }),
  fc.bigInt({ min: 0n, max: U64_MAX }),
);
type NodeCounts = Partial<Record<XdpAction, bigint>>;
/** A node's counters as its agent writes them: some actions absent (they counted 0). */
const nodeCounts: fc.Arbitrary<NodeCounts> = fc.record(
  Object.fromEntries(XDP_ACTIONS.map((a) => [a, u64])) as Record<XdpAction, typeof u64>,
  { requiredKeys: [] },
);
const asText = (counts: NodeCounts): ActionCounters =>
  Object.fromEntries(Object.entries(counts).map(([a, v]) => [a, v.toString()]));
/** The nodes' counters, packets and bytes, as reports of nodes n0, n1, …; their totals. */
function aggregate(counts: readonly { packets: NodeCounts; bytes: NodeCounts }[]) {
  const names = counts.map((_, i) => `n${i}`);
  const reports = counts.map((c, i) =>
    makeReport(xdpc, names[i] as string, { packets: asText(c.packets), bytes: asText(c.bytes) }),
  );
  return aggregateReports(xdpc, reports, {
    nodes: names.map((name) => ({ name })),
    readyAgents: new Set(names),
  }).totals;
}
const exactSum = (counts: readonly NodeCounts[], a: XdpAction) =>
  counts.reduce((t, c) => t + (c[a] ?? 0n), 0n);
const capped = (sum: bigint) => (sum > U64_MAX ? U64_MAX : sum);
const node = fc.record({ packets: nodeCounts, bytes: nodeCounts });

describe("aggregateReports, for any counters", () => {
  it("totals are the exact sums of the nodes' u64 counters, stopping at 2^64 - 1", () => {
    fc.assert(
      fc.property(fc.array(node, { minLength: 1, maxLength: 40 }), (counts) => {
        const totals = aggregate(counts);
        for (const field of ["packets", "bytes"] as const) {
          assert.deepEqual(Object.keys(totals[field]), [...XDP_ACTIONS], "all five actions");
          for (const a of XDP_ACTIONS) {
            const want = capped(
              exactSum(
                counts.map((c) => c[field]),
                a,
              ),
            );
            assert.equal(totals[field][a], want.toString(), `${field}.${a}`);
          }
        }
      }),
    );
  });

  it("a node whose counters went back (rebooted, its pins gone) takes the totals down by what it lost, never below 0", () => {
    // each node's counters before; then some nodes start again from 0 and count a part of what they had
    const before = fc.array(node, { minLength: 1, maxLength: 20 });
    const resets = fc.array(fc.record({ reset: fc.boolean(), kept: fc.bigInt({ min: 0n, max: 1000n }) }), {
      minLength: 20,
      maxLength: 20,
    });
    fc.assert(
      fc.property(before, resets, (counts, how) => {
        const after = counts.map((c, i) => {
          const { reset, kept } = how[i] as { reset: boolean; kept: bigint };
          if (!reset) return c;
          const back = (n: NodeCounts): NodeCounts =>
            Object.fromEntries(Object.entries(n).map(([a, v]) => [a, (v * kept) / 1000n]));
          return { packets: back(c.packets), bytes: back(c.bytes) };
        });
        const was = aggregate(counts);
        const now = aggregate(after);
        for (const field of ["packets", "bytes"] as const) {
          for (const a of XDP_ACTIONS) {
            const total = parseU64(now[field][a]);
            assert.ok(total >= 0n && total <= U64_MAX);
            assert.ok(total <= parseU64(was[field][a]), "a reset never raises a total");
            const sumBefore = exactSum(
              counts.map((c) => c[field]),
              a,
            );
            const sumAfter = exactSum(
              after.map((c) => c[field]),
              a,
            );
            assert.equal(total, capped(sumAfter));
            // below the cap, the drop is exactly what the reset nodes had counted and no longer hold
            if (sumBefore <= U64_MAX) assert.equal(parseU64(was[field][a]) - total, sumBefore - sumAfter);
          }
        }
      }),
    );
  });

  it("rates are the sums of the Counting nodes' rates, never negative", () => {
    const rate = fc.double({ min: 0, max: 1e12, noNaN: true });
    const rates = fc.record({
      packetsPerSecond: fc.record(Object.fromEntries(XDP_ACTIONS.map((a) => [a, rate])), {
        requiredKeys: [],
      }),
      bitsPerSecond: fc.record(Object.fromEntries(XDP_ACTIONS.map((a) => [a, rate])), { requiredKeys: [] }),
      seconds: fc.double({ min: 0, max: 3600, noNaN: true }),
    });
    const nodeRates = fc.record({ phase: fc.constantFrom("Counting", "Error", "Cleaning"), rates });
    fc.assert(
      fc.property(fc.array(nodeRates, { minLength: 1, maxLength: 30 }), (given) => {
        const names = given.map((_, i) => `n${i}`);
        const reports = given.map((g, i) =>
          makeReport(xdpc, names[i] as string, { phase: g.phase as "Counting", rates: g.rates }),
        );
        const result = aggregateReports(xdpc, reports, {
          nodes: names.map((name) => ({ name })),
          readyAgents: new Set(names),
        }).rates;
        for (const unit of ["packetsPerSecond", "bitsPerSecond"] as const) {
          for (const a of XDP_ACTIONS) {
            const want = given
              .filter((g) => g.phase === "Counting")
              .reduce((t, g) => t + ((g.rates[unit] as Partial<Record<XdpAction, number>>)[a] ?? 0), 0);
            const got = result[unit][a];
            assert.ok(Number.isFinite(got) && got >= 0, `${unit}.${a} = ${got}`);
            assert.ok(Math.abs(got - want) <= 0.0005 + want * 1e-12, `${unit}.${a}: ${got} vs ${want}`);
          }
        }
        assert.ok(result.totalPacketsPerSecond >= 0 && result.totalBitsPerSecond >= 0);
      }),
    );
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
