import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { silentLogger } from "../../runtime/index.ts";
import { type Counters, zeroCounters } from "../bpf/index.ts";
import type { Inventory } from "../interfaces/index.ts";
import { type CounterSource, CounterUnit, type ReportSink } from "./counter-unit.ts";
import type { InterfaceState } from "./reconciler.ts";
import type { ReportBody } from "./report.ts";
import { reportInTurn, WriteBudget } from "./write-budget.ts";

describe("a node's write budget", () => {
  it("holds up to its capacity, refills at its rate, and says when the next write may go", () => {
    const b = new WriteBudget(2, 0); // one every 30 s; full at the start
    assert.equal(b.take(0, 3), true);
    assert.equal(b.take(0, 3), true);
    assert.equal(b.take(0, 3), true);
    assert.equal(b.take(0, 3), false, "the bucket is empty");
    assert.equal(b.nextAt(0, 3), 30_000);
    assert.equal(b.available(29_999, 3), false);
    assert.equal(b.take(30_000, 3), true);
    // a long quiet spell fills it to its capacity, not beyond
    assert.equal(b.nextAt(10 * 60_000, 3), 10 * 60_000);
    assert.equal([1, 2, 3, 4].filter(() => b.take(10 * 60_000, 3)).length, 3);
  });

  it("refuses a rate that is not a positive number, naming it", () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY])
      assert.throws(() => new WriteBudget(bad, 0), /report writes per minute must be a positive number/);
  });
});

/** Counters that grow by 1,000 packets every second of the simulated clock. */
class Growing implements CounterSource {
  readonly ready = true;
  readonly nodeProblem = undefined;
  nowMs = 0;
  reconcile(): void {}
  states(): InterfaceState[] {
    const counters: Counters = zeroCounters();
    const p = BigInt(Math.floor(this.nowMs));
    counters.pass = { packets: p, bytes: p * 64n };
    return [{ name: "eth0", attached: true, mode: "native", counters, problem: undefined }];
  }
  setNodeProblem(): void {}
  setConfig(): void {}
  cleanAll(): string[] {
    return [];
  }
  close(): void {}
}

class Sink implements ReportSink {
  readonly writes: { atMs: number; xdpCounter: string; body: ReportBody }[] = [];
  nowMs = 0;
  async apply(body: ReportBody): Promise<void> {
    this.writes.push({ atMs: this.nowMs, xdpCounter: body.xdpCounter.name, body });
  }
  async remove(): Promise<void> {}
}

/** An XdpCounter's unit on node-1, at 10 s, writing into `sink` from `source`. */
function unitOf(
  name: string,
  o: { source: CounterSource; sink: ReportSink; reported: boolean; random: () => number },
): CounterUnit {
  return new CounterUnit({
    config: {
      xdpCounter: name,
      uid: `${name}-uid`,
      generation: 1,
      mode: "count",
      interfaces: ["eth0"],
      attachMode: "auto",
      action: "pass",
      reportIntervalMs: 10_000,
      nodeName: "node-1",
    },
    source: o.source,
    sink: o.sink,
    log: silentLogger,
    reported: o.reported,
    random: o.random,
  });
}

describe("reports taking turns at a node's budget", () => {
  it("three XdpCounters at 10 s under one write a minute: the node writes at its budget, each in turn", async () => {
    const sink = new Sink();
    const source = new Growing();
    const units = ["a", "b", "c"].map((name, k) =>
      unitOf(name, { source, sink, reported: true, random: () => (k + 1) / 4 }),
    );
    for (const unit of units) unit.poll({ interfaces: [] } as unknown as Inventory, new Set());
    const budget = new WriteBudget(1, 0);
    const minutes = 30;
    for (let t = 0; t <= minutes * 60_000; t += 1_000) {
      source.nowMs = t;
      sink.nowMs = t;
      reportInTurn(units, t, budget);
      await Promise.all(units.map((u) => u.close())); // the writes started, answered
    }
    // a full bucket (3) at the start, then one a minute
    assert.equal(sink.writes.length, units.length + minutes);
    const per = (name: string) => sink.writes.filter((w) => w.xdpCounter === name);
    for (const name of ["a", "b", "c"]) {
      const times = per(name).map((w) => w.atMs);
      assert.ok(times.length >= minutes / 3, `${name}: ${times.length} writes`);
      // in turn: no report waits much more than three budget periods
      for (let i = 1; i < times.length; i++)
        assert.ok(
          (times[i] ?? 0) - (times[i - 1] ?? 0) <= 3 * 60_000 + 1_000,
          `${name}: ${times.join(", ")}`,
        );
    }
    // the rates are over the time since the report's own last write: 1,000 packets/s exactly
    for (const w of sink.writes.slice(units.length))
      assert.equal(w.body.rates?.packetsPerSecond?.pass, 1_000, JSON.stringify(w.body.rates));
    // the last write of each carries the exact counters at its time
    for (const name of ["a", "b", "c"]) {
      const last = per(name).at(-1);
      assert.equal(last?.body.packets.pass, String(last?.atMs));
    }
  });

  it("without a budget every due report writes; a report's first write never waits for the budget", async () => {
    const sink = new Sink();
    const source = new Growing();
    const make = (name: string, reported: boolean) =>
      unitOf(name, { source, sink, reported, random: () => 0.5 });
    const free = [make("a", true), make("b", true)];
    for (const unit of free) unit.poll({ interfaces: [] } as unknown as Inventory, new Set());
    reportInTurn(free, 0);
    await Promise.all(free.map((u) => u.close()));
    assert.deepEqual(
      sink.writes.map((w) => w.xdpCounter),
      ["a", "b"],
    );

    const spent = new WriteBudget(1, 0);
    assert.equal(spent.take(0, 1), true);
    const fresh = make("new", false);
    const next = reportInTurn([fresh], 0, spent);
    await fresh.close();
    assert.equal(sink.writes.at(-1)?.xdpCounter, "new", "the report is created at once");
    assert.equal(next, Number.POSITIVE_INFINITY, "and then waits for its first poll");
  });
});
