// Many XdpCounters and nodes at once: every one converges on one DaemonSet and one ConfigMap, and then the
// operator is quiet (no hot loop); a relabelled node moves from one set of XdpCounters to another without the
// DaemonSet or the ConfigMap being written.
import assert from "node:assert/strict";
import { test } from "node:test";
import { configMapsPath, daemonSetsPath } from "../../runtime/kube/index.ts";
import {
  AGENT_SPECS,
  eventually,
  NAMESPACE,
  startCluster,
  startController,
  xdpCounterYaml,
} from "./harness.ts";

type Status = {
  readyNodes?: number;
  desiredNodes?: number;
  reportingNodes?: number;
  totals?: { packets: { pass: string } };
};

test("20 XdpCounters on 8 nodes converge, then the operator writes nothing; a relabelled node moves", async (t) => {
  const cluster = await startCluster();
  t.after(() => cluster.stop());
  const pool = (n: number) => (n % 2 === 0 ? "even" : "odd");
  for (let n = 0; n < 8; n++) await cluster.addNode(`node-${n}`, { pool: pool(n) });
  const operator = await startController(cluster, { workers: 4 });
  t.after(() => operator.stop());
  const names = Array.from({ length: 20 }, (_, i) => `counter-${i}`);
  const docs = names
    .map((name, i) => xdpCounterYaml(name, { nodeSelector: { pool: pool(i) }, reportInterval: "1s" }))
    .join("\n");
  const apply = await cluster.kubectl(["apply", "-f", "-"], docs);
  assert.equal(apply.code, 0, apply.stderr);
  await eventually(
    async () => Object.keys((await cluster.agentSpecs()) ?? {}).length === 20,
    "20 specs in the ConfigMap",
    20_000,
  );
  await eventually(async () => {
    for (let n = 0; n < 8; n++) if (!(await cluster.hasAgentLabel(`node-${n}`))) return false;
    return true;
  }, "every node labelled");
  assert.equal((await cluster.admin.list(daemonSetsPath(NAMESPACE))).items.length, 1, "one DaemonSet");
  // One agent per node, whatever the number of XdpCounters.
  for (let n = 0; n < 8; n++) await cluster.agentPod(`node-${n}`);
  await Promise.all(
    names.flatMap((name, i) =>
      [0, 2, 4, 6].map((n) =>
        cluster.report(name, `node-${n + (i % 2)}`, { packets: { pass: String(n + 1) } }),
      ),
    ),
  );
  for (const name of names) {
    await eventually(async () => {
      const status = (await cluster.getXdpCounter(name))?.status as Status | undefined;
      return status?.readyNodes === 4 && status.desiredNodes === 4 && status.totals?.packets.pass === "16";
    }, `${name} converged`);
  }
  await new Promise((r) => setTimeout(r, 1_500));
  const before = cluster.operatorWrites().length;
  await new Promise((r) => setTimeout(r, 2_000));
  assert.deepEqual(cluster.operatorWrites().slice(before), [], "quiet once converged");
  assert.equal(operator.controller.queue.depth, 0);

  // node-0 relabelled from even to odd: the even XdpCounters stop counting it at once (their agent there
  // cleans up and deletes its reports), the odd ones select it; neither the DaemonSet nor the agents' ConfigMap
  // is written (no spec changed), and the node keeps its agent label (the odd ones select it).
  const ds = await cluster.daemonSet();
  const cm = await cluster.admin.get(configMapsPath(NAMESPACE, AGENT_SPECS));
  const label = await cluster.kubectl(["label", "node", "node-0", "pool=odd", "--overwrite"]);
  assert.equal(label.code, 0, label.stderr);
  await eventually(async () => {
    const status = (await cluster.getXdpCounter("counter-0"))?.status as Status | undefined;
    return status?.desiredNodes === 3 && status.readyNodes === 3 && status.totals?.packets.pass === "15";
  }, "node-0 no longer counted by counter-0");
  await eventually(
    async () =>
      ((await cluster.getXdpCounter("counter-1"))?.status as Status | undefined)?.desiredNodes === 5,
    "node-0 now desired by counter-1",
  );
  for (const [i, name] of names.entries()) {
    if (i % 2 === 0) await cluster.deleteReport(name, "node-0");
    else await cluster.report(name, "node-0", { packets: { pass: "100" } });
  }
  for (const [i, name] of names.entries()) {
    await eventually(async () => {
      const status = (await cluster.getXdpCounter(name))?.status as Status | undefined;
      return i % 2 === 0
        ? status?.reportingNodes === 3 && status.totals?.packets.pass === "15"
        : status?.reportingNodes === 5 && status.readyNodes === 5 && status.totals?.packets.pass === "116";
    }, `${name} after the move`);
  }
  assert.equal(await cluster.hasAgentLabel("node-0"), true);
  assert.equal((await cluster.daemonSet())?.metadata.resourceVersion, ds?.metadata.resourceVersion);
  const cmAfter = await cluster.admin.get(configMapsPath(NAMESPACE, AGENT_SPECS));
  assert.equal(cmAfter?.metadata.resourceVersion, cm?.metadata.resourceVersion, "the ConfigMap untouched");
});
