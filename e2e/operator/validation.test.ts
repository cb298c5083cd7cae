// Invalid XdpCounters are refused by the API server itself (the CRD's schema and CEL rules), with the field
// named, so they never reach the operator; what gets past the server becomes a condition, not a crash loop,
// and the agents keep the last spec they had.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { xdpCounter } from "../../api/v1alpha1/index.ts";
import { xdpCountersPath } from "../../runtime/kube/index.ts";
import {
  applyOnceAccepted,
  type Cluster,
  eventually,
  type InProcessOperator,
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

type Case = {
  what: string;
  name?: string;
  spec: unknown;
  /** The field path and the gist of the API server's message. */
  field: RegExp;
  /**
   * The path zod names for the same object, so the operator and the agents would refuse it too; undefined
   * for unknown fields, which the API server prunes where a client does not ask for strict validation, and
   * which zod strips the same way.
   */
  zod: string | undefined;
};

// Conflicting settings: within a toleration (operator Exists with a value, tolerationSeconds without
// NoExecute, an empty key without Exists) are the only combinations of the spec that contradict each other;
// every other field stands on its own (any interfaces, attach mode, action and interval go together).
const cases: Case[] = [
  // types
  { what: "a spec that is a list", spec: ["eth0"], field: /spec: Invalid value: "array"/, zod: "spec" },
  {
    what: "interfaces as a string",
    spec: { interfaces: "eth0" },
    field: /spec\.interfaces/,
    zod: "spec.interfaces",
  },
  {
    what: "an interface as a number",
    spec: { interfaces: [0] },
    field: /spec\.interfaces\[0\]: Invalid value: "integer"/,
    zod: "spec.interfaces.0",
  },
  {
    what: "reportInterval as a number",
    spec: { reportInterval: 10 },
    field: /spec\.reportInterval/,
    zod: "spec.reportInterval",
  },
  {
    what: "a nodeSelector value as a number",
    spec: { nodeSelector: { pool: 3 } },
    field: /spec\.nodeSelector\.pool/,
    zod: "spec.nodeSelector.pool",
  },
  {
    what: "tolerationSeconds as a string",
    spec: { tolerations: [{ key: "k", effect: "NoExecute", tolerationSeconds: "60" }] },
    field: /spec\.tolerations\[0\]\.tolerationSeconds: Invalid value: "string"/,
    zod: "spec.tolerations.0.tolerationSeconds",
  },
  // enumerations
  {
    what: "an unknown action",
    spec: { action: "bounce" },
    field: /spec\.action: Unsupported value: "bounce"/,
    zod: "spec.action",
  },
  {
    what: "an unknown attach mode",
    spec: { attachMode: "offload" },
    field: /spec\.attachMode: Unsupported value/,
    zod: "spec.attachMode",
  },
  {
    what: "an unknown taint effect",
    spec: { tolerations: [{ key: "k", operator: "Exists", effect: "Sometimes" }] },
    field: /spec\.tolerations\[0\]\.effect: Unsupported value: "Sometimes"/,
    zod: "spec.tolerations.0.effect",
  },
  // ranges
  {
    what: "reportInterval: 0s",
    spec: { reportInterval: "0s" },
    field: /spec\.reportInterval/,
    zod: "spec.reportInterval",
  },
  {
    what: "reportInterval in milliseconds",
    spec: { reportInterval: "500ms" },
    field: /spec\.reportInterval/,
    zod: "spec.reportInterval",
  },
  {
    what: "reportInterval above 1h (CEL)",
    spec: { reportInterval: "1h0m1s" },
    field: /spec\.reportInterval: Invalid value: "1h0m1s": must be between 1s and 1h/,
    zod: "spec.reportInterval",
  },
  {
    what: "an interface name too long",
    spec: { interfaces: ["a-very-long-interface-name"] },
    field: /spec\.interfaces\[0\]/,
    zod: "spec.interfaces.0",
  },
  {
    what: "more than 32 interfaces",
    spec: { interfaces: Array.from({ length: 33 }, (_, i) => `eth${i}`) },
    field: /spec\.interfaces: Too many: 33: must have at most 32 items/,
    zod: "spec.interfaces",
  },
  {
    what: "a nodeSelector value longer than 63 characters",
    spec: { nodeSelector: { pool: "x".repeat(64) } },
    field: /spec\.nodeSelector\.pool: Too long/,
    zod: "spec.nodeSelector.pool",
  },
  {
    // it labels its reports, and a label value has at most 63 characters (docs/adr/0022)
    what: "a name longer than 63 characters (CEL)",
    name: `n${"x".repeat(63)}`,
    spec: {},
    field: /metadata\.name: an XdpCounter's name has at most 63 characters/,
    zod: "metadata.name",
  },
  // unknown fields
  {
    what: "an unknown field in spec",
    spec: { interface: ["eth0"] },
    field: /strict decoding error: unknown field "spec\.interface"/,
    zod: undefined,
  },
  {
    what: "an unknown field in a toleration",
    spec: { tolerations: [{ key: "k", operator: "Exists", tolerationSecond: 5 }] },
    field: /unknown field "spec\.tolerations\[0\]\.tolerationSecond"/,
    zod: undefined,
  },
  // interface names and globs
  {
    what: "a slash in an interface name",
    spec: { interfaces: ["eth/0"] },
    field: /spec\.interfaces\[0\]/,
    zod: "spec.interfaces.0",
  },
  {
    what: "the interface name .. (CEL)",
    spec: { interfaces: [".."] },
    field: /spec\.interfaces\[0\]: Invalid value: "\.\.": cannot be \. or \.\./,
    zod: "spec.interfaces.0",
  },
  {
    what: "a glob whose [ is never closed (CEL)",
    spec: { interfaces: ["eth0", "ens[0-9"] },
    field: /spec\.interfaces\[1\]: Invalid value: "ens\[0-9": its brackets must pair up/,
    zod: "spec.interfaces.1",
  },
  {
    what: "a glob with a ] that closes nothing (CEL)",
    spec: { interfaces: ["eth0]"] },
    field: /spec\.interfaces\[0\]: Invalid value: "eth0\]": its brackets must pair up/,
    zod: "spec.interfaces.0",
  },
  {
    what: "a glob with an empty set (CEL)",
    spec: { interfaces: ["eth[!]"] },
    field: /spec\.interfaces\[0\]: Invalid value: "eth\[!\]": its brackets must pair up/,
    zod: "spec.interfaces.0",
  },
  {
    what: "a glob with a range that runs backwards (CEL)",
    spec: { interfaces: ["ens[9-0]*"] },
    field: /spec\.interfaces\[0\]: Invalid value: "ens\[9-0\]\*": has a range in \[ \] that runs backwards/,
    zod: "spec.interfaces.0",
  },
  // nodeSelector and tolerations
  {
    what: "a nodeSelector key that is no label key (CEL)",
    spec: { nodeSelector: { "kubernetes.io/os": "linux", "node role": "edge" } },
    field: /spec\.nodeSelector: Invalid value: every key must be a label key/,
    zod: "spec.nodeSelector.node role",
  },
  {
    what: "a nodeSelector value that is no label value",
    spec: { nodeSelector: { pool: "edge nodes" } },
    field: /spec\.nodeSelector\.pool: Invalid value: "edge nodes"/,
    zod: "spec.nodeSelector.pool",
  },
  {
    what: "a toleration key that is no label key",
    spec: { tolerations: [{ key: "dedicated=net", operator: "Exists" }] },
    field: /spec\.tolerations\[0\]\.key: Invalid value: "dedicated=net"/,
    zod: "spec.tolerations.0.key",
  },
  {
    what: "a toleration value that is no label value",
    spec: { tolerations: [{ key: "dedicated", value: "net/edge", effect: "NoSchedule" }] },
    field: /spec\.tolerations\[0\]\.value: Invalid value: "net\/edge"/,
    zod: "spec.tolerations.0.value",
  },
  // conflicting settings
  {
    what: "a toleration with operator Exists and a value (CEL)",
    spec: { tolerations: [{ key: "dedicated", operator: "Exists", value: "net" }] },
    field: /spec\.tolerations\[0\]: Invalid value: value must be empty when operator is Exists/,
    zod: "spec.tolerations.0.value",
  },
  {
    what: "tolerationSeconds without effect NoExecute (CEL)",
    spec: {
      tolerations: [{ key: "dedicated", operator: "Exists", effect: "NoSchedule", tolerationSeconds: 60 }],
    },
    field: /spec\.tolerations\[0\]: Invalid value: tolerationSeconds is only valid with effect NoExecute/,
    zod: "spec.tolerations.0.tolerationSeconds",
  },
  {
    what: "a toleration without a key and without operator Exists (CEL)",
    spec: { tolerations: [{ operator: "Equal", value: "net" }] },
    field: /spec\.tolerations\[0\]: Invalid value: an empty key needs operator Exists/,
    zod: "spec.tolerations.0.operator",
  },
];

test(`the table holds at least 20 invalid XdpCounters (${cases.length})`, () => {
  assert.ok(cases.length >= 20);
});

function objectOf(c: Case): Record<string, unknown> {
  return {
    apiVersion: "xdpcounter.dev/v1alpha1",
    kind: "XdpCounter",
    metadata: { name: c.name ?? "bad" },
    spec: c.spec,
  };
}

for (const c of cases) {
  test(`kubectl apply refuses ${c.what}, naming the field`, async () => {
    const res = await cluster.kubectl(["apply", "-f", "-"], JSON.stringify(objectOf(c)));
    assert.notEqual(res.code, 0, `accepted: ${res.stdout}`);
    assert.match(res.stderr, c.field);
    // refused by the schema (422 Invalid), or by strict decoding (400) for an unknown field
    assert.match(res.stderr, c.zod === undefined ? /strict decoding error/ : /is invalid/);
    if (c.zod !== undefined) {
      const parsed = xdpCounter.safeParse(objectOf(c));
      assert.equal(parsed.success, false, "zod refuses it too");
      const paths = parsed.error?.issues.map((i) => i.path.join(".")) ?? [];
      assert.ok(
        paths.some((path) => path === c.zod),
        `zod names ${c.zod}: ${JSON.stringify(parsed.error?.issues)}`,
      );
    }
  });
}

const LONGEST = `n${"x".repeat(62)}`;

test("a name of exactly 63 characters is accepted", async () => {
  const name = LONGEST;
  const res = await cluster.kubectl(["apply", "-f", "-"], xdpCounterYaml(name, {}));
  assert.equal(res.code, 0, res.stderr);
  await eventually(async () => (await cluster.agentSpecs())?.[name] !== undefined, "its spec for the agents");
  const del = await cluster.kubectl(["delete", "xdpc", name, "--timeout=10s"]);
  assert.equal(del.code, 0, del.stderr);
});

const EDGES = "edges";

test("what each rule allows at its edge is accepted, by the API server and zod alike", async () => {
  const spec = {
    interfaces: ["eth0", "ens[0-9]*", "eth[!a-c]?", "x[--a]", "x[a-]", "a-z", "a23456789012345", "*"],
    nodeSelector: { "kubernetes.io/os": "linux", "example.com/tier": "", pool: "edge_1.a" },
    tolerations: [
      { operator: "Exists" },
      { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
      { key: "dedicated", value: "net", effect: "NoExecute", tolerationSeconds: 300 },
    ],
    attachMode: "generic",
    action: "drop",
    reportInterval: "1h0m0s",
  };
  assert.equal(
    xdpCounter.safeParse(objectOf({ what: "", name: EDGES, spec, field: /./, zod: "" })).success,
    true,
  );
  const res = await cluster.kubectl(["apply", "-f", "-"], xdpCounterYaml(EDGES, spec));
  assert.equal(res.code, 0, res.stderr);
  await eventually(
    async () => (await cluster.agentSpecs())?.[EDGES]?.reportIntervalMs === 3_600_000,
    "its spec for the agents",
  );
  const del = await cluster.kubectl(["delete", "xdpc", EDGES, "--timeout=10s"]);
  assert.equal(del.code, 0, del.stderr);
  await eventually(async () => (await cluster.agentSpecs())?.[EDGES] === undefined, "its key removed");
});

test("nothing refused ever reached the operator", async () => {
  assert.equal(await cluster.getXdpCounter("bad"), undefined);
  assert.deepEqual(Object.keys((await cluster.agentSpecs()) ?? {}), [], "no spec for the agents");
  const accepted = [LONGEST, EDGES].map((name) => xdpCountersPath(name));
  const onXdpCounters = cluster
    .operatorWrites()
    .filter((w) => w.url.startsWith(xdpCountersPath()) && !accepted.some((path) => w.url.startsWith(path)));
  assert.deepEqual(onXdpCounters, [], "no write on any XdpCounter but the accepted ones");
});

test("a report with a counter above 2^64-1 is refused, naming the field", async () => {
  const report = {
    apiVersion: "xdpcounter.dev/v1alpha1",
    kind: "XdpCounterReport",
    metadata: { name: "over.node-1" },
    nodeName: "node-1",
    xdpCounter: { name: "over", uid: "over-uid" },
    generation: 1,
    phase: "Counting",
    reportedAt: "2026-12-03T12:00:00Z",
    packets: { pass: "18446744073709551615", drop: "18446744073709551616" },
    bytes: {},
  };
  const res = await cluster.kubectl(["apply", "-f", "-"], JSON.stringify(report));
  assert.notEqual(res.code, 0, `accepted: ${res.stdout}`);
  assert.match(
    res.stderr,
    /packets\.drop: Invalid value: "18446744073709551616": must be at most 18446744073709551615 \(2\^64-1\)/,
  );
  assert.doesNotMatch(res.stderr, /packets\.pass/, "2^64-1 itself is a counter");
});

test("what only zod refuses reaches the operator, which reports InvalidSpec; the agents keep the last spec", async () => {
  // A CRD older than the operator (here: without the CEL rule on reportInterval) lets 2h through; the operator
  // must report it, not crash-loop, and must not hand it to the agents.
  const apply = await cluster.kubectl(
    ["apply", "-f", "-"],
    xdpCounterYaml("slow", { reportInterval: "30s" }),
  );
  assert.equal(apply.code, 0, apply.stderr);
  await eventually(
    async () => (await cluster.agentSpecs())?.slow?.reportIntervalMs === 30_000,
    "slow's spec for the agents",
  );
  // an agent counts for slow on node-1: its report holds the finalizer until that agent has cleaned up
  await cluster.addNode("node-1");
  await cluster.report("slow", "node-1", { packets: { pass: "5" } });
  const restore = await cluster.withOlderCrd();
  try {
    await applyOnceAccepted(cluster, "slow", { reportInterval: "2h" });
    await applyOnceAccepted(cluster, "too-slow", { reportInterval: "2h" });
  } finally {
    await restore();
  }
  for (const name of ["slow", "too-slow"]) {
    const reason = await eventually(async () => {
      const out = await cluster.kubectl([
        "get",
        "xdpc",
        name,
        "-o",
        'jsonpath={.status.conditions[?(@.type=="Ready")].reason}/{.status.conditions[?(@.type=="Ready")].message}',
      ]);
      return out.stdout.startsWith("InvalidSpec") && out.stdout;
    }, `condition InvalidSpec on ${name}`);
    assert.match(reason, /spec\.reportInterval: must be at most 1h/);
  }
  const specs = await cluster.agentSpecs();
  assert.equal(specs?.["too-slow"], undefined, "no agent counts for an XdpCounter it was never given");
  assert.equal(specs?.slow?.reportIntervalMs, 30_000, "the agents keep slow's last valid spec");
  assert.equal(specs?.slow?.generation, 1);
  assert.ok(operator.controller.healthy);

  // Deleted while invalid: the agents clean up with the last spec they had, then the finalizer goes.
  const del = await cluster.kubectl(["delete", "xdpc", "slow", "too-slow", "--wait=false"]);
  assert.equal(del.code, 0, del.stderr);
  await eventually(async () => (await cluster.agentSpecs())?.slow?.mode === "clean", "slow in clean mode");
  assert.equal((await cluster.agentSpecs())?.slow?.reportIntervalMs, 30_000);
  assert.ok(await cluster.getXdpCounter("slow"), "kept while node-1's report is there");
  // node-1's agent has detached and unpinned: it deletes its report
  await cluster.deleteReport("slow", "node-1");
  await eventually(async () => (await cluster.getXdpCounter("slow")) === undefined, "slow gone (no report)");
  await eventually(async () => (await cluster.getXdpCounter("too-slow")) === undefined, "too-slow gone");
  await eventually(async () => (await cluster.agentSpecs())?.slow === undefined, "slow's key removed");
});
