// A write shares what it leaves alone with the version before (api.ts #patch, schema.ts marks): earlier
// versions must stay as they were, and a schema that changed must still reach the parts a patch left alone.
import assert from "node:assert/strict";
import { test } from "node:test";
import { startApiServer } from "./server.ts";
import { call, widgetsCrd } from "./testclient.ts";

const base = "/apis/test.xdpcounter.dev/v1alpha1/namespaces/default/widgets";
const crdPath = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.test.xdpcounter.dev";
const merge = "application/merge-patch+json";

test("patches leave earlier versions as they were, and a changed schema reaches what a patch left alone", async (t) => {
  const s = await startApiServer({ crds: [widgetsCrd] });
  t.after(() => s.stop());
  const created = await call(s, "POST", base, {
    body: {
      apiVersion: "test.xdpcounter.dev/v1alpha1",
      kind: "Widget",
      metadata: { name: "w" },
      spec: { action: "pass" },
    },
  });
  assert.equal(created.status, 201);
  const patchStatus = (nodes: unknown, query = "") =>
    call(s, "PATCH", `${base}/w/status${query}`, { body: { status: { nodes } }, contentType: merge });
  const first = await patchStatus({ a: { packets: 1, interfaces: ["eth0"] }, b: { packets: 2 } });
  assert.equal(first.status, 200);
  // every version the watches can replay, as JSON, now
  const from = Number(created.body.metadata.resourceVersion) - 1;
  const history = () =>
    (s.api.store.since(from) ?? []).map((e) => ({ rv: e.rv, json: JSON.stringify(e.object) }));
  const seen = history();

  assert.equal((await patchStatus({ b: { packets: 3 } })).status, 200);
  assert.equal((await patchStatus({ a: null })).status, 200);
  assert.deepEqual(history().slice(0, seen.length), seen, "earlier versions are unchanged");

  // a default added to the entries' schema reaches every entry on the next write, also those it leaves alone
  const crd = (await call(s, "GET", crdPath)).body;
  const entry = crd.spec.versions[0].schema.openAPIV3Schema.properties.status.properties.nodes
    .additionalProperties as { properties: Record<string, unknown> };
  entry.properties.zone = { type: "string", default: "z1" };
  assert.equal((await call(s, "PUT", crdPath, { body: crd })).status, 200);
  const before = history();
  const defaulted = await patchStatus({ c: { packets: 4, interfaces: ["eth1"] } });
  assert.equal(defaulted.status, 200);
  assert.deepEqual(defaulted.body.status.nodes, {
    b: { packets: 3, zone: "z1" },
    c: { packets: 4, interfaces: ["eth1"], zone: "z1" },
  });
  assert.deepEqual(history().slice(0, before.length), before, "earlier versions are unchanged");
  const stored = s.api.getStored(
    s.api.registry.byPlural("test.xdpcounter.dev", "widgets") as never,
    "default",
    "w",
  );
  assert.deepEqual(stored?.status, defaulted.body.status);

  // a field dropped from the schema is unknown in every entry on the next write, also those it leaves alone
  delete entry.properties.zone;
  const current = (await call(s, "GET", crdPath)).body;
  current.spec = crd.spec;
  assert.equal((await call(s, "PUT", crdPath, { body: current })).status, 200);
  const strict = await patchStatus({ d: { packets: 5 } }, "?fieldValidation=Strict");
  assert.equal(strict.status, 400);
  assert.match(strict.body.message, /unknown field "status\.nodes\.b\.zone"/);
  assert.match(strict.body.message, /unknown field "status\.nodes\.c\.zone"/);
  const warned = await patchStatus({ d: { packets: 5 } });
  assert.equal(warned.status, 200);
  assert.match(String(warned.headers.warning), /unknown field \\"status\.nodes\.b\.zone\\"/);
  assert.deepEqual(warned.body.status.nodes, {
    b: { packets: 3 },
    c: { packets: 4, interfaces: ["eth1"] },
    d: { packets: 5 },
  });
  assert.deepEqual(history().slice(0, before.length), before, "earlier versions are unchanged");
});
