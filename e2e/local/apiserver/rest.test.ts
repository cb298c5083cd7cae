import assert from "node:assert/strict";
import { test } from "node:test";
import { startApiServer } from "./server.ts";
import { call } from "./testclient.ts";

const cm = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, ...extra },
  data: { a: "1" },
});

test("create, get, list, update with resourceVersion preconditions", async (t) => {
  const s = await startApiServer();
  t.after(() => s.stop());
  const base = "/api/v1/namespaces/default/configmaps";

  const created = await call(s, "POST", base, { body: cm("one") });
  assert.equal(created.status, 201);
  assert.equal(created.body.metadata.generation, 1);
  assert.match(created.body.metadata.uid, /^[0-9a-f-]{36}$/);
  assert.match(created.body.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const rv1 = created.body.metadata.resourceVersion;

  const again = await call(s, "POST", base, { body: cm("one") });
  assert.equal(again.status, 409);
  assert.equal(again.body.reason, "AlreadyExists");
  assert.equal(again.body.message, 'configmaps "one" already exists');

  const got = await call(s, "GET", `${base}/one`);
  assert.equal(got.status, 200);
  assert.equal(got.body.data.a, "1");

  const updated = await call(s, "PUT", `${base}/one`, { body: { ...got.body, data: { a: "2" } } });
  assert.equal(updated.status, 200);
  assert.ok(Number(updated.body.metadata.resourceVersion) > Number(rv1));
  assert.equal(updated.body.metadata.generation, 2, "data is not metadata or status: generation bumps");

  const stale = await call(s, "PUT", `${base}/one`, { body: { ...got.body, data: { a: "3" } } });
  assert.equal(stale.status, 409);
  assert.deepEqual(stale.body, {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message:
      'Operation cannot be fulfilled on configmaps "one": the object has been modified; please apply your changes to the latest version and try again',
    reason: "Conflict",
    details: { name: "one", group: "", kind: "configmaps" },
    code: 409,
  });

  const otherUid = await call(s, "PUT", `${base}/one`, {
    body: { ...got.body, metadata: { name: "one", uid: "00000000-0000-0000-0000-000000000000" } },
  });
  assert.equal(otherUid.status, 409);
  assert.match(
    otherUid.body.message,
    /Precondition failed: UID in precondition: 00000000-0000-0000-0000-000000000000/,
  );

  const { resourceVersion: _rv, ...noRv } = got.body.metadata;
  const unconditional = await call(s, "PUT", `${base}/one`, {
    body: { ...got.body, metadata: noRv, data: { a: "4" } },
  });
  assert.equal(unconditional.status, 200);
  assert.equal(unconditional.body.data.a, "4");

  const labelsOnly = await call(s, "PUT", `${base}/one`, {
    body: { ...unconditional.body, metadata: { ...unconditional.body.metadata, labels: { x: "y" } } },
  });
  assert.equal(labelsOnly.body.metadata.generation, 3, "metadata changes do not bump generation");

  const generated = await call(s, "POST", base, { body: cm("", { generateName: "gen-" }) });
  assert.equal(generated.status, 201);
  assert.match(generated.body.metadata.name, /^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);

  const list = await call(s, "GET", base);
  assert.equal(list.body.kind, "ConfigMapList");
  assert.equal(list.body.items.length, 2);
  assert.ok(Number(list.body.metadata.resourceVersion) >= Number(generated.body.metadata.resourceVersion));
});

test("label and field selectors", async (t) => {
  const s = await startApiServer();
  t.after(() => s.stop());
  const base = "/api/v1/namespaces/default/configmaps";
  await call(s, "POST", base, { body: cm("a", { labels: { tier: "web", env: "prod" } }) });
  await call(s, "POST", base, { body: cm("b", { labels: { tier: "db", env: "prod" } }) });
  await call(s, "POST", base, { body: cm("c", { labels: { tier: "web" } }) });
  const names = async (q: string) =>
    (await call(s, "GET", `${base}?${q}`)).body.items.map(
      (i: { metadata: { name: string } }) => i.metadata.name,
    );
  assert.deepEqual(await names("labelSelector=tier%3Dweb"), ["a", "c"]);
  assert.deepEqual(await names("labelSelector=tier!%3Dweb"), ["b"]);
  assert.deepEqual(await names("labelSelector=env"), ["a", "b"]);
  assert.deepEqual(await names("labelSelector=!env"), ["c"]);
  assert.deepEqual(await names(`labelSelector=${encodeURIComponent("tier in (db,cache),env")}`), ["b"]);
  assert.deepEqual(await names(`labelSelector=${encodeURIComponent("tier notin (db)")}`), ["a", "c"]);
  assert.deepEqual(await names("fieldSelector=metadata.name%3Db"), ["b"]);
  assert.deepEqual(await names("fieldSelector=metadata.name!%3Db"), ["a", "c"]);
  assert.deepEqual(await names("fieldSelector=metadata.namespace%3Dkube-system"), []);
  const bad = await call(s, "GET", `${base}?fieldSelector=spec.nodeName%3Dx`);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.message, "field label not supported: spec.nodeName");

  await call(s, "POST", "/api/v1/nodes", {
    body: { apiVersion: "v1", kind: "Node", metadata: { name: "n1" } },
  });
  const pods = "/api/v1/namespaces/default/pods";
  for (const [name, node] of [
    ["p1", "n1"],
    ["p2", "n2"],
  ])
    await call(s, "POST", pods, {
      body: { metadata: { name }, spec: { nodeName: node, containers: [{ name: "c", image: "i" }] } },
    });
  const onN1 = await call(s, "GET", `/api/v1/pods?fieldSelector=spec.nodeName%3Dn1`);
  assert.deepEqual(
    onN1.body.items.map((i: { metadata: { name: string } }) => i.metadata.name),
    ["p1"],
  );
});

