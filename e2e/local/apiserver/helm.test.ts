// The real Helm 4 against the server: install (with a chart crds/ directory), upgrade, uninstall.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ensureTools } from "../tools.ts";
import { startApiServer } from "./server.ts";
import { call, run } from "./testclient.ts";

const chart = join(import.meta.dirname, "testdata", "charts", "testchart");

test("helm: install, upgrade and uninstall a chart with a CRD, RBAC and a DaemonSet", async (t) => {
  const { helm } = ensureTools();
  const unknown: string[] = [];
  const s = await startApiServer({ logUnknown: (l) => unknown.push(l) });
  const dir = mkdtempSync(join(tmpdir(), "helm-test-"));
  t.after(async () => {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const env = {
    KUBECONFIG: s.writeKubeconfig(join(dir, "kubeconfig")),
    HOME: dir,
    HELM_CACHE_HOME: join(dir, "cache"),
    HELM_CONFIG_HOME: join(dir, "config"),
    HELM_DATA_HOME: join(dir, "data"),
  };
  const h = (...args: string[]) => run(helm, args, env);

  const install = await h("install", "rel", chart, "--namespace", "default");
  assert.equal(install.code, 0, install.stderr);
  assert.match(install.stdout, /STATUS: deployed/);
  const crd = await call(
    s,
    "GET",
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.test.xdpcounter.dev",
  );
  assert.equal(crd.status, 200, "the chart's crds/ directory was installed");
  const gadget = await call(s, "GET", "/apis/test.xdpcounter.dev/v1/gadgets/rel-gadget");
  assert.equal(gadget.body.spec.size, 2);
  const config = await call(s, "GET", "/api/v1/namespaces/default/configmaps/rel-config");
  assert.equal(config.body.data.greeting, "hello");
  assert.equal(config.body.metadata.labels["app.kubernetes.io/managed-by"], "Helm");
  const [entry] = config.body.metadata.managedFields;
  assert.equal(entry.manager, "helm");
  assert.equal(entry.operation, "Apply", "Helm 4 installs with server-side apply");
  for (const path of [
    "/api/v1/namespaces/default/serviceaccounts/rel-agent",
    "/apis/rbac.authorization.k8s.io/v1/clusterroles/rel-agent",
    "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/rel-agent",
    "/apis/apps/v1/namespaces/default/daemonsets/rel-agent",
  ])
    assert.equal((await call(s, "GET", path)).status, 200, path);
  const releases = await call(s, "GET", "/api/v1/namespaces/default/secrets?labelSelector=owner%3Dhelm");
  assert.equal(releases.body.items.length, 1);
  assert.equal(releases.body.items[0].type, "helm.sh/release.v1");

  const upgrade = await h("upgrade", "rel", chart, "--namespace", "default", "--set", "greeting=hi");
  assert.equal(upgrade.code, 0, upgrade.stderr);
  assert.match(upgrade.stdout, /REVISION: 2/);
  assert.equal(
    (await call(s, "GET", "/api/v1/namespaces/default/configmaps/rel-config")).body.data.greeting,
    "hi",
  );
  const ds = await call(s, "GET", "/apis/apps/v1/namespaces/default/daemonsets/rel-agent");
  assert.deepEqual(ds.body.spec.template.spec.containers[0].env, [{ name: "GREETING", value: "hi" }]);
  assert.equal(ds.body.metadata.generation, 2);

  const list = await h("list", "--namespace", "default", "-o", "json");
  assert.equal(list.code, 0, list.stderr);
  assert.equal(JSON.parse(list.stdout)[0].status, "deployed");

  const uninstall = await h("uninstall", "rel", "--namespace", "default");
  assert.equal(uninstall.code, 0, uninstall.stderr);
  for (const path of [
    "/api/v1/namespaces/default/configmaps/rel-config",
    "/apis/apps/v1/namespaces/default/daemonsets/rel-agent",
    "/apis/rbac.authorization.k8s.io/v1/clusterroles/rel-agent",
    "/apis/test.xdpcounter.dev/v1/gadgets/rel-gadget",
  ])
    assert.equal((await call(s, "GET", path)).status, 404, path);
  assert.equal((await call(s, "GET", "/api/v1/namespaces/default/secrets")).body.items.length, 0);
  assert.equal(
    (
      await call(
        s,
        "GET",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.test.xdpcounter.dev",
      )
    ).status,
    200,
    "Helm never deletes CRDs",
  );
  assert.deepEqual(unknown, []);
});
