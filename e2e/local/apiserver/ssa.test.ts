import assert from "node:assert/strict";
import { test } from "node:test";
import { fieldSet, fromFieldsV1, toFieldsV1 } from "./fieldsets.ts";
import { startApiServer } from "./server.ts";
import { call, widgetsCrd } from "./testclient.ts";

const apply = "application/apply-patch+yaml";

test("fieldsV1 encoding round-trips, with list items keyed by their merge keys", () => {
  const obj = {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: "x", labels: { a: "b" } },
    spec: { template: { spec: { containers: [{ name: "c", image: "i" }] } } },
  };
  const set = fieldSet(obj, { builtin: true }, "main");
  const encoded = toFieldsV1(set);
  assert.deepEqual(encoded, {
    "f:metadata": { "f:labels": { "f:a": {} } },
    "f:spec": {
      "f:template": {
        "f:spec": { "f:containers": { 'k:{"name":"c"}': { ".": {}, "f:image": {}, "f:name": {} } } },
      },
    },
  });
  assert.deepEqual(fromFieldsV1(encoded), set);
});

test("server-side apply: create, managedFields, conflicts, force, and removal of fields no longer applied", async (t) => {
  const s = await startApiServer({ crds: [widgetsCrd] });
  t.after(() => s.stop());
  const cm = "/api/v1/namespaces/default/configmaps/app";
  const first = await call(s, "PATCH", `${cm}?fieldManager=helm`, {
    body: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  labels:\n    team: a\ndata:\n  x: '1'\n  y: '2'\n",
    contentType: apply,
  });
  assert.equal(first.status, 201, JSON.stringify(first.body));
  assert.deepEqual(first.body.data, { x: "1", y: "2" });
  const [entry] = first.body.metadata.managedFields;
  assert.equal(entry.manager, "helm");
  assert.equal(entry.operation, "Apply");
  assert.equal(entry.apiVersion, "v1");
  assert.equal(entry.fieldsType, "FieldsV1");
  assert.match(entry.time, /Z$/);
  assert.deepEqual(entry.fieldsV1, {
    "f:data": { "f:x": {}, "f:y": {} },
    "f:metadata": { "f:labels": { "f:team": {} } },
  });

  const patched = await call(s, "PATCH", `${cm}?fieldManager=operator`, {
    body: { data: { x: "changed", z: "3" } },
    contentType: "application/merge-patch+json",
  });
  assert.equal(patched.status, 200);
  const byManager = Object.fromEntries(
    patched.body.metadata.managedFields.map(
      (m: { manager: string; operation: string; fieldsV1: unknown }) => [
        `${m.manager}/${m.operation}`,
        m.fieldsV1,
      ],
    ),
  );
  assert.deepEqual(byManager["operator/Update"], { "f:data": { "f:x": {}, "f:z": {} } });
  assert.deepEqual(byManager["helm/Apply"], {
    "f:data": { "f:y": {} },
    "f:metadata": { "f:labels": { "f:team": {} } },
  });

  const conflict = await call(s, "PATCH", `${cm}?fieldManager=helm`, {
    body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "app" }, data: { x: "1" } },
    contentType: apply,
  });
  assert.equal(conflict.status, 409);
  assert.equal(conflict.body.reason, "Conflict");
  assert.equal(
    conflict.body.message,
    'Apply failed with 1 conflict: conflict with "operator" using v1: .data.x',
  );
  assert.deepEqual(conflict.body.details.causes, [
    { reason: "FieldManagerConflict", message: 'conflict with "operator" using v1', field: ".data.x" },
  ]);

  // same value: shared ownership, no conflict; fields no longer applied (y, label) are removed
  const shared = await call(s, "PATCH", `${cm}?fieldManager=helm`, {
    body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "app" }, data: { x: "changed" } },
    contentType: apply,
  });
  assert.equal(shared.status, 200, JSON.stringify(shared.body));
  assert.deepEqual(shared.body.data, { x: "changed", z: "3" });
  assert.equal(shared.body.metadata.labels, undefined);

  const forced = await call(s, "PATCH", `${cm}?fieldManager=helm&force=true`, {
    body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "app" }, data: { x: "mine", z: "4" } },
    contentType: apply,
  });
  assert.equal(forced.status, 200);
  assert.deepEqual(forced.body.data, { x: "mine", z: "4" });
  const operator = forced.body.metadata.managedFields.find(
    (m: { manager: string }) => m.manager === "operator",
  );
  assert.equal(operator, undefined, "the operator lost every field it owned");

  const noManager = await call(s, "PATCH", cm, { body: "{}", contentType: apply });
  assert.equal(noManager.status, 422);
});

