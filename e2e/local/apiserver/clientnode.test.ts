// @kubernetes/client-node (what the operator and the agents use) against the server: typed and custom
// object calls, merge patches of status, server-side apply, an informer, and RBAC refusals.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type KubernetesObject,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { startApiServer } from "./server.ts";
import { eventually, widgetsCrd } from "./testclient.ts";

const group = "test.xdpcounter.dev";
const version = "v1alpha1";
const plural = "widgets";

test("@kubernetes/client-node: CRUD, status merge patches, apply, informer, 403", async (t) => {
  const s = await startApiServer({ crds: [widgetsCrd], bookmarkIntervalMs: 100 });
  t.after(() => s.stop());
  const kc = new KubeConfig();
  kc.loadFromString(s.kubeconfigFor());
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);

  const cm = await core.createNamespacedConfigMap({
    namespace: "default",
    body: { metadata: { name: "c" }, data: { a: "1" } },
  });
  assert.equal(cm.metadata?.name, "c");
  const cms = await core.listNamespacedConfigMap({ namespace: "default" });
  assert.equal(cms.items.length, 1);
  assert.ok(cms.metadata?.resourceVersion);

  const seen: string[] = [];
  const informer = makeInformer<KubernetesObject>(
    kc,
    `/apis/${group}/${version}/namespaces/default/${plural}`,
    () => custom.listNamespacedCustomObject({ group, version, namespace: "default", plural }),
  );
  informer.on("add", (o) => seen.push(`add ${o.metadata?.name}`));
  informer.on("update", (o) => seen.push(`update ${o.metadata?.name}`));
  informer.on("delete", (o) => seen.push(`delete ${o.metadata?.name}`));
  await informer.start();
  t.after(() => informer.stop());

  await custom.createNamespacedCustomObject({
    group,
    version,
    namespace: "default",
    plural,
    body: {
      apiVersion: `${group}/${version}`,
      kind: "Widget",
      metadata: { name: "w" },
      spec: { action: "pass" },
    },
  });
  const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
  await Promise.all(
    ["node-a", "node-b"].map((node) =>
      custom.patchNamespacedCustomObjectStatus(
        {
          group,
          version,
          namespace: "default",
          plural,
          name: "w",
          body: { status: { nodes: { [node]: { packets: 1 } } } },
        },
        merge,
      ),
    ),
  );
  const w = (await custom.getNamespacedCustomObject({
    group,
    version,
    namespace: "default",
    plural,
    name: "w",
  })) as {
    spec: { reportInterval: number };
    status: { nodes: Record<string, unknown> };
  };
  assert.deepEqual(Object.keys(w.status.nodes).sort(), ["node-a", "node-b"]);
  assert.equal(w.spec.reportInterval, 10, "defaults are served");

  const applied = (await custom.patchNamespacedCustomObject(
    {
      group,
      version,
      namespace: "default",
      plural,
      name: "w",
      fieldManager: "operator",
      force: true,
      body: {
        apiVersion: `${group}/${version}`,
        kind: "Widget",
        metadata: { name: "w" },
        spec: { action: "drop" },
      },
    },
    setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
  )) as { spec: { action: string } };
  assert.equal(applied.spec.action, "drop");

  await assert.rejects(
    custom.createNamespacedCustomObject({
      group,
      version,
      namespace: "default",
      plural,
      body: {
        apiVersion: `${group}/${version}`,
        kind: "Widget",
        metadata: { name: "bad" },
        spec: { action: "x" },
      },
    }),
    (err: unknown) => err instanceof ApiException && err.code === 422,
  );

  await custom.deleteNamespacedCustomObject({ group, version, namespace: "default", plural, name: "w" });
  await eventually(() => seen.includes("delete w"));
  assert.equal(seen[0], "add w");
  assert.ok(seen.filter((e) => e === "update w").length >= 3, seen.join(", "));

  await core.createNamespacedServiceAccount({ namespace: "default", body: { metadata: { name: "agent" } } });
  const agent = new KubeConfig();
  agent.loadFromString(s.kubeconfigFor({ namespace: "default", serviceAccount: "agent" }));
  await assert.rejects(
    agent.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: "default" }),
    (err: unknown) =>
      err instanceof ApiException &&
      err.code === 403 &&
      String(err.body).includes(
        'configmaps is forbidden: User \\"system:serviceaccount:default:agent\\" cannot list resource \\"configmaps\\" in API group \\"\\" in the namespace \\"default\\"',
      ),
  );
});

test("@kubernetes/client-node in-cluster configuration from the files a pod would see", async (t) => {
  const s = await startApiServer();
  const dir = mkdtempSync(join(tmpdir(), "incluster-"));
  const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
  t.after(async () => {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
    if (saved.host === undefined) delete process.env.KUBERNETES_SERVICE_HOST;
    else process.env.KUBERNETES_SERVICE_HOST = saved.host;
    if (saved.port === undefined) delete process.env.KUBERNETES_SERVICE_PORT;
    else process.env.KUBERNETES_SERVICE_PORT = saved.port;
  });
  const admin = new KubeConfig();
  admin.loadFromString(s.kubeconfigFor());
  const adminCore = admin.makeApiClient(CoreV1Api);
  await eventually(async () =>
    (await adminCore.listNamespacedServiceAccount({ namespace: "kube-system" })).items.some(
      (sa) => sa.metadata?.name === "default",
    ),
  );
  s.writeServiceAccountFiles(
    join(dir, "var/run/secrets/kubernetes.io/serviceaccount"),
    "kube-system",
    "default",
  );
  const url = new URL(s.url);
  process.env.KUBERNETES_SERVICE_HOST = url.hostname;
  process.env.KUBERNETES_SERVICE_PORT = url.port;
  const kc = new KubeConfig();
  kc.loadFromCluster(dir);
  assert.equal(kc.getContextObject(kc.getCurrentContext())?.namespace, "kube-system");
  await assert.rejects(
    kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: "kube-system" }),
    (err: unknown) => err instanceof ApiException && err.code === 403,
    "the default ServiceAccount is authenticated and has no rights",
  );
});
