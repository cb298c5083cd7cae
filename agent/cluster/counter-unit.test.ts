import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AgentConfig } from "../../api/v1alpha1/index.ts";
import { silentLogger } from "../../runtime/index.ts";
import { type Counters, zeroCounters } from "../bpf/index.ts";
import type { Inventory } from "../interfaces/index.ts";
import { type CounterSource, CounterUnit, type ReportSink } from "./counter-unit.ts";
import type { InterfaceState } from "./reconciler.ts";
import type { ReportBody } from "./report.ts";

const config: AgentConfig = {
  xdpCounter: "edge",
  uid: "edge-uid",
  generation: 1,
  mode: "count",
  interfaces: ["eth1"],
  attachMode: "auto",
  action: "pass",
  reportIntervalMs: 10_000,
  nodeName: "node-1",
};
const inventory = { interfaces: [] } as unknown as Inventory;

/** Counters that attach on the first reconcile and count what the test says. */
class FakeSource implements CounterSource {
  attached = false;
  reconciles = 0;
  cleaned = 0;
  packets = 0n;
  config = config;
  readonly ready = true;
  readonly nodeProblem = undefined;
  reconcile(): void {
    this.reconciles++;
    this.attached = true;
  }
  states(): InterfaceState[] {
    if (!this.attached) return [];
    const counters: Counters = zeroCounters();
    counters.pass = { packets: this.packets, bytes: this.packets * 64n };
    return [{ name: "eth1", attached: true, mode: "native", counters, problem: undefined }];
  }
  setNodeProblem(): void {}
  setConfig(c: AgentConfig): void {
    this.config = c;
  }
  cleanAll(): string[] {
    this.cleaned++;
    this.attached = false;
    return ["eth1"];
  }
  close(): void {}
}

class FakeSink implements ReportSink {
  applied: ReportBody[] = [];
  removed: string[] = [];
  failNext = 0;
  async apply(body: ReportBody): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error("connection refused");
    }
    this.applied.push(body);
  }
  async remove(name: string): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error("connection refused");
    }
    this.removed.push(name);
  }
}

async function settle(unit: CounterUnit, nowMs: number): Promise<void> {
  unit.maybeReport(nowMs);
  await unit.close(); // waits for the write
}

describe("a CounterUnit", () => {
  it("writes its report before it attaches anything, then reports what it counts", async () => {
    const source = new FakeSource();
    const sink = new FakeSink();
    const unit = new CounterUnit({ config, source, sink, log: silentLogger, random: () => 0.5 });
    unit.poll(inventory, new Set());
    assert.equal(source.reconciles, 0, "no attach before the report exists");
    await settle(unit, 1_000);
    assert.equal(sink.applied.length, 1);
    assert.deepEqual(sink.applied[0]?.interfaces, []);
    unit.poll(inventory, new Set());
    assert.equal(source.reconciles, 1);
    source.packets = 42n;
    await settle(unit, unit.nextReportMs);
    assert.equal(sink.applied.at(-1)?.packets.pass, "42");
  });

  it("a restarted agent whose pins exist counts at once and reports the counts it finds", async () => {
    const source = new FakeSource();
    const sink = new FakeSink();
    const unit = new CounterUnit({ config, source, sink, log: silentLogger, reported: true });
    source.attached = true;
    source.packets = 7n;
    await settle(unit, 0);
    assert.equal(sink.applied.length, 0, "no report before a poll has read the pinned counters");
    assert.equal(unit.wantsPoll, true);
    unit.poll(inventory, new Set());
    await settle(unit, 0);
    assert.equal(sink.applied[0]?.packets.pass, "7", "never a report of 0 for counters that exist");
  });

  it("skips unchanged reports, backs off after failures, and reports rates over the interval", async () => {
    const source = new FakeSource();
    const sink = new FakeSink();
    const unit = new CounterUnit({
      config,
      source,
      sink,
      log: silentLogger,
      reported: true,
      random: () => 0.5,
    });
    unit.poll(inventory, new Set());
    source.packets = 1_000n;
    await settle(unit, 0);
    source.packets = 26_000n;
    await settle(unit, 10_000);
    assert.deepEqual(sink.applied.at(-1)?.rates?.packetsPerSecond, { pass: 2_500 });
    const writes = sink.applied.length;
    await settle(unit, 20_000); // rates fall to none: one more write
    await settle(unit, 30_000); // then nothing changes
    assert.equal(sink.applied.length, writes + 1);
    source.packets = 30_000n;
    sink.failNext = 1;
    await settle(unit, 40_000);
    assert.equal(unit.health.reportErrorsTotal, 1);
    assert.ok(unit.nextReportMs - 40_000 >= 1_000, "a failed write waits before the next try");
    await settle(unit, unit.nextReportMs);
    assert.equal(sink.applied.at(-1)?.packets.pass, "30000", "the next report has the exact total");
  });

  it("a new spec is applied in place by a poll at once, and reported once applied", async () => {
    const source = new FakeSource();
    const sink = new FakeSink();
    const unit = new CounterUnit({
      config,
      source,
      sink,
      log: silentLogger,
      reported: true,
      random: () => 0.5,
    });
    unit.poll(inventory, new Set());
    await settle(unit, 0);
    const before = sink.applied.length;
    unit.update({ ...config, generation: 2, action: "drop" });
    assert.equal(source.config.action, "drop");
    assert.equal(unit.wantsPoll, true, "a poll applies it at once");
    await settle(unit, 1);
    assert.equal(sink.applied.length, before, "no report of generation 2 before it is applied");
    const reconciles = source.reconciles;
    unit.poll(inventory, new Set());
    assert.equal(source.reconciles, reconciles + 1);
    await settle(unit, 1);
    assert.equal(sink.applied.at(-1)?.generation, 2, "reported once applied");
  });

  it("clean: detaches first, then deletes the report; a failed delete is tried again", async () => {
    const source = new FakeSource();
    const sink = new FakeSink();
    const unit = new CounterUnit({ config, source, sink, log: silentLogger, reported: true });
    unit.poll(inventory, new Set());
    sink.failNext = 1;
    assert.equal(await unit.clean("deselected"), false);
    assert.equal(source.attached, false, "the counters go even while the API server is unreachable");
    assert.equal(await unit.clean("deselected"), true);
    assert.deepEqual(sink.removed, ["edge"]);
  });
});