test("server-side apply merges associative lists by key and respects the status subresource", async (t) => {
  const s = await startApiServer({ crds: [widgetsCrd] });
  t.after(() => s.stop());
  const w = "/apis/test.xdpcounter.dev/v1alpha1/namespaces/default/widgets/w";
  const created = await call(s, "PATCH", `${w}?fieldManager=op`, {
    body: {
      apiVersion: "test.xdpcounter.dev/v1alpha1",
      kind: "Widget",
      metadata: { name: "w" },
      spec: { action: "pass" },
    },
    contentType: apply,
  });
  assert.equal(created.status, 201);
  const cond = (type: string, status: string) => ({ type, status });
  const a = await call(s, "PATCH", `${w}/status?fieldManager=agent-a`, {
    body: {
      apiVersion: "test.xdpcounter.dev/v1alpha1",
      kind: "Widget",
      status: { conditions: [cond("A", "True")] },
    },
    contentType: apply,
  });
  assert.equal(a.status, 200, JSON.stringify(a.body));
  const b = await call(s, "PATCH", `${w}/status?fieldManager=agent-b`, {
    body: {
      apiVersion: "test.xdpcounter.dev/v1alpha1",
      kind: "Widget",
      status: { conditions: [cond("B", "False")] },
      spec: { action: "drop" },
    },
    contentType: apply,
  });
  assert.equal(b.status, 200);
  assert.deepEqual(
    b.body.status.conditions,
    [cond("A", "True"), cond("B", "False")],
    "conditions merge by type",
  );
  assert.equal(b.body.spec.action, "pass", "spec is ignored through /status");
  const entry = b.body.metadata.managedFields.find((m: { manager: string }) => m.manager === "agent-b");
  assert.equal(entry.subresource, "status");
  assert.deepEqual(entry.fieldsV1, {
    "f:status": { "f:conditions": { 'k:{"type":"B"}': { ".": {}, "f:status": {}, "f:type": {} } } },
  });
  // agent-a stops applying its condition: it is removed, agent-b's stays
  const a2 = await call(s, "PATCH", `${w}/status?fieldManager=agent-a`, {
    body: { apiVersion: "test.xdpcounter.dev/v1alpha1", kind: "Widget", status: {} },
    contentType: apply,
  });
  assert.deepEqual(a2.body.status.conditions, [cond("B", "False")]);
});

test("server-side apply: one field manager per node on a status map, next to the operator's fields", async (t) => {
  const s = await startApiServer({ crds: [widgetsCrd] });
  t.after(() => s.stop());
  const w = "/apis/test.xdpcounter.dev/v1alpha1/namespaces/default/widgets/w";
  const body = (status: Record<string, unknown>) => ({
    apiVersion: "test.xdpcounter.dev/v1alpha1",
    kind: "Widget",
    status,
  });
  await call(s, "PATCH", `${w}?fieldManager=operator`, {
    body: { ...body({}), metadata: { name: "w" }, spec: { action: "pass" } },
    contentType: apply,
  });
  for (const node of ["a", "b"])
    assert.equal(
      (
        await call(s, "PATCH", `${w}/status?fieldManager=agent-${node}`, {
          body: body({ nodes: { [node]: { packets: 1 } } }),
          contentType: apply,
        })
      ).status,
      200,
    );
  const total = await call(s, "PATCH", `${w}/status?fieldManager=operator`, {
    body: body({ nodeCount: 2 }),
    contentType: apply,
  });
  assert.deepEqual(total.body.status, { nodes: { a: { packets: 1 }, b: { packets: 1 } }, nodeCount: 2 });
  const again = await call(s, "PATCH", `${w}/status?fieldManager=agent-a`, {
    body: body({ nodes: { a: { packets: 7 } } }),
    contentType: apply,
  });
  assert.equal(again.body.status.nodes.a.packets, 7);
  const stolen = await call(s, "PATCH", `${w}/status?fieldManager=agent-b`, {
    body: body({ nodes: { a: { packets: 0 } } }),
    contentType: apply,
  });
  assert.equal(stolen.status, 409, "one agent cannot overwrite another's entry without force");
  assert.equal(
    stolen.body.message,
    'Apply failed with 1 conflict: conflict with "agent-a" with subresource "status": .status.nodes.a.packets',
  );
  const managers = again.body.metadata.managedFields.map((m: { manager: string }) => m.manager).sort();
  assert.deepEqual(
    managers,
    ["agent-a", "agent-b", "operator", "operator"],
    "one entry per node, the operator's two",
  );
});