test("namespaces: missing namespace is 404, cluster-scoped resources, default namespaces", async (t) => {
  const s = await startApiServer();
  t.after(() => s.stop());
  const missing = await call(s, "POST", "/api/v1/namespaces/nope/configmaps", { body: cm("x") });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.message, 'namespaces "nope" not found');
  const nss = await call(s, "GET", "/api/v1/namespaces");
  const names = nss.body.items.map((i: { metadata: { name: string } }) => i.metadata.name);
  for (const n of ["default", "kube-system", "kube-public"]) assert.ok(names.includes(n));
  const badName = await call(s, "POST", "/api/v1/namespaces/default/configmaps", { body: cm("Bad_Name") });
  assert.equal(badName.status, 422);
  assert.equal(badName.body.details.causes[0].field, "metadata.name");
  assert.match(
    badName.body.message,
    /^ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
  );
});

test("bad input: malformed JSON and YAML, unknown resource, wrong content type, oversized body", async (t) => {
  const s = await startApiServer({ logUnknown: () => {} });
  t.after(() => s.stop());
  const base = "/api/v1/namespaces/default/configmaps";
  const malformed = await call(s, "POST", base, { body: "{not json" });
  assert.equal(malformed.status, 400);
  assert.equal(malformed.body.kind, "Status");
  assert.equal(malformed.body.reason, "BadRequest");
  const badYaml = await call(s, "POST", base, { body: "a: [1\nb: }", contentType: "application/yaml" });
  assert.equal(badYaml.status, 400);
  const yamlOk = await call(s, "POST", base, {
    body: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\ndata:\n  k: v\n",
    contentType: "application/yaml",
  });
  assert.equal(yamlOk.status, 201);

  const unknown = await call(s, "GET", "/apis/nothing.example.com/v1/things");
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.reason, "NotFound");
  const unknownCore = await call(s, "GET", "/api/v1/namespaces/default/gadgets");
  assert.equal(unknownCore.status, 404);

  const wrongType = await call(s, "POST", base, { body: "<xml/>", contentType: "application/xml" });
  assert.equal(wrongType.status, 415);
  assert.equal(wrongType.body.reason, "UnsupportedMediaType");
  const wrongPatch = await call(s, "PATCH", `${base}/y`, { body: "{}", contentType: "application/json" });
  assert.equal(wrongPatch.status, 415);

  const huge = JSON.stringify({ ...cm("big"), data: { a: "x".repeat(3 * 1024 * 1024 + 10) } });
  const tooLarge = await call(s, "POST", base, { body: huge });
  assert.equal(tooLarge.status, 413);
  assert.equal(tooLarge.body.reason, "RequestEntityTooLarge");
  // the server is still serving
  assert.equal((await call(s, "GET", `${base}/y`)).status, 200);

  const notFound = await call(s, "GET", `${base}/none`);
  assert.equal(notFound.status, 404);
  assert.equal(notFound.body.message, 'configmaps "none" not found');
  const allNamespaces = await call(s, "POST", "/api/v1/configmaps", { body: cm("z") });
  assert.equal(
    allNamespaces.status,
    405,
    "namespaced objects are not created through the all-namespaces path",
  );
  const wrongMethod = await call(s, "POST", `${base}/y`, { body: cm("y") });
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.body.reason, "MethodNotAllowed");
});

test("delete returns Status or the object, deletecollection honours selectors", async (t) => {
  const s = await startApiServer();
  t.after(() => s.stop());
  const base = "/api/v1/namespaces/default/configmaps";
  for (const n of ["a", "b", "c"])
    await call(s, "POST", base, { body: cm(n, { labels: { g: n === "c" ? "2" : "1" } }) });
  const del = await call(s, "DELETE", `${base}/a`);
  assert.equal(del.status, 200);
  assert.equal(del.body.kind, "Status");
  assert.equal(del.body.status, "Success");
  assert.equal(del.body.details.name, "a");
  assert.equal((await call(s, "DELETE", `${base}/a`)).status, 404);
  const coll = await call(s, "DELETE", `${base}?labelSelector=g%3D1`);
  assert.equal(coll.status, 200);
  assert.equal(coll.body.items.length, 1);
  const left = await call(s, "GET", base);
  assert.deepEqual(
    left.body.items.map((i: { metadata: { name: string } }) => i.metadata.name),
    ["c"],
  );
  const pod = await call(s, "POST", "/api/v1/namespaces/default/pods", {
    body: { metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "i" }] } },
  });
  assert.equal(pod.status, 201);
  const delPod = await call(s, "DELETE", "/api/v1/namespaces/default/pods/p");
  assert.equal(delPod.body.kind, "Pod", "pods return the deleted object");
});

