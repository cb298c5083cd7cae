import assert from "node:assert/strict";

import { test } from "node:test";
import { startApiServer } from "./server.ts";
import { call, eventually, openWatch, widgetsCrd } from "./testclient.ts";

const base = "/apis/test.xdpcounter.dev/v1alpha1/namespaces/default/widgets";
const widget = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: "test.xdpcounter.dev/v1alpha1",
  kind: "Widget",
  metadata: { name },
  spec,
});

test("a CRD loaded at start is served, established and discoverable", async (t) => {
  const s = await startApiServer({ crds: [widgetsCrd] });
  t.after(() => s.stop());
  const crd = await call(
    s,
    "GET",
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.test.xdpcounter.dev",
  );
  assert.equal(crd.status, 200);
  const conditions = Object.fromEntries(
    crd.body.status.conditions.map((c: { type: string; status: string }) => [c.type, c.status]),
  );
  assert.deepEqual(conditions, { NamesAccepted: "True", Established: "True" });
  assert.deepEqual(crd.body.status.storedVersions, ["v1alpha1"]);
  const resources = await call(s, "GET", "/apis/test.xdpcounter.dev/v1alpha1");
  const names = resources.body.resources.map((r: { name: string }) => r.name);
  assert.deepEqual(names, ["widgets", "widgets/status"]);
  assert.deepEqual(resources.body.resources[0].shortNames, ["wd"]);
  assert.deepEqual(resources.body.resources[0].categories, ["all"]);
  assert.equal(resources.body.resources[0].namespaced, true);
  const groups = await call(s, "GET", "/apis");
  assert.ok(groups.body.groups.some((g: { name: string }) => g.name === "test.xdpcounter.dev"));
});

test("schema violations are 422 Invalid with causes and field paths", async (t) => {
  const s = await startApiServer({ crds: [widgetsCrd] });
  t.after(() => s.stop());
  const enumBad = await call(s, "POST", base, { body: widget("x", { action: "foo" }) });
  assert.equal(enumBad.status, 422);
  assert.equal(enumBad.body.reason, "Invalid");
  assert.equal(
    enumBad.body.message,
    'Widget.test.xdpcounter.dev "x" is invalid: spec.action: Unsupported value: "foo": supported values: "pass", "drop"',
  );
  assert.deepEqual(enumBad.body.details, {
    name: "x",
    group: "test.xdpcounter.dev",
    kind: "Widget",
    causes: [
      {
        reason: "FieldValueNotSupported",
        message: 'Unsupported value: "foo": supported values: "pass", "drop"',
        field: "spec.action",
      },
    ],
  });

  const many = await call(s, "POST", base, {
    body: widget("y", { reportInterval: 0, interfaces: ["ETH0", ""], limits: { maxNodes: "lots" } }),
  });
  assert.equal(many.status, 422);
  const causes = many.body.details.causes
    .map((c: { reason: string; field: string }) => `${c.reason} ${c.field}`)
    .sort();
  assert.deepEqual(causes, [
    "FieldValueInvalid spec.interfaces[0]",
    "FieldValueInvalid spec.interfaces[1]",
    "FieldValueInvalid spec.interfaces[1]",
    "FieldValueInvalid spec.reportInterval",
    "FieldValueRequired spec.action",
    "FieldValueTypeInvalid spec.limits.maxNodes",
  ]);
  const interval = many.body.details.causes.find((c: { field: string }) => c.field === "spec.reportInterval");
  assert.equal(
    interval.message,
    "Invalid value: 0: spec.reportInterval in body should be greater than or equal to 1",
  );

  const badDate = await call(s, "POST", base, {
    body: widget("z", { action: "pass", notBefore: "yesterday" }),
  });
  assert.equal(badDate.status, 422);
  assert.equal(badDate.body.details.causes[0].field, "spec.notBefore");
  const nullOk = await call(s, "POST", base, {
    body: widget("z", { action: "pass", notBefore: null, limits: { burst: "10%" } }),
  });
  assert.equal(nullOk.status, 201, JSON.stringify(nullOk.body));
  const intOrStringBad = await call(s, "POST", base, {
    body: widget("q", { action: "pass", limits: { burst: true } }),
  });
  assert.equal(intOrStringBad.status, 422);
  const tooMany = await call(s, "POST", base, {
    body: widget("q", { action: "pass", interfaces: ["a", "b", "c", "d", "e"] }),
  });
  assert.equal(tooMany.status, 422);
  await call(s, "POST", base, { body: widget("dup", { action: "pass" }) });
  const duplicate = await call(s, "PATCH", `${base}/dup/status`, {
    body: {
      status: {
        conditions: [
          { type: "Ready", status: "True" },
          { type: "Ready", status: "False" },
        ],
      },
    },
    contentType: "application/merge-patch+json",
  });
  assert.equal(duplicate.status, 422);
  assert.deepEqual(duplicate.body.details.causes, [
    {
      reason: "FieldValueDuplicate",
      message: 'Duplicate value: {"type":"Ready"}',
      field: "status.conditions[1]",
    },
  ]);
  const badName = await call(s, "POST", base, { body: widget("UPPER", { action: "pass" }) });
  assert.equal(badName.status, 422);
  assert.equal(badName.body.details.causes[0].field, "metadata.name");
});

