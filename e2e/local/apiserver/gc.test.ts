import assert from "node:assert/strict";
import { test } from "node:test";
import { startApiServer } from "./server.ts";
import { call, eventually, widgetsCrd } from "./testclient.ts";

const widgets = "/apis/test.xdpcounter.dev/v1alpha1/namespaces/default/widgets";
const cms = "/api/v1/namespaces/default/configmaps";
const merge = "application/merge-patch+json";

async function ownerAndChild(s: Awaited<ReturnType<typeof startApiServer>>, name: string) {
  const owner = await call(s, "POST", widgets, {
    body: {
      apiVersion: "test.xdpcounter.dev/v1alpha1",
      kind: "Widget",
      metadata: { name },
      spec: { action: "pass" },
    },
  });
  const child = await call(s, "POST", cms, {
    body: {
      metadata: {
        name: `${name}-child`,
        ownerReferences: [
          {
            apiVersion: "test.xdpcounter.dev/v1alpha1",
            kind: "Widget",
            name,
            uid: owner.body.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
    },
  });
  assert.equal(child.status, 201);
  return { owner: owner.body, child: child.body };
}

test("background deletion collects dependents whose owners are gone", async (t) => {
  const s = await startApiServer({ crds: [widgetsCrd] });
  t.after(() => s.stop());
  await ownerAndChild(s, "a");
  const unrelated = await call(s, "POST", cms, { body: { metadata: { name: "keep" } } });
  assert.equal(unrelated.status, 201);
  const del = await call(s, "DELETE", `${widgets}/a`);
  assert.equal(del.status, 200);
  assert.equal(del.body.kind, "Widget");
  await eventually(async () => (await call(s, "GET", `${cms}/a-child`)).status === 404);
  assert.equal((await call(s, "GET", `${cms}/keep`)).status, 200);
});

test("foreground deletion holds the owner until its dependents are gone", async (t) => {
  const s = await startApiServer({ crds: [widgetsCrd] });
  t.after(() => s.stop());
  await ownerAndChild(s, "f");
  await call(s, "PATCH", `${cms}/f-child`, {
    body: { metadata: { finalizers: ["test/hold"] } },
    contentType: merge,
  });
  const del = await call(s, "DELETE", `${widgets}/f`, {
    body: { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Foreground" },
  });
  assert.equal(del.status, 202);
  assert.deepEqual(del.body.metadata.finalizers, ["foregroundDeletion"]);
  assert.ok(del.body.metadata.deletionTimestamp);
  await eventually(async () => (await call(s, "GET", `${cms}/f-child`)).body.metadata?.deletionTimestamp);
  assert.equal((await call(s, "GET", `${widgets}/f`)).status, 200, "owner waits for the held dependent");
  await call(s, "PATCH", `${cms}/f-child`, { body: { metadata: { finalizers: null } }, contentType: merge });
  await eventually(async () => (await call(s, "GET", `${widgets}/f`)).status === 404);
});

test("orphan deletion strips ownerReferences and keeps dependents", async (t) => {
  const s = await startApiServer({ crds: [widgetsCrd] });
  t.after(() => s.stop());
  await ownerAndChild(s, "o");
  const del = await call(s, "DELETE", `${widgets}/o?propagationPolicy=Orphan`);
  assert.ok([200, 202].includes(del.status));
  await eventually(async () => (await call(s, "GET", `${widgets}/o`)).status === 404);
  const child = await call(s, "GET", `${cms}/o-child`);
  assert.equal(child.status, 200);
  assert.equal(child.body.metadata.ownerReferences, undefined);
});

test("finalizers hold deletion; removing the last one deletes; none can be added while deleting", async (t) => {
  const s = await startApiServer();
  t.after(() => s.stop());
  await call(s, "POST", cms, {
    body: { metadata: { name: "held", finalizers: ["example.com/a", "example.com/b"] } },
  });
  const del = await call(s, "DELETE", `${cms}/held`);
  assert.equal(del.status, 202);
  const got = await call(s, "GET", `${cms}/held`);
  assert.equal(got.status, 200);
  assert.match(got.body.metadata.deletionTimestamp, /Z$/);
  assert.equal(got.body.metadata.deletionGracePeriodSeconds, 0);

  const add = await call(s, "PATCH", `${cms}/held`, {
    body: { metadata: { finalizers: ["example.com/a", "example.com/b", "example.com/c"] } },
    contentType: merge,
  });
  assert.equal(add.status, 422);
  assert.equal(add.body.details.causes[0].field, "metadata.finalizers");
  assert.match(add.body.message, /no new finalizers can be added if the object is being deleted/);

  const one = await call(s, "PATCH", `${cms}/held`, {
    body: { metadata: { finalizers: ["example.com/b"] } },
    contentType: merge,
  });
  assert.equal(one.status, 200);
  assert.equal((await call(s, "GET", `${cms}/held`)).status, 200);
  const { resourceVersion: _r, ...meta } = one.body.metadata;
  const last = await call(s, "PUT", `${cms}/held`, {
    body: { ...one.body, metadata: { ...meta, finalizers: [] } },
  });
  assert.equal(last.status, 200);
  assert.equal((await call(s, "GET", `${cms}/held`)).status, 404);
});

test("deleting a namespace removes what is in it", async (t) => {
  const s = await startApiServer();
  t.after(() => s.stop());
  await call(s, "POST", "/api/v1/namespaces", { body: { metadata: { name: "tmp" } } });
  await call(s, "POST", "/api/v1/namespaces/tmp/configmaps", { body: { metadata: { name: "c" } } });
  const del = await call(s, "DELETE", "/api/v1/namespaces/tmp");
  assert.equal(del.status, 202);
  assert.equal(del.body.status.phase, "Terminating");
  await eventually(async () => (await call(s, "GET", "/api/v1/namespaces/tmp")).status === 404);
  assert.equal((await call(s, "GET", "/api/v1/namespaces/tmp/configmaps/c")).status, 404);
});
