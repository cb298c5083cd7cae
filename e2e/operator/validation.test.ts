// Invalid XdpCounters are refused by the API server itself (the CRD's schema), with the field named, so
// they never reach the operator; what gets past the server becomes a condition, not a crash loop.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { daemonSetsPath } from "../../operator/controller/index.ts";
import {
  applyOnceAccepted,
  type Cluster,
  eventually,
  type InProcessOperator,
  NAMESPACE,
  startCluster,
  startController,
  xdpCounterYaml,
} from "./harness.ts";

let cluster: Cluster;
let operator: InProcessOperator;

before(async () => {
  cluster = await startCluster();
  operator = await startController(cluster);
});

after(async () => {
  await operator?.stop();
  await cluster?.stop();
});

const cases: { what: string; spec: Record<string, unknown>; field: RegExp }[] = [
  { what: "a bad interface pattern", spec: { interfaces: ["eth/0"] }, field: /spec\.interfaces\[0\]/ },
  {
    what: "an interface name too long",
    spec: { interfaces: ["a-very-long-interface-name"] },
    field: /spec\.interfaces\[0\]/,
  },
  { what: "reportInterval: 0s", spec: { reportInterval: "0s" }, field: /spec\.reportInterval/ },
  {
    what: "reportInterval in milliseconds",
    spec: { reportInterval: "500ms" },
    field: /spec\.reportInterval/,
  },
  {
    what: "an unknown action",
    spec: { action: "bounce" },
    field: /spec\.action: Unsupported value: "bounce"/,
  },
  {
    what: "an unknown attach mode",
    spec: { attachMode: "offload" },
    field: /spec\.attachMode: Unsupported value/,
  },
  { what: "interfaces as a string", spec: { interfaces: "eth0" }, field: /spec\.interfaces/ },
  { what: "reportInterval as a number", spec: { reportInterval: 10 }, field: /spec\.reportInterval/ },
  {
    what: "a nodeSelector value as a number",
    spec: { nodeSelector: { pool: 3 } },
    field: /spec\.nodeSelector\.pool/,
  },
];

for (const c of cases) {
  test(`kubectl apply refuses ${c.what}, naming the field`, async () => {
    const res = await cluster.kubectl(["apply", "-f", "-"], xdpCounterYaml("bad", c.spec));
    assert.notEqual(res.code, 0, `accepted: ${res.stdout}`);
    assert.match(res.stderr, c.field);
    assert.match(res.stderr, /invalid/i);
  });
}

test("kubectl apply refuses an unknown field, naming it", async () => {
  const res = await cluster.kubectl(["apply", "-f", "-"], xdpCounterYaml("bad", { interface: ["eth0"] }));
  assert.notEqual(res.code, 0);
  assert.match(res.stderr, /unknown field "spec\.interface"/);
});

test("nothing refused ever reached the operator", async () => {
  assert.equal(await cluster.getXdpCounter("bad"), undefined);
  assert.deepEqual((await cluster.admin.list(daemonSetsPath(NAMESPACE))).items, []);
  assert.deepEqual(cluster.operatorWrites(), []);
});

test("what only CEL or zod refuses reaches the operator, which reports InvalidSpec instead of failing", async () => {
  // The API server refuses reportInterval above 1h by the CRD's CEL rule; a CRD older than the operator (here:
  // without that rule) lets it through, and then the operator must report it, not crash-loop.
  const refused = await cluster.kubectl(
    ["apply", "-f", "-"],
    xdpCounterYaml("too-slow", { reportInterval: "2h" }),
  );
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /spec\.reportInterval: Invalid value: "2h": must be between 1s and 1h/);
  const restore = await cluster.withOlderCrd();
  try {
    await applyOnceAccepted(cluster, "too-slow", { reportInterval: "2h" });
  } finally {
    await restore();
  }
  const reason = await eventually(async () => {
    const out = await cluster.kubectl([
      "get",
      "xdpc",
      "too-slow",
      "-o",
      'jsonpath={.status.conditions[?(@.type=="Ready")].reason}/{.status.conditions[?(@.type=="Ready")].message}',
    ]);
    return out.stdout.startsWith("InvalidSpec") && out.stdout;
  }, "condition InvalidSpec");
  assert.match(reason, /spec\.reportInterval: must be at most 1h/);
  assert.deepEqual((await cluster.admin.list(daemonSetsPath(NAMESPACE))).items, [], "no agents for it");
  const del = await cluster.kubectl(["delete", "xdpc", "too-slow", "--timeout=10s"]);
  assert.equal(del.code, 0, del.stderr);
});