test("defaults are applied (nested too) and unknown fields pruned; Strict validation refuses them", async (t) => {
  const s = await startApiServer({ crds: [widgetsCrd] });
  t.after(() => s.stop());
  const created = await call(s, "POST", base, {
    body: { ...widget("d", { action: "pass", unknown: 1, extra: { kept: { deep: true } } }), junk: "x" },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.deepEqual(created.body.spec, {
    action: "pass",
    reportInterval: 10,
    limits: { maxNodes: 100 },
    extra: { kept: { deep: true } },
  });
  assert.equal(created.body.junk, undefined);
  assert.match(String(created.headers.warning), /unknown field \\"spec.unknown\\"/);

  const strict = await call(s, "POST", `${base}?fieldValidation=Strict`, {
    body: widget("e", { action: "pass", nope: 1 }),
  });
  assert.equal(strict.status, 400);
  assert.equal(
    strict.body.message,
    'Widget in version "v1alpha1" cannot be handled as a Widget: strict decoding error: unknown field "spec.nope"',
  );

  // a partial limits object gets the nested default on update too
  const got = await call(s, "GET", `${base}/d`);
  const put = await call(s, "PUT", `${base}/d`, {
    body: { ...got.body, spec: { action: "drop", limits: {} } },
  });
  assert.equal(put.status, 200);
  assert.deepEqual(put.body.spec, { action: "drop", reportInterval: 10, limits: { maxNodes: 100 } });
});

test("deleting a CRD removes its objects and its API", async (t) => {
  const s = await startApiServer({ crds: [widgetsCrd] });
  t.after(() => s.stop());
  assert.equal((await call(s, "POST", base, { body: widget("a", { action: "pass" }) })).status, 201);
  const watch = await openWatch(s, `${base}?watch=true`);
  t.after(() => watch.close());
  const del = await call(
    s,
    "DELETE",
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.test.xdpcounter.dev",
  );
  assert.equal(del.status, 200);
  await eventually(
    async () =>
      (
        await call(
          s,
          "GET",
          "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.test.xdpcounter.dev",
        )
      ).status === 404,
  );
  assert.equal((await call(s, "GET", `${base}/a`)).status, 404);
  await watch.ended;
  assert.deepEqual(
    watch.events.map((e) => e.type),
    ["ADDED", "DELETED"],
    "watches of the resource see its objects go and then end",
  );
  assert.equal((await call(s, "GET", "/apis/test.xdpcounter.dev/v1alpha1")).status, 404);

  // created again through the API: served again, empty
  const yaml = await import("yaml");
  const { readFileSync } = await import("node:fs");
  const doc = yaml.parse(readFileSync(widgetsCrd, "utf8"));
  const again = await call(s, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", {
    body: doc,
  });
  assert.equal(again.status, 201);
  const list = await call(s, "GET", base);
  assert.equal(list.status, 200);
  assert.deepEqual(list.body.items, []);
});
