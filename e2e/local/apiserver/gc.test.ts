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
  assert.equal(del.status, 200);
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
  assert.equal(del.status, 200);
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
  assert.equal(del.status, 200);
  const got = await call(s, "GET", `${cms}/held`);
  assert.equal(got.status, 200);
  assert.match(got.body.metadata.deletionTimestamp, /Z$/);
  assert.equal(got.body.metadata.deletionGracePeriodSeconds, 0);
  assert.equal(got.body.metadata.generation, 2, "setting deletionTimestamp bumps generation");

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
  assert.equal(del.status, 200);
  assert.equal(del.body.status.phase, "Terminating");
  await eventually(async () => (await call(s, "GET", "/api/v1/namespaces/tmp")).status === 404);
  assert.equal((await call(s, "GET", "/api/v1/namespaces/tmp/configmaps/c")).status, 404);
});

test("pods on a node are deleted gracefully; orphanDependents=false makes a pending deletion 202", async (t) => {
  const s = await startApiServer();
  t.after(() => s.stop());
  const pods = "/api/v1/namespaces/default/pods";
  const pod = (name: string, spec: Record<string, unknown>) => ({
    metadata: { name },
    spec: { containers: [{ name: "c", image: "i" }], ...spec },
  });
  await call(s, "POST", pods, {
    body: pod("running", { nodeName: "n1", terminationGracePeriodSeconds: 20 }),
  });
  const before = Date.now();
  const del = await call(s, "DELETE", `${pods}/running`);
  assert.equal(del.status, 200);
  assert.equal(del.body.metadata.deletionGracePeriodSeconds, 20);
  const at = Date.parse(del.body.metadata.deletionTimestamp);
  assert.ok(
    at >= Math.floor(before / 1000) * 1000 + 19_000 && at <= Date.now() + 21_000,
    del.body.metadata.deletionTimestamp,
  );
  assert.equal((await call(s, "GET", `${pods}/running`)).status, 200, "the pod waits for its node");
  const shorter = await call(s, "DELETE", `${pods}/running?gracePeriodSeconds=5`);
  assert.equal(shorter.body.metadata.deletionGracePeriodSeconds, 5);
  const now = await call(s, "DELETE", `${pods}/running`, {
    body: { kind: "DeleteOptions", apiVersion: "v1", gracePeriodSeconds: 0 },
  });
  assert.equal(now.status, 200);
  assert.equal((await call(s, "GET", `${pods}/running`)).status, 404);

  await call(s, "POST", pods, { body: pod("unscheduled", {}) });
  assert.equal((await call(s, "DELETE", `${pods}/unscheduled`)).status, 200);
  assert.equal((await call(s, "GET", `${pods}/unscheduled`)).status, 404, "a pod on no node goes at once");

  await call(s, "POST", "/api/v1/namespaces/default/configmaps", {
    body: { metadata: { name: "held", finalizers: ["x/y"] } },
  });
  const accepted = await call(s, "DELETE", "/api/v1/namespaces/default/configmaps/held", {
    body: { kind: "DeleteOptions", apiVersion: "v1", orphanDependents: false },
  });
  assert.equal(accepted.status, 202);
});
