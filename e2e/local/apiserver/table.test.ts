import assert from "node:assert/strict";
import { test } from "node:test";
import { startApiServer } from "./server.ts";
import { humanDuration, jsonPath } from "./table.ts";
import { call, widgetsCrd } from "./testclient.ts";

const kubectlAccept =
  "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

test("jsonPath and ages as kubectl prints them", () => {
  const obj = {
    status: {
      conditions: [
        { type: "A", status: "False" },
        { type: "Ready", status: "True" },
      ],
    },
    a: { b: [1, 2] },
  };
  assert.equal(jsonPath(obj, '.status.conditions[?(@.type=="Ready")].status'), "True");
  assert.equal(jsonPath(obj, ".a.b[1]"), 2);
  assert.equal(jsonPath(obj, ".a.b[*]"), "1,2");
  assert.equal(jsonPath(obj, ".missing.x"), undefined);
  assert.equal(humanDuration(5_000), "5s");
  assert.equal(humanDuration(150_000), "2m30s");
  assert.equal(humanDuration(3 * 3600_000), "3h");
  assert.equal(humanDuration(50 * 3600_000), "2d2h");
});

test("Table output for custom resources uses additionalPrinterColumns", async (t) => {
  const s = await startApiServer({ crds: [widgetsCrd] });
  t.after(() => s.stop());
  const base = "/apis/test.xdpcounter.dev/v1alpha1/namespaces/default/widgets";
  await call(s, "POST", base, {
    body: {
      apiVersion: "test.xdpcounter.dev/v1alpha1",
      kind: "Widget",
      metadata: { name: "w" },
      spec: { action: "drop" },
    },
  });
  await call(s, "PATCH", `${base}/w/status`, {
    body: { status: { nodeCount: 2, conditions: [{ type: "Ready", status: "True" }] } },
    contentType: "application/merge-patch+json",
  });
  const table = await call(s, "GET", base, { accept: kubectlAccept });
  assert.equal(table.status, 200);
  assert.equal(table.body.kind, "Table");
  assert.equal(table.body.apiVersion, "meta.k8s.io/v1");
  assert.deepEqual(
    table.body.columnDefinitions.map((c: { name: string; priority: number }) => `${c.name}:${c.priority}`),
    ["Name:0", "Action:0", "Interval:0", "Ready:0", "Nodes:1", "Age:0"],
  );
  assert.equal(table.body.rows.length, 1);
  const [name, action, interval, ready, nodes, age] = table.body.rows[0].cells;
  assert.deepEqual([name, action, interval, ready, nodes], ["w", "drop", 10, "True", 2]);
  assert.match(age, /^\d+s$/);
  assert.equal(table.body.rows[0].object.kind, "PartialObjectMetadata");
  assert.equal(table.body.rows[0].object.metadata.name, "w");

  const withObject = await call(s, "GET", `${base}/w?includeObject=Object`, { accept: kubectlAccept });
  assert.equal(withObject.body.rows[0].object.kind, "Widget");
  assert.equal(withObject.body.rows[0].object.spec.action, "drop");
});

test("Table output for built-ins: pods and daemonsets", async (t) => {
  const s = await startApiServer();
  t.after(() => s.stop());
  await call(s, "POST", "/api/v1/namespaces/default/pods", {
    body: { metadata: { name: "p" }, spec: { nodeName: "n1", containers: [{ name: "c", image: "i" }] } },
  });
  const pods = await call(s, "GET", "/api/v1/namespaces/default/pods", { accept: kubectlAccept });
  assert.deepEqual(
    pods.body.columnDefinitions
      .filter((c: { priority: number }) => c.priority === 0)
      .map((c: { name: string }) => c.name),
    ["Name", "Ready", "Status", "Restarts", "Age"],
  );
  assert.deepEqual(pods.body.rows[0].cells.slice(0, 4), ["p", "0/1", "Pending", 0]);
  await call(s, "POST", "/apis/apps/v1/namespaces/default/daemonsets", {
    body: {
      metadata: { name: "ds" },
      spec: {
        selector: { matchLabels: { a: "b" } },
        template: {
          metadata: { labels: { a: "b" } },
          spec: { nodeSelector: { os: "linux" }, containers: [{ name: "c", image: "i" }] },
        },
      },
    },
  });
  const ds = await call(s, "GET", "/apis/apps/v1/namespaces/default/daemonsets/ds", {
    accept: kubectlAccept,
  });
  assert.deepEqual(
    ds.body.columnDefinitions
      .filter((c: { priority: number }) => c.priority === 0)
      .map((c: { name: string }) => c.name.toUpperCase()),
    ["NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"],
  );
  assert.deepEqual(ds.body.rows[0].cells.slice(0, 7), ["ds", 0, 0, 0, 0, 0, "os=linux"]);
});
