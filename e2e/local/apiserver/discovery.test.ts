import assert from "node:assert/strict";
import { test } from "node:test";
import { startApiServer } from "./server.ts";
import { call, widgetsCrd } from "./testclient.ts";

const aggregatedAccept =
  "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

test("discovery: version, plain documents, aggregated discovery, OpenAPI", async (t) => {
  const s = await startApiServer({ crds: [widgetsCrd] });
  t.after(() => s.stop());
  const version = await call(s, "GET", "/version");
  assert.equal(version.body.gitVersion, "v1.34.0");
  const api = await call(s, "GET", "/api");
  assert.deepEqual(api.body.versions, ["v1"]);
  const core = await call(s, "GET", "/api/v1");
  const pods = core.body.resources.find((r: { name: string }) => r.name === "pods");
  assert.deepEqual(pods, {
    name: "pods",
    singularName: "pod",
    namespaced: true,
    kind: "Pod",
    verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
    shortNames: ["po"],
    categories: ["all"],
  });
  assert.ok(core.body.resources.some((r: { name: string }) => r.name === "pods/status"));
  const apps = await call(s, "GET", "/apis/apps");
  assert.equal(apps.body.preferredVersion.groupVersion, "apps/v1");

  const aggregated = await call(s, "GET", "/apis", { accept: aggregatedAccept });
  assert.equal(
    aggregated.headers["content-type"],
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
  );
  assert.equal(aggregated.body.kind, "APIGroupDiscoveryList");
  const test = aggregated.body.items.find(
    (g: { metadata: { name: string } }) => g.metadata.name === "test.xdpcounter.dev",
  );
  const widgets = test.versions[0].resources[0];
  assert.equal(widgets.resource, "widgets");
  assert.equal(widgets.scope, "Namespaced");
  assert.deepEqual(widgets.responseKind, {
    group: "test.xdpcounter.dev",
    version: "v1alpha1",
    kind: "Widget",
  });
  assert.equal(widgets.subresources[0].subresource, "status");
  const coreAggregated = await call(s, "GET", "/api", { accept: aggregatedAccept });
  assert.equal(coreAggregated.body.items.length, 1);
  assert.equal(coreAggregated.body.items[0].versions[0].version, "v1");

  const index = await call(s, "GET", "/openapi/v3");
  assert.match(
    index.body.paths["apis/test.xdpcounter.dev/v1alpha1"].serverRelativeURL,
    /^\/openapi\/v3\/apis\/test\.xdpcounter\.dev\/v1alpha1\?hash=/,
  );
  const doc = await call(s, "GET", "/openapi/v3/apis/test.xdpcounter.dev/v1alpha1");
  const schema = doc.body.components.schemas["dev.xdpcounter.test.v1alpha1.Widget"];
  assert.deepEqual(schema["x-kubernetes-group-version-kind"], [
    { group: "test.xdpcounter.dev", version: "v1alpha1", kind: "Widget" },
  ]);
  assert.equal(schema.properties.spec.description, "WidgetSpec says what a widget does.");
  const v2 = await call(s, "GET", "/openapi/v2");
  assert.equal(v2.body.swagger, "2.0");
});
