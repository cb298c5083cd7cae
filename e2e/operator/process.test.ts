// The operator as a process (node operator/main.ts): configuration checked at start, /healthz, /readyz
// after the caches synced, /metrics, JSON logs, the one agent DaemonSet and the agents' ConfigMap, and a
// graceful stop on SIGTERM.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { daemonSetsPath, leasesPath } from "../../runtime/kube/index.ts";
import {
  AGENT_DAEMONSET,
  eventually,
  freePort,
  NAMESPACE,
  operatorEnv,
  startCluster,
  xdpCounterYaml,
} from "./harness.ts";

const main = join(import.meta.dirname, "..", "..", "operator", "main.ts");

function start(env: Record<string, string>, args: string[] = []) {
  const child = spawn(process.execPath, [main, ...args], { env: { PATH: process.env.PATH ?? "", ...env } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

test("a bad configuration stops the operator at start with every bad setting named", async () => {
  const run = start({ XDP_COUNTER_NAMESPACE: "Bad_NS", XDP_COUNTER_PORT: "99999" });
  assert.equal(await run.exited, 2);
  assert.match(run.err(), /XDP_COUNTER_NAMESPACE or POD_NAMESPACE \(--namespace\)/);
  assert.match(run.err(), /XDP_COUNTER_AGENT_IMAGE \(--agent-image\) is required/);
  assert.match(run.err(), /XDP_COUNTER_PORT \(--port\)/);
});

test("a bad name for the agent DaemonSet, its ConfigMap or the owner Deployment stops the operator, naming it", async () => {
  const run = start({
    ...operatorEnv,
    XDP_COUNTER_AGENT_DAEMONSET: "Agents!",
    XDP_COUNTER_AGENT_SPECS: "specs_",
    XDP_COUNTER_OWNER_DEPLOYMENT: "-op",
  });
  assert.equal(await run.exited, 2);
  assert.match(run.err(), /XDP_COUNTER_AGENT_DAEMONSET \(--agent-daemonset\)/);
  assert.match(run.err(), /XDP_COUNTER_AGENT_SPECS \(--agent-specs\)/);
  assert.match(run.err(), /XDP_COUNTER_OWNER_DEPLOYMENT \(--owner-deployment\)/);
  assert.doesNotMatch(run.err(), /XDP_COUNTER_NAMESPACE/, "only the bad settings");
});

test("the operator process serves health, readiness and metrics, reconciles, logs JSON and stops on SIGTERM", async (t) => {
  const cluster = await startCluster();
  t.after(() => cluster.stop());
  await cluster.addNode("n1");
  const port = await freePort();
  const run = start({
    ...operatorEnv,
    KUBECONFIG: join(cluster.dir, "kubeconfig"),
    XDP_COUNTER_PORT: String(port),
    XDP_COUNTER_OWNER_DEPLOYMENT: "xdp-counter-operator",
  });
  let child: ChildProcess | undefined = run.child;
  t.after(() => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
  });

  await eventually(async () => (await get(port, "/readyz")).status === 200, "readyz", 15_000);
  assert.equal((await get(port, "/healthz")).status, 200);
  const apply = await cluster.kubectl(["apply", "-f", "-"], xdpCounterYaml("edge", {}));
  assert.equal(apply.code, 0, apply.stderr);
  await eventually(async () => (await cluster.agentSpecs())?.edge?.mode === "count", "the agents' spec");
  const { items } = await cluster.admin.list(daemonSetsPath(NAMESPACE));
  assert.deepEqual(
    items.map((ds) => ds.metadata.name),
    [AGENT_DAEMONSET],
  );
  const metrics = await eventually(async () => {
    const { body } = await get(port, "/metrics");
    return /xdpcounter_operator_reconciles_total\{outcome="Synced"\} [1-9]/.test(body) && body;
  }, "reconciles in /metrics");
  for (const name of [
    "xdpcounter_operator_reconcile_errors_total",
    "xdpcounter_operator_workqueue_depth",
    "xdpcounter_operator_reconcile_duration_seconds_bucket",
    "xdpcounter_operator_informer_events_total",
  ]) {
    assert.ok(metrics.includes(name), name);
  }
  assert.equal((await get(port, "/nope")).status, 404);
  const lease = await cluster.admin.get(leasesPath(NAMESPACE, "xdp-counter-operator"));
  assert.match(
    (lease?.spec as { holderIdentity?: string } | undefined)?.holderIdentity ?? "",
    /^xdp-counter-operator_/,
  );

  run.child.kill("SIGTERM");
  assert.equal(await run.exited, 0);
  child = undefined;
  const lines = run
    .out()
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { level: string; msg: string; time: string });
  assert.ok(lines.every((l) => l.time && l.level && l.msg));
  assert.ok(lines.some((l) => l.msg === "caches synced"));
  assert.equal(lines.at(-1)?.msg, "operator stopped");
  assert.ok(lines.some((l) => l.msg === "leader election: acquired"));
  assert.ok(
    lines.some((l) => l.msg === "the owner Deployment does not exist; the agent DaemonSet gets no owner"),
    "XDP_COUNTER_OWNER_DEPLOYMENT names no Deployment: told, not fatal",
  );
  assert.equal((await cluster.daemonSet())?.metadata.ownerReferences, undefined);
  const released = await cluster.admin.get(leasesPath(NAMESPACE, "xdp-counter-operator"));
  assert.equal(
    (released?.spec as { holderIdentity?: string } | undefined)?.holderIdentity,
    "",
    "the Lease is released on SIGTERM",
  );
});
