import assert from "node:assert/strict";
import { test } from "node:test";
import { startApiServer } from "./server.ts";
import { call } from "./testclient.ts";

test("core/v1 and events.k8s.io/v1 Events are the same objects in two shapes", async (t) => {
  const s = await startApiServer();
  t.after(() => s.stop());
  const v1 = await call(s, "POST", "/apis/events.k8s.io/v1/namespaces/default/events", {
    body: {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name: "e1" },
      eventTime: "2026-01-01T00:00:00.000000Z",
      regarding: {
        kind: "Widget",
        name: "w",
        namespace: "default",
        apiVersion: "test.xdpcounter.dev/v1alpha1",
      },
      reason: "Attached",
      note: "attached to eth0",
      type: "Normal",
      action: "Attach",
      reportingController: "xdp-counter/agent",
      reportingInstance: "node-a",
    },
  });
  assert.equal(v1.status, 201, JSON.stringify(v1.body));
  assert.equal(v1.body.note, "attached to eth0");
  const core = await call(s, "GET", "/api/v1/namespaces/default/events/e1");
  assert.equal(core.body.apiVersion, "v1");
  assert.equal(core.body.message, "attached to eth0");
  assert.equal(core.body.involvedObject.name, "w");
  assert.equal(core.body.reportingComponent, "xdp-counter/agent");
  const selected = await call(
    s,
    "GET",
    `/api/v1/namespaces/default/events?fieldSelector=${encodeURIComponent("involvedObject.name=w,involvedObject.kind=Widget")}`,
  );
  assert.deepEqual(
    selected.body.items.map((e: { metadata: { name: string } }) => e.metadata.name),
    ["e1"],
  );
  const byRegarding = await call(s, "GET", "/apis/events.k8s.io/v1/events?fieldSelector=regarding.name%3Dw");
  assert.equal(byRegarding.body.items.length, 1);
  assert.equal(byRegarding.body.items[0].regarding.kind, "Widget");

  await call(s, "POST", "/api/v1/namespaces/default/events", {
    body: {
      metadata: { name: "e2" },
      involvedObject: { kind: "Pod", name: "p" },
      message: "m",
      reason: "R",
      count: 3,
    },
  });
  const asV1 = await call(s, "GET", "/apis/events.k8s.io/v1/namespaces/default/events/e2");
  assert.equal(asV1.body.note, "m");
  assert.equal(asV1.body.deprecatedCount, 3);
  const patched = await call(s, "PATCH", "/apis/events.k8s.io/v1/namespaces/default/events/e2", {
    body: { note: "changed" },
    contentType: "application/merge-patch+json",
  });
  assert.equal(patched.body.note, "changed");
  assert.equal((await call(s, "GET", "/api/v1/namespaces/default/events/e2")).body.message, "changed");
});
