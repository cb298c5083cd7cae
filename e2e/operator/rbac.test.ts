// The operator runs with exactly the permissions of OPERATOR_CLUSTER_RULES, OPERATOR_NAMESPACE_RULES and
// OPERATOR_EVENTS_RULES, as a ServiceAccount, through create, status, a deselected node (the cleanup DaemonSet
// created, then deleted), deletion, leader election, and Events (created, and patched into a series).
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseOperatorConfig } from "../../operator/config/index.ts";
import {
  Controller,
  createMetrics,
  daemonSetsPath,
  eventsPath,
  HttpKubeClient,
  LeaderElector,
  loadKubeConfig,
  OPERATOR_CLUSTER_RULES,
  OPERATOR_EVENTS_NAMESPACE,
  OPERATOR_EVENTS_RULES,
  OPERATOR_NAMESPACE_RULES,
} from "../../operator/controller/index.ts";
import { silentLogger } from "../../runtime/index.ts";
import { eventually, NAMESPACE, operatorEnv, startCluster, xdpCounterYaml } from "./harness.ts";

const rbac = "/apis/rbac.authorization.k8s.io/v1";

test("the operator works with only the permissions it declares", async (t) => {
  const cluster = await startCluster();
  t.after(() => cluster.stop());
  const { admin } = cluster;
  await cluster.addNode("n1", { pool: "edge" });
  await cluster.addNode("n2", { pool: "edge" });
  await admin.create(`/api/v1/namespaces/${NAMESPACE}/serviceaccounts`, { metadata: { name: "operator" } });
  const subjects = [{ kind: "ServiceAccount", name: "operator", namespace: NAMESPACE }];
  await admin.create(`${rbac}/clusterroles`, {
    metadata: { name: "xdp-counter-operator" },
    rules: OPERATOR_CLUSTER_RULES,
  });
  await admin.create(`${rbac}/clusterrolebindings`, {
    metadata: { name: "xdp-counter-operator" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "xdp-counter-operator" },
    subjects,
  });
  await admin.create(`${rbac}/namespaces/${NAMESPACE}/roles`, {
    metadata: { name: "xdp-counter-operator" },
    rules: OPERATOR_NAMESPACE_RULES,
  });
  await admin.create(`${rbac}/namespaces/${NAMESPACE}/rolebindings`, {
    metadata: { name: "xdp-counter-operator" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "xdp-counter-operator" },
    subjects,
  });
  await admin.create(`${rbac}/namespaces/${OPERATOR_EVENTS_NAMESPACE}/roles`, {
    metadata: { name: "xdp-counter-operator-events" },
    rules: OPERATOR_EVENTS_RULES,
  });
  await admin.create(`${rbac}/namespaces/${OPERATOR_EVENTS_NAMESPACE}/rolebindings`, {
    metadata: { name: "xdp-counter-operator-events" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "xdp-counter-operator-events" },
    subjects,
  });

  const client = new HttpKubeClient(
    await loadKubeConfig(await cluster.serviceAccountKubeconfig(NAMESPACE, "operator")),
  );
  const elector = new LeaderElector({
    client,
    namespace: NAMESPACE,
    name: "xdp-counter-operator",
    identity: "op",
  });
  assert.equal(await elector.tryAcquireOrRenew(), true, "creates the Lease");
  assert.equal(await elector.tryAcquireOrRenew(), true, "renews the Lease");

  const controller = new Controller({
    client,
    config: parseOperatorConfig(operatorEnv),
    log: silentLogger,
    metrics: createMetrics(),
    maxWatchFailures: 3,
  });
  t.after(() => controller.stop());
  await controller.start();
  const apply = await cluster.kubectl(
    ["apply", "-f", "-"],
    xdpCounterYaml("edge", { nodeSelector: { pool: "edge" } }),
  );
  assert.equal(apply.code, 0, apply.stderr);
  await eventually(
    async () => (await admin.list(daemonSetsPath(NAMESPACE))).items.length === 1,
    "the DaemonSet",
  );
  await cluster.report("edge", "n1", {});
  await cluster.agentPod("edge", "n1");
  await eventually(
    async () =>
      ((await cluster.getXdpCounter("edge"))?.status as { readyNodes?: number } | undefined)?.readyNodes ===
      1,
    "status written",
  );
  // n2 deselected: its clean-mode agent comes from the cleanup DaemonSet, which goes once n2 is Clean.
  await cluster.report("edge", "n2", {});
  const label = await cluster.kubectl(["label", "node", "n2", "pool-", "--overwrite"]);
  assert.equal(label.code, 0, label.stderr);
  const cleanup = `${daemonSetsPath(NAMESPACE)}/xdp-counter-edge-cleanup`;
  await eventually(async () => (await admin.get(cleanup)) !== undefined, "the cleanup DaemonSet");
  await cluster.report("edge", "n2", { phase: "Clean" });
  await eventually(async () => (await admin.get(cleanup)) === undefined, "the cleanup DaemonSet deleted");

  const del = await cluster.kubectl(["delete", "xdpc", "edge", "--wait=false"]);
  assert.equal(del.code, 0, del.stderr);
  await cluster.report("edge", "n1", { phase: "Clean" });
  await eventually(async () => (await cluster.getXdpCounter("edge")) === undefined, "finalizer removed");
  await controller.flushEvents();
  const reasons = (await admin.list(eventsPath(OPERATOR_EVENTS_NAMESPACE))).items.map((e) => e.reason);
  for (const reason of [
    "DaemonSetCreated",
    "CleanupDaemonSetCreated",
    "CleanupDaemonSetDeleted",
    "CleanedUp",
  ])
    assert.ok(reasons.includes(reason), `Event ${reason} written (${reasons.join(", ")})`);
  // Its agent pod flips Ready twice: the second NodesNotReady is a patch of the first one's series.
  const second = await cluster.kubectl(["apply", "-f", "-"], xdpCounterYaml("edge2", {}));
  assert.equal(second.code, 0, second.stderr);
  await eventually(
    async () => (await admin.get(`${daemonSetsPath(NAMESPACE)}/xdp-counter-edge2`)) !== undefined,
    "the second DaemonSet",
  );
  await cluster.report("edge2", "n1", {});
  await cluster.report("edge2", "n2", {});
  await cluster.agentPod("edge2", "n2", true);
  for (const ready of [true, false, true, false]) {
    await cluster.agentPod("edge2", "n1", ready);
    await eventually(
      async () =>
        ((await cluster.getXdpCounter("edge2"))?.status as { readyNodes?: number } | undefined)
          ?.readyNodes === (ready ? 2 : 1),
      "readiness followed",
    );
  }
  // the Event follows the status write the test waited for, in the same reconcile: wait for it too
  await eventually(async () => {
    await controller.flushEvents();
    const series = (await admin.list(eventsPath(OPERATOR_EVENTS_NAMESPACE))).items.find(
      (e) => e.reason === "NodesNotReady",
    )?.series as { count?: number } | undefined;
    return series?.count === 2;
  }, "the series patched");
  const operator = `system:serviceaccount:${NAMESPACE}:operator`;
  const requests = await eventually(() => {
    const all = cluster.requests().filter((r) => r.user === operator);
    return all.some((r) => r.method === "PATCH" && r.url.includes("/events/")) && all;
  }, "a patch on an Event was made");
  assert.ok(controller.healthy);
  const forbidden = requests.filter((r) => r.status === 403);
  assert.deepEqual(forbidden, [], "nothing was forbidden");
});
