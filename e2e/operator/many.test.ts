// Many XdpCounters and nodes at once: every one converges, and then the operator is quiet (no hot loop).
import assert from "node:assert/strict";
import { test } from "node:test";
import { daemonSetsPath } from "../../operator/controller/index.ts";
import { eventually, NAMESPACE, startCluster, startController, xdpCounterYaml } from "./harness.ts";

test("20 XdpCounters on 8 nodes converge, then the operator writes nothing; a relabelled node moves", async (t) => {
  const cluster = await startCluster();
  t.after(() => cluster.stop());
  for (let n = 0; n < 8; n++) await cluster.addNode(`node-${n}`, { pool: n % 2 === 0 ? "even" : "odd" });
  const operator = await startController(cluster, { workers: 4 });
  t.after(() => operator.stop());
  const names = Array.from({ length: 20 }, (_, i) => `counter-${i}`);
  const docs = names
    .map((name, i) => xdpCounterYaml(name, { nodeSelector: { pool: i % 2 === 0 ? "even" : "odd" } }))
    .join("\n");
  const apply = await cluster.kubectl(["apply", "-f", "-"], docs);
  assert.equal(apply.code, 0, apply.stderr);
  await eventually(
    async () => (await cluster.admin.list(daemonSetsPath(NAMESPACE))).items.length === 20,
    "20 DaemonSets",
    20_000,
  );
  await Promise.all(
    names.flatMap((name, i) =>
      [0, 2, 4, 6].map((n) =>
        Promise.all([
          cluster.report(name, `node-${n + (i % 2)}`, {
            // half as agents write entries now (zero actions left out), half as they did before
            packets:
              n % 4 === 0
                ? { pass: String(n + 1) }
                : { aborted: "0", drop: "0", pass: String(n + 1), tx: "0", redirect: "0" },
          }),
          cluster.agentPod(name, `node-${n + (i % 2)}`),
        ]),
      ),
    ),
  );
  for (const name of names) {
    await eventually(async () => {
      const status = (await cluster.getXdpCounter(name))?.status as
        | { readyNodes?: number; desiredNodes?: number; totals?: { packets: { pass: string } } }
        | undefined;
      return status?.readyNodes === 4 && status.desiredNodes === 4 && status.totals?.packets.pass === "16";
    }, `${name} converged`);
  }
  await new Promise((r) => setTimeout(r, 500));
  const before = cluster.operatorWrites().length;
  await new Promise((r) => setTimeout(r, 1_500));
  assert.deepEqual(cluster.operatorWrites().slice(before), [], "quiet once converged");
  assert.equal(operator.controller.queue.depth, 0);

  // A node relabelled out of a selector gets a clean-mode agent from the cleanup DaemonSet until that agent
  // reports Clean (ADR 0012): its entry stays, uncounted; the totals follow at once; once Clean, the entry and
  // the cleanup DaemonSet go. The counting DaemonSet is never rewritten.
  const countingPath = `${daemonSetsPath(NAMESPACE)}/xdp-counter-counter-0`;
  const cleanupPath = `${daemonSetsPath(NAMESPACE)}/xdp-counter-counter-0-cleanup`;
  const counting = await cluster.admin.get(countingPath);
  assert.ok(counting);
  const label = await cluster.kubectl(["label", "node", "node-0", "pool=odd", "--overwrite"]);
  assert.equal(label.code, 0, label.stderr);
  type Status = {
    nodes?: Record<string, unknown>;
    desiredNodes?: number;
    totals?: { packets: { pass: string } };
  };
  await eventually(async () => {
    const status = (await cluster.getXdpCounter("counter-0"))?.status as Status | undefined;
    return (
      status?.desiredNodes === 3 && "node-0" in (status.nodes ?? {}) && status.totals?.packets.pass === "15"
    );
  }, "node-0 kept by counter-0 while cleaning, not counted");
  await eventually(async () => {
    const ds = await cluster.admin.get(cleanupPath);
    return JSON.stringify(ds?.spec).includes('"values":["node-0"]');
  }, "counter-0's cleanup DaemonSet runs on node-0");
  await cluster.report("counter-0", "node-0", { phase: "Clean" });
  await eventually(async () => {
    const status = (await cluster.getXdpCounter("counter-0"))?.status as Status | undefined;
    return (
      status?.desiredNodes === 3 &&
      !("node-0" in (status.nodes ?? {})) &&
      status.totals?.packets.pass === "15"
    );
  }, "node-0's entry removed from counter-0 once Clean");
  await eventually(
    async () =>
      ((await cluster.getXdpCounter("counter-1"))?.status as { desiredNodes?: number } | undefined)
        ?.desiredNodes === 5,
    "node-0 now desired by counter-1",
  );
  await eventually(
    async () => (await cluster.admin.get(cleanupPath)) === undefined,
    "the cleanup DaemonSet deleted",
  );
  const after = await cluster.admin.get(countingPath);
  assert.equal(
    after?.metadata.resourceVersion,
    counting.metadata.resourceVersion,
    "counting DaemonSet untouched",
  );
});
