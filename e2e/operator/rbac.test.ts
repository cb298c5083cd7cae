// The operator runs with exactly the permissions of OPERATOR_CLUSTER_RULES, OPERATOR_NAMESPACE_RULES and
// OPERATOR_EVENTS_RULES, as a ServiceAccount, the whole process as `xdp-counter operator` starts it (its owner
// Deployment read, leader election on): the agent DaemonSet and ConfigMap, the node label set and removed, the
// status, the finalizer, the deletion of a gone XdpCounter's reports, and Events (created, and patched into a
// series). Nothing it asks is forbidden.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  OPERATOR_CLUSTER_RULES,
  OPERATOR_EVENTS_NAMESPACE,
  OPERATOR_EVENTS_RULES,
  OPERATOR_NAMESPACE_RULES,
} from "../../operator/controller/index.ts";
import { deploymentsPath, eventsPath } from "../../runtime/kube/index.ts";
import { eventually, NAMESPACE, startCluster, startWholeOperator, xdpCounterYaml } from "./harness.ts";

const rbac = "/apis/rbac.authorization.k8s.io/v1";

test("the operator works with only the permissions it declares", async (t) => {
  const cluster = await startCluster();
  t.after(() => cluster.stop());
  const { admin } = cluster;
  await cluster.addNode("n1", { pool: "edge" });
  await cluster.addNode("n2", { pool: "edge" });
  await cluster.addNode("n3", { pool: "core" });
  const labels = { app: "xdp-counter-operator" };
  const deployment = await admin.create(deploymentsPath(NAMESPACE), {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "xdp-counter-operator" },
    spec: {
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: "operator", image: "x" }] } },
    },
  });
  await admin.create(`/api/v1/namespaces/${NAMESPACE}/serviceaccounts`, { metadata: { name: "operator" } });
  const subjects = [{ kind: "ServiceAccount", name: "operator", namespace: NAMESPACE }];
  const bind = async (
    path: string,
    kind: "ClusterRole" | "Role",
    name: string,
    rules: readonly unknown[],
  ) => {
    const roles = kind === "ClusterRole" ? "clusterroles" : "roles";
    const bindings = kind === "ClusterRole" ? "clusterrolebindings" : "rolebindings";
    await admin.create(`${path}/${roles}`, { metadata: { name }, rules });
    await admin.create(`${path}/${bindings}`, {
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind, name },
      subjects,
    });
  };
  await bind(rbac, "ClusterRole", "xdp-counter-operator", OPERATOR_CLUSTER_RULES);
  await bind(`${rbac}/namespaces/${NAMESPACE}`, "Role", "xdp-counter-operator", OPERATOR_NAMESPACE_RULES);
  await bind(
    `${rbac}/namespaces/${OPERATOR_EVENTS_NAMESPACE}`,
    "Role",
    "xdp-counter-operator-events",
    OPERATOR_EVENTS_RULES,
  );

  const { operator } = await startWholeOperator(
    cluster,
    { XDP_COUNTER_OWNER_DEPLOYMENT: "xdp-counter-operator", XDP_COUNTER_LEADER_ELECT: "true" },
    await cluster.serviceAccountKubeconfig(NAMESPACE, "operator"),
  );
  t.after(() => operator.stop());
  await eventually(() => operator.elector?.isLeader, "leader");

  const apply = await cluster.kubectl(
    ["apply", "-f", "-"],
    xdpCounterYaml("edge", { nodeSelector: { pool: "edge" }, reportInterval: "1s" }),
  );
  assert.equal(apply.code, 0, apply.stderr);
  const ds = await eventually(() => cluster.daemonSet(), "the agent DaemonSet");
  assert.equal(
    ds.metadata.ownerReferences?.[0]?.uid,
    deployment.metadata.uid,
    "owned: the Deployment was read",
  );
  await eventually(async () => (await cluster.agentSpecs())?.edge?.mode === "count", "the agents' spec");
  await eventually(
    async () => (await cluster.hasAgentLabel("n1")) && (await cluster.hasAgentLabel("n2")),
    "the nodes labelled",
  );
  await cluster.report("edge", "n1", {});
  await cluster.report("edge", "n2", {});
  await cluster.agentPod("n1");
  await cluster.agentPod("n2");
  const readyNodes = async (name: string) =>
    ((await cluster.getXdpCounter(name))?.status as { readyNodes?: number } | undefined)?.readyNodes;
  await eventually(async () => (await readyNodes("edge")) === 2, "status written");

  // n2 deselected: it keeps its agent until that agent deleted its report, then the label goes.
  const label = await cluster.kubectl(["label", "node", "n2", "pool-"]);
  assert.equal(label.code, 0, label.stderr);
  await eventually(async () => (await readyNodes("edge")) === 1, "n2 no longer counted");
  assert.equal(await cluster.hasAgentLabel("n2"), true);
  await cluster.deleteReport("edge", "n2");
  await eventually(async () => !(await cluster.hasAgentLabel("n2")), "n2's label removed");

  // An XdpCounter gone before its agent cleaned up: the operator deletes its report.
  const gone = await cluster.kubectl(
    ["apply", "-f", "-"],
    xdpCounterYaml("gone", { nodeSelector: { pool: "core" } }),
  );
  assert.equal(gone.code, 0, gone.stderr);
  await eventually(() => cluster.hasAgentLabel("n3"), "n3 labelled");
  await cluster.report("gone", "n3", {});
  await cluster.kubectl(["delete", "xdpc", "gone", "--wait=false"]);
  await cluster.kubectl(["patch", "xdpc", "gone", "--type=merge", "-p", '{"metadata":{"finalizers":null}}']);
  await eventually(async () => (await cluster.reports("gone")).length === 0, "gone's report deleted");
  await eventually(async () => !(await cluster.hasAgentLabel("n3")), "n3's label removed");

  // Its agent pod flips Ready twice: the second NodesNotReady is a patch of the first one's series.
  await cluster.report("edge", "n2", {});
  const relabel = await cluster.kubectl(["label", "node", "n2", "pool=edge"]);
  assert.equal(relabel.code, 0, relabel.stderr);
  await eventually(async () => (await readyNodes("edge")) === 2, "n2 counted again");
  for (const ready of [false, true, false]) {
    await cluster.agentPod("n1", ready);
    await eventually(async () => (await readyNodes("edge")) === (ready ? 2 : 1), "readiness followed");
  }
  await eventually(async () => {
    await operator.controller.flushEvents();
    const series = (await cluster.admin.list(eventsPath(OPERATOR_EVENTS_NAMESPACE))).items.find(
      (e) => e.reason === "NodesNotReady",
    )?.series as { count?: number } | undefined;
    return series?.count === 2;
  }, "the series patched");

  const del = await cluster.kubectl(["delete", "xdpc", "edge", "--wait=false"]);
  assert.equal(del.code, 0, del.stderr);
  await eventually(async () => (await cluster.agentSpecs())?.edge?.mode === "clean", "clean mode");
  await cluster.deleteReport("edge", "n1");
  await cluster.deleteReport("edge", "n2");
  await eventually(async () => (await cluster.getXdpCounter("edge")) === undefined, "finalizer removed");
  await eventually(
    async () => !(await cluster.hasAgentLabel("n1")) && !(await cluster.hasAgentLabel("n2")),
    "the labels removed",
  );
  await operator.controller.flushEvents();
  const reasons = (await admin.list(eventsPath(OPERATOR_EVENTS_NAMESPACE))).items.map((e) => e.reason);
  for (const reason of ["AllNodesCounting", "NodesNotReady", "CleanedUp"])
    assert.ok(reasons.includes(reason), `Event ${reason} written (${reasons.join(", ")})`);

  const user = `system:serviceaccount:${NAMESPACE}:operator`;
  const requests = cluster.requests().filter((r) => r.user === user);
  for (const [what, test] of [
    [
      "a DaemonSet applied",
      (r: { method: string; url: string }) => r.method === "PATCH" && r.url.includes("/daemonsets/"),
    ],
    [
      "a ConfigMap applied",
      (r: { method: string; url: string }) => r.method === "PATCH" && r.url.includes("/configmaps/"),
    ],
    [
      "a Node patched",
      (r: { method: string; url: string }) => r.method === "PATCH" && r.url.includes("/nodes/"),
    ],
    [
      "a report deleted",
      (r: { method: string; url: string }) => r.method === "DELETE" && r.url.includes("/xdpcounterreports/"),
    ],
    [
      "an Event patched",
      (r: { method: string; url: string }) => r.method === "PATCH" && r.url.includes("/events/"),
    ],
    [
      "the Deployment read",
      (r: { method: string; url: string }) => r.method === "GET" && r.url.includes("/deployments/"),
    ],
  ] as const)
    assert.ok(requests.some(test), `${what} by the ServiceAccount`);
  assert.ok(operator.healthy());
  assert.deepEqual(
    requests.filter((r) => r.status === 403),
    [],
    "nothing was forbidden",
  );
});
