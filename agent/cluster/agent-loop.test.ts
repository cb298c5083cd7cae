// The agent's loop with a fake API server and a node without interfaces: what it writes, when it retries,
// and that a 404 on the status write alone never makes it remove counters. Needs bpffs (an empty pin root).
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { test } from "node:test";
import type { NodeEntryPatch } from "../../api/v1alpha1/index.ts";
import { createLogger, type LogFields } from "../../runtime/index.ts";
import { Agent } from "./agent.ts";
import type { ClusterApi } from "./cluster-api.ts";
import { AgentError, AgentErrorCode } from "./errors.ts";

const config = {
  xdpCounter: "loop",
  uid: "u",
  generation: 7,
  mode: "count" as const,
  interfaces: ["eth-test-none"],
  attachMode: "auto" as const,
  action: "pass" as const,
  reportIntervalMs: 1_000,
  nodeName: "n1",
};

function setup(
  t: { after: (fn: () => void) => void },
  answers: (n: number) => "written" | "gone" | "fail",
  exists = true,
  extra: { nodeSelector?: Record<string, string>; labels?: () => Record<string, string> | undefined } = {},
) {
  const pinRoot = `/sys/fs/bpf/xdp-counter-test-loop-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  mkdirSync(pinRoot);
  t.after(() => rmSync(pinRoot, { recursive: true, force: true }));
  const patches: NodeEntryPatch[] = [];
  const logs: LogFields[] = [];
  const api: ClusterApi = {
    async patchNodeEntry(_name, patch) {
      const answer = answers(patches.length);
      patches.push(patch);
      if (answer === "fail") throw new AgentError(AgentErrorCode.ApiUnreachable, "connection refused");
      return answer;
    },
    async xdpCounterExists() {
      return exists;
    },
    async nodeInternalIps() {
      return [];
    },
    async nodeLabels() {
      return extra.labels?.();
    },
  };
  const agent = new Agent({
    config: extra.nodeSelector ? { ...config, nodeSelector: extra.nodeSelector } : config,
    api,
    pinRoot,
    pollMs: 100,
    log: createLogger({ level: "debug", write: (line) => logs.push(JSON.parse(line)) }),
    listInterfaces: async () => ({ interfaces: [], primary: undefined }),
    random: () => 1,
  });
  const stop = new AbortController();
  const done = agent.run(stop.signal);
  const finish = (): Promise<void> => {
    stop.abort();
    return done;
  };
  return { agent, patches, logs, stop: finish };
}

const until = async (ok: () => boolean, ms: number): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
};

test("writes the node's entry, retries failures with growing delays, then reports once and stops", async (t) => {
  const run = setup(t, (n) => (n < 2 ? "fail" : "written"));
  await until(() => run.patches.length >= 3, 10_000);
  // The entry does not change from here on: nothing more is written (no heartbeat).
  await new Promise((r) => setTimeout(r, 2_500));
  await run.stop();
  assert.equal(run.patches.length, 3, "two failed writes, one that landed, then none while nothing changes");
  const entry = run.patches[0]?.status.nodes.n1;
  assert.equal(entry?.phase, "Error", "a named interface missing on a node counts on nothing");
  assert.equal(entry?.generation, 7);
  assert.equal(entry?.error, "eth-test-none: no interface eth-test-none on node n1");
  const failures = run.logs
    .filter((l) => l.msg === "report failed; retrying with backoff")
    .map((l) => l.failures);
  assert.deepEqual(failures, [1, 2]);
  assert.equal(run.agent.health.reportErrorsTotal, 2);
  assert.equal(run.agent.health.reportsTotal, 1);
  assert.ok(run.logs.some((l) => l.msg === "reporting again after failures"));
});

test("a 404 on the status write while the XdpCounter still exists removes nothing", async (t) => {
  const run = setup(t, (n) => (n === 0 ? "gone" : "written"), true);
  await until(() => run.patches.length >= 2, 10_000);
  await run.stop();
  assert.ok(!run.logs.some((l) => String(l.msg).startsWith("the XdpCounter is gone")));
});

test("a 404 confirmed by a GET: the agent cleans up and idles, writing nothing more", async (t) => {
  const run = setup(t, () => "gone", false);
  await until(() => run.logs.some((l) => String(l.msg).startsWith("the XdpCounter is gone")), 5_000);
  const writes = run.patches.length;
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(run.patches.length, writes);
  assert.ok(run.agent.healthy(), "idle is healthy");
  await run.stop();
});

test("a node that no longer matches the nodeSelector: the agent cleans up, reports Cleaning then Clean, idles", async (t) => {
  let labels: Record<string, string> = { pool: "edge" };
  const run = setup(t, () => "written", true, { nodeSelector: { pool: "edge" }, labels: () => labels });
  await until(() => run.patches.length >= 1, 5_000);
  assert.notEqual(run.patches[0]?.status.nodes.n1?.phase, "Clean");
  labels = { pool: "core" };
  await until(() => run.patches.some((p) => p.status.nodes.n1?.phase === "Clean"), 5_000);
  const phases = run.patches.map((p) => p.status.nodes.n1?.phase);
  assert.deepEqual(phases.slice(-2), ["Cleaning", "Clean"], "nothing is written after Clean");
  assert.ok(run.logs.some((l) => String(l.msg).includes("no longer matches the XdpCounter's nodeSelector")));
  const writes = run.patches.length;
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(run.patches.length, writes);
  assert.ok(run.agent.healthy());
  await run.stop();
});

test("a Node that cannot be read or does not exist is not taken for a deselected one", async (t) => {
  const run = setup(t, () => "written", true, { nodeSelector: { pool: "edge" }, labels: () => undefined });
  await until(() => run.patches.length >= 1, 5_000);
  await new Promise((r) => setTimeout(r, 2_500)); // two more report intervals, with their label checks
  await run.stop();
  assert.ok(!run.patches.some((p) => p.status.nodes.n1?.phase === "Cleaning"));
  assert.equal(run.patches.length, 1, "unchanged: written once");
});
