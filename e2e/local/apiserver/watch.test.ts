import assert from "node:assert/strict";
import { test } from "node:test";
import { startApiServer } from "./server.ts";
import { call, openWatch } from "./testclient.ts";

const base = "/api/v1/namespaces/default/configmaps";
const cm = (name: string, labels: Record<string, string> = {}) => ({
  metadata: { name, labels },
  data: { v: "1" },
});

test("watch from now, from 0, resumed from a resourceVersion, and 410 Gone for a compacted one", async (t) => {
  const s = await startApiServer({ historySize: 5 });
  t.after(() => s.stop());
  const a = await call(s, "POST", base, { body: cm("a") });
  const rvA = a.body.metadata.resourceVersion;

  const fromZero = await openWatch(s, `${base}?watch=true&resourceVersion=0`);
  t.after(() => fromZero.close());
  assert.equal(fromZero.status, 200);
  const [initial] = await fromZero.waitFor(1);
  assert.equal(initial?.type, "ADDED");
  assert.equal(initial?.object.metadata.name, "a");

  const resumed = await openWatch(s, `${base}?watch=1&resourceVersion=${rvA}`);
  t.after(() => resumed.close());
  await call(s, "POST", base, { body: cm("b") });
  await call(s, "PATCH", `${base}/a`, {
    body: { data: { v: "2" } },
    contentType: "application/merge-patch+json",
  });
  await call(s, "DELETE", `${base}/b`);
  const events = await resumed.waitFor(3);
  assert.deepEqual(
    events.map((e) => `${e.type} ${e.object.metadata.name}`),
    ["ADDED b", "MODIFIED a", "DELETED b"],
  );
  assert.ok(
    Number(events[2]?.object.metadata.resourceVersion) > Number(events[1]?.object.metadata.resourceVersion),
  );

  const legacy = await openWatch(s, `/api/v1/watch/namespaces/default/configmaps?resourceVersion=${rvA}`);
  t.after(() => legacy.close());
  assert.equal((await legacy.waitFor(3)).length, 3);

  for (let i = 0; i < 6; i++) await call(s, "POST", base, { body: cm(`x${i}`) });
  const gone = await openWatch(s, `${base}?watch=true&resourceVersion=${rvA}`);
  const [err] = await gone.waitFor(1);
  await gone.ended;
  assert.equal(err?.type, "ERROR");
  assert.equal(err?.object.kind, "Status");
  assert.equal(err?.object.code, 410);
  assert.equal(err?.object.reason, "Gone");
  assert.match(err?.object.message, /^too old resource version: \d+ \(\d+\)$/);
});

test("bookmarks carry the current resourceVersion; timeoutSeconds ends the stream; stop ends watches", async (t) => {
  const s = await startApiServer({ bookmarkIntervalMs: 50 });
  t.after(() => s.stop());
  const list = await call(s, "GET", base);
  const w = await openWatch(
    s,
    `${base}?watch=true&allowWatchBookmarks=true&resourceVersion=${list.body.metadata.resourceVersion}&timeoutSeconds=1`,
  );
  const created = await call(s, "POST", base, { body: cm("a") });
  const events = await w.waitFor(2);
  assert.equal(events[0]?.type, "ADDED");
  assert.equal(events[1]?.type, "BOOKMARK");
  assert.deepEqual(events[1]?.object, {
    kind: "ConfigMap",
    apiVersion: "v1",
    metadata: { resourceVersion: created.body.metadata.resourceVersion },
  });
  const started = Date.now();
  await w.ended;
  assert.ok(Date.now() - started < 1500);

  const open = await openWatch(s, `${base}?watch=true`);
  await s.stop();
  await open.ended;
});

test("watch honours label and field selectors, including objects leaving the selection", async (t) => {
  const s = await startApiServer();
  t.after(() => s.stop());
  const rv = (await call(s, "GET", base)).body.metadata.resourceVersion;
  const w = await openWatch(s, `${base}?watch=true&resourceVersion=${rv}&labelSelector=app%3Dx`);
  t.after(() => w.close());
  const byName = await openWatch(
    s,
    `${base}?watch=true&resourceVersion=${rv}&fieldSelector=metadata.name%3Db`,
  );
  t.after(() => byName.close());
  await call(s, "POST", base, { body: cm("a", { app: "y" }) });
  await call(s, "POST", base, { body: cm("b", { app: "x" }) });
  await call(s, "PATCH", `${base}/a`, {
    body: { metadata: { labels: { app: "x" } } },
    contentType: "application/merge-patch+json",
  });
  await call(s, "PATCH", `${base}/b`, {
    body: { metadata: { labels: { app: "z" } } },
    contentType: "application/merge-patch+json",
  });
  const events = await w.waitFor(3);
  assert.deepEqual(
    events.map((e) => `${e.type} ${e.object.metadata.name}`),
    ["ADDED b", "ADDED a", "DELETED b"],
  );
  const named = await byName.waitFor(2);
  assert.deepEqual(
    named.map((e) => `${e.type} ${e.object.metadata.name}`),
    ["ADDED b", "MODIFIED b"],
  );
});
