import assert from "node:assert/strict";
import { test } from "node:test";
import { startApiServer } from "./server.ts";
import { call, widgetsCrd } from "./testclient.ts";

const base = "/apis/test.xdpcounter.dev/v1alpha1/namespaces/default/widgets";
const merge = "application/merge-patch+json";

test("status subresource: main writes ignore status, status writes ignore everything else", async (t) => {
  const s = await startApiServer({ crds: [widgetsCrd] });
  t.after(() => s.stop());
  const created = await call(s, "POST", base, {
    body: {
      apiVersion: "test.xdpcounter.dev/v1alpha1",
      kind: "Widget",
      metadata: { name: "w" },
      spec: { action: "pass" },
      status: { nodeCount: 9 },
    },
  });
  assert.equal(created.status, 201);
  assert.equal(created.body.status, undefined, "status is dropped on create");

  const st = await call(s, "PUT", `${base}/w/status`, {
    body: {
      ...created.body,
      metadata: { ...created.body.metadata, labels: { sneaky: "yes" } },
      spec: { action: "drop" },
      status: { nodeCount: 3 },
    },
  });
  assert.equal(st.status, 200);
  assert.deepEqual(st.body.status, { nodeCount: 3 });
  assert.equal(st.body.spec.action, "pass", "spec is ignored by /status");
  assert.equal(st.body.metadata.labels, undefined, "labels are ignored by /status");
  assert.equal(st.body.metadata.generation, 1, "status writes do not bump generation");

  const main = await call(s, "PATCH", `${base}/w`, {
    body: { spec: { action: "drop" }, status: { nodeCount: 100 } },
    contentType: merge,
  });
  assert.equal(main.status, 200);
  assert.equal(main.body.spec.action, "drop");
  assert.deepEqual(main.body.status, { nodeCount: 3 }, "status is ignored by the main resource");
  assert.equal(main.body.metadata.generation, 2);

  const noop = await call(s, "PATCH", `${base}/w`, {
    body: { status: { nodeCount: 5 } },
    contentType: merge,
  });
  assert.equal(
    noop.body.metadata.resourceVersion,
    main.body.metadata.resourceVersion,
    "a no-op write keeps the resourceVersion",
  );

  const statusGet = await call(s, "GET", `${base}/w/status`);
  assert.equal(statusGet.status, 200);
  assert.deepEqual(statusGet.body.status, { nodeCount: 3 });

  const stale = await call(s, "PUT", `${base}/w/status`, {
    body: { ...created.body, status: { nodeCount: 4 } },
  });
  assert.equal(stale.status, 409);
  assert.equal(
    stale.body.message,
    'Operation cannot be fulfilled on widgets.test.xdpcounter.dev "w": the object has been modified; please apply your changes to the latest version and try again',
  );
});

test("two writers merge-patching different keys of a status map both survive", async (t) => {
  const s = await startApiServer({ crds: [widgetsCrd] });
  t.after(() => s.stop());
  await call(s, "POST", base, {
    body: {
      apiVersion: "test.xdpcounter.dev/v1alpha1",
      kind: "Widget",
      metadata: { name: "w" },
      spec: { action: "pass" },
    },
  });
  const [a, b] = await Promise.all([
    call(s, "PATCH", `${base}/w/status`, {
      body: { status: { nodes: { "node-a": { packets: 1 } } } },
      contentType: merge,
    }),
    call(s, "PATCH", `${base}/w/status`, {
      body: { status: { nodes: { "node-b": { packets: 2 } } } },
      contentType: merge,
    }),
  ]);
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  const got = await call(s, "GET", `${base}/w`);
  assert.deepEqual(got.body.status.nodes, { "node-a": { packets: 1 }, "node-b": { packets: 2 } });
  const removeA = await call(s, "PATCH", `${base}/w/status`, {
    body: { status: { nodes: { "node-a": null } } },
    contentType: merge,
  });
  assert.deepEqual(removeA.body.status.nodes, { "node-b": { packets: 2 } });
  const managers = got.body.metadata.managedFields.map(
    (m: { manager: string; subresource?: string }) => m.subresource,
  );
  assert.ok(managers.includes("status"));
});

test("built-in status subresource: a Deployment's status is written only through /status", async (t) => {
  const s = await startApiServer();
  t.after(() => s.stop());
  const path = "/apis/apps/v1/namespaces/default/deployments";
  const d = await call(s, "POST", path, {
    body: {
      metadata: { name: "d" },
      spec: {
        replicas: 1,
        selector: { matchLabels: { a: "b" } },
        template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "i" }] } },
      },
    },
  });
  assert.equal(d.status, 201);
  const st = await call(s, "PATCH", `${path}/d/status`, {
    body: { status: { readyReplicas: 1 } },
    contentType: merge,
  });
  assert.equal(st.body.status.readyReplicas, 1);
  const main = await call(s, "PATCH", `${path}/d`, {
    body: { status: { readyReplicas: 7 } },
    contentType: merge,
  });
  assert.equal(main.body.status.readyReplicas, 1);
  const cmStatus = await call(s, "GET", "/api/v1/namespaces/default/configmaps/x/status");
  assert.equal(cmStatus.status, 404, "configmaps have no status subresource");
});
