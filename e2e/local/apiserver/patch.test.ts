import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError } from "./errors.ts";
import { jsonPatch, mergePatch, strategicMergePatch } from "./patch.ts";
import { startApiServer } from "./server.ts";
import { call, widgetsCrd } from "./testclient.ts";

test("merge patch follows RFC 7386", () => {
  assert.deepEqual(mergePatch({ a: "b", c: { d: "e", f: "g" } }, { a: "z", c: { f: null } }), {
    a: "z",
    c: { d: "e" },
  });
  assert.deepEqual(mergePatch({ a: [1, 2] }, { a: [3] }), { a: [3] });
  assert.deepEqual(mergePatch({ a: 1 }, "x"), "x");
});

test("JSON patch follows RFC 6902", () => {
  const doc = { a: { b: [1, 2, 3] }, c: "x" };
  const out = jsonPatch(doc, [
    { op: "add", path: "/a/b/1", value: 9 },
    { op: "remove", path: "/a/b/0" },
    { op: "replace", path: "/c", value: "y" },
    { op: "copy", from: "/c", path: "/d" },
    { op: "move", from: "/d", path: "/e~1f" },
    { op: "add", path: "/a/b/-", value: 4 },
    { op: "test", path: "/c", value: "y" },
  ]);
  assert.deepEqual(out, { a: { b: [9, 2, 3, 4] }, c: "y", "e/f": "y" });
  assert.deepEqual(doc, { a: { b: [1, 2, 3] }, c: "x" }, "the input is not changed");
  assert.throws(
    () => jsonPatch(doc, [{ op: "test", path: "/c", value: "nope" }]),
    (err: unknown) =>
      err instanceof ApiError && err.code === 422 && err.cause === "testing value /c failed: test failed",
  );
  assert.throws(
    () => jsonPatch(doc, [{ op: "replace", path: "/missing", value: 1 }]),
    (err: unknown) => err instanceof ApiError && /missing/.test(String(err.cause)),
  );
});

test("strategic merge patch merges lists by their merge keys", () => {
  const pod = {
    spec: {
      containers: [
        { name: "a", image: "a:1", env: [{ name: "X", value: "1" }], ports: [{ containerPort: 80 }] },
        { name: "b", image: "b:1" },
      ],
      tolerations: [{ key: "t1" }],
    },
    metadata: { finalizers: ["f1"] },
  };
  const out = strategicMergePatch(pod, {
    metadata: { finalizers: ["f2"] },
    spec: {
      containers: [
        { name: "a", image: "a:2", env: [{ name: "Y", value: "2" }], ports: [{ containerPort: 81 }] },
        { name: "b", $patch: "delete" },
        { name: "c", image: "c:1" },
      ],
      tolerations: [{ key: "t2" }],
    },
  });
  assert.deepEqual(out, {
    spec: {
      containers: [
        {
          name: "a",
          image: "a:2",
          env: [
            { name: "X", value: "1" },
            { name: "Y", value: "2" },
          ],
          ports: [{ containerPort: 80 }, { containerPort: 81 }],
        },
        { name: "c", image: "c:1" },
      ],
      tolerations: [{ key: "t2" }],
    },
    metadata: { finalizers: ["f1", "f2"] },
  });
  const replaced = strategicMergePatch(pod, {
    spec: { containers: [{ name: "z" }, { $patch: "replace" }] },
  }) as {
    spec: { containers: unknown[] };
  };
  assert.deepEqual(replaced.spec.containers, [{ name: "z" }]);
  const ordered = strategicMergePatch(pod, {
    spec: {
      "$setElementOrder/containers": [{ name: "b" }, { name: "a" }],
      containers: [{ name: "a", image: "a:3" }],
    },
  }) as { spec: { containers: { name: string }[] } };
  assert.deepEqual(
    ordered.spec.containers.map((c) => c.name),
    ["b", "a"],
  );
});

test("PATCH over HTTP: JSON patch with test, strategic merge on built-ins, not on custom resources", async (t) => {
  const s = await startApiServer({ crds: [widgetsCrd] });
  t.after(() => s.stop());
  const base = "/apis/test.xdpcounter.dev/v1alpha1/namespaces/default/widgets";
  await call(s, "POST", base, {
    body: {
      apiVersion: "test.xdpcounter.dev/v1alpha1",
      kind: "Widget",
      metadata: { name: "w" },
      spec: { action: "pass" },
    },
  });
  const jp = "application/json-patch+json";
  const ok = await call(s, "PATCH", `${base}/w`, {
    body: [
      { op: "test", path: "/spec/action", value: "pass" },
      { op: "replace", path: "/spec/action", value: "drop" },
      { op: "add", path: "/spec/interfaces", value: ["eth0"] },
    ],
    contentType: jp,
  });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.spec.action, "drop");
  assert.deepEqual(ok.body.spec.interfaces, ["eth0"]);
  const failed = await call(s, "PATCH", `${base}/w`, {
    body: [
      { op: "test", path: "/spec/action", value: "pass" },
      { op: "replace", path: "/spec/action", value: "pass" },
    ],
    contentType: jp,
  });
  assert.equal(failed.status, 422);
  assert.deepEqual(failed.body, {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: "the server rejected our request due to an error in our request",
    reason: "Invalid",
    details: {},
    code: 422,
  });
  assert.equal((await call(s, "GET", `${base}/w`)).body.spec.action, "drop", "a failed test changes nothing");
  const invalid = await call(s, "PATCH", `${base}/w`, {
    body: [{ op: "replace", path: "/spec/action", value: "explode" }],
    contentType: jp,
  });
  assert.equal(invalid.status, 422);
  assert.equal(invalid.body.details.causes[0].field, "spec.action");
  const staleRv = await call(s, "PATCH", `${base}/w`, {
    body: { metadata: { resourceVersion: "1" }, spec: { action: "pass" } },
    contentType: "application/merge-patch+json",
  });
  assert.equal(staleRv.status, 409);
  const smpOnCr = await call(s, "PATCH", `${base}/w`, {
    body: { spec: { action: "pass" } },
    contentType: "application/strategic-merge-patch+json",
  });
  assert.equal(smpOnCr.status, 415);
  const missing = await call(s, "PATCH", `${base}/nope`, {
    body: {},
    contentType: "application/merge-patch+json",
  });
  assert.equal(missing.status, 404);

  const ds = "/apis/apps/v1/namespaces/default/daemonsets";
  await call(s, "POST", ds, {
    body: {
      metadata: { name: "agent" },
      spec: {
        selector: { matchLabels: { app: "agent" } },
        template: {
          metadata: { labels: { app: "agent" } },
          spec: { containers: [{ name: "agent", image: "agent:1", env: [{ name: "A", value: "1" }] }] },
        },
      },
    },
  });
  const smp = await call(s, "PATCH", `${ds}/agent`, {
    body: {
      spec: { template: { spec: { containers: [{ name: "agent", env: [{ name: "B", value: "2" }] }] } } },
    },
    contentType: "application/strategic-merge-patch+json",
  });
  assert.equal(smp.status, 200);
  assert.deepEqual(smp.body.spec.template.spec.containers, [
    {
      name: "agent",
      image: "agent:1",
      env: [
        { name: "A", value: "1" },
        { name: "B", value: "2" },
      ],
    },
  ]);
  assert.equal(smp.body.metadata.generation, 2);
});