test("metadata validation: label keys and values, ownerReferences", async (t) => {
  const s = await startApiServer();
  t.after(() => s.stop());
  const base = "/api/v1/namespaces/default/configmaps";
  const ok = await call(s, "POST", base, {
    body: cm("ok", {
      labels: { "app.kubernetes.io/name": "x", empty: "" },
      annotations: { "example.com/Any": "thing with spaces" },
    }),
  });
  assert.equal(ok.status, 201);
  const badValue = await call(s, "POST", base, { body: cm("bv", { labels: { app: "has space" } }) });
  assert.equal(badValue.status, 422);
  assert.equal(badValue.body.details.causes[0].field, "metadata.labels");
  assert.match(
    badValue.body.message,
    /^ConfigMap "bv" is invalid: metadata.labels: Invalid value: "has space": a valid label must be an empty string or consist of alphanumeric characters/,
  );
  const badKey = await call(s, "POST", base, { body: cm("bk", { labels: { "-bad": "x" } }) });
  assert.equal(badKey.status, 422);
  assert.match(
    badKey.body.message,
    /metadata.labels: Invalid value: "-bad": name part must consist of alphanumeric characters/,
  );
  const longValue = await call(s, "POST", base, { body: cm("lv", { labels: { a: "x".repeat(64) } }) });
  assert.equal(longValue.status, 422);
  const badOwner = await call(s, "POST", base, {
    body: cm("bo", { ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "ok" }] }),
  });
  assert.equal(badOwner.status, 422);
  assert.equal(badOwner.body.details.causes[0].field, "metadata.ownerReferences[0].uid");
});

test("objects larger than etcd's request limit are refused", async (t) => {
  const s = await startApiServer({ maxObjectBytes: 64 * 1024 });
  t.after(() => s.stop());
  const base = "/api/v1/namespaces/default/configmaps";
  const big = await call(s, "POST", base, { body: { ...cm("big"), data: { a: "x".repeat(70 * 1024) } } });
  assert.equal(big.status, 500);
  assert.equal(big.body.reason, "");
  assert.equal(big.body.message, "etcdserver: request is too large");
  assert.equal((await call(s, "GET", `${base}/big`)).status, 404);
});

test("unknown top-level and metadata fields: dropped with a warning, refused under Strict", async (t) => {
  const s = await startApiServer();
  t.after(() => s.stop());
  const base = "/api/v1/namespaces/default/configmaps";
  const strict = await call(s, "POST", `${base}?fieldValidation=Strict`, {
    body: { metadata: { name: "s", labelz: { a: "b" } }, data: { a: "1" }, dta: { b: "2" } },
  });
  assert.equal(strict.status, 400);
  assert.equal(
    strict.body.message,
    'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "metadata.labelz", unknown field "dta"',
  );
  const warned = await call(s, "POST", base, {
    body: { metadata: { name: "w" }, data: { a: "1" }, dta: { b: "2" } },
  });
  assert.equal(warned.status, 201);
  assert.equal(warned.headers.warning, '299 - "unknown field \\"dta\\""');
  assert.equal(warned.body.dta, undefined);
  const ignored = await call(s, "POST", `${base}?fieldValidation=Ignore`, {
    body: { metadata: { name: "i" }, dta: {} },
  });
  assert.equal(ignored.status, 201);
  assert.equal(ignored.headers.warning, undefined);
});

test("paged lists: limit and continue", async (t) => {
  const s = await startApiServer();
  t.after(() => s.stop());
  const base = "/api/v1/namespaces/default/configmaps";
  for (const n of ["a", "b", "c", "d", "e"]) await call(s, "POST", base, { body: cm(n) });
  const names: string[] = [];
  let token = "";
  let pages = 0;
  do {
    const page = await call(
      s,
      "GET",
      `${base}?limit=2${token ? `&continue=${encodeURIComponent(token)}` : ""}`,
    );
    assert.equal(page.status, 200);
    names.push(...page.body.items.map((i: { metadata: { name: string } }) => i.metadata.name));
    token = page.body.metadata.continue ?? "";
    pages++;
  } while (token);
  assert.deepEqual(names, ["a", "b", "c", "d", "e"]);
  assert.equal(pages, 3);
  assert.equal((await call(s, "GET", `${base}?limit=2&continue=%%%`)).status, 400);
});
