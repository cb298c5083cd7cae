// Bad input is refused where the user types it: invalid chart values by `helm install` (values.schema.json),
// before anything is installed, and an invalid examples/-style manifest by the real API server (the CRD's
// schema and CEL rules, with the field named). `kubectl explain` shows the fields with the CRD's descriptions.
// Needs root (a cluster of one real node); about a minute.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parse } from "yaml";
import { exampleManifest, kubectlOk } from "../../scenario/index.ts";
import {
  type Cluster,
  chart,
  createReleaseNamespace,
  helmInstall,
  type LocalCluster,
  NAMESPACE,
  RELEASE,
  startLocalCluster,
} from "./setup.ts";

/** The CRD's schema of spec, as the chart installs it. */
function crdSpec(): { description: string; properties: { action: { description: string } } } {
  const crd = parse(readFileSync(join(chart, "crds", "xdpcounters.xdpcounter.dev.yaml"), "utf8"));
  return crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;
}

let l: LocalCluster;
let c: Cluster;

before(
  async () => {
    l = await startLocalCluster(1, (line) => console.log(`# ${line}`));
    c = l.cluster;
    await createReleaseNamespace(c);
  },
  { timeout: 600_000 },
);

after(async () => {
  await c?.stop();
});

test("helm install with invalid values fails with the schema's message and installs nothing", {
  timeout: 60_000,
}, async () => {
  const misspelt = await helmInstall(l, ["--set", "agent.prot=9731"]);
  assert.notEqual(misspelt.code, 0);
  assert.match(misspelt.stderr, /values don't meet the specifications of the schema/);
  assert.match(misspelt.stderr, /prot/);
  const wrongType = await helmInstall(l, ["--set", "image.pullPolicy=Sometimes"]);
  assert.notEqual(wrongType.code, 0);
  assert.match(wrongType.stderr, /pullPolicy/);
  const releases = await c.helm(["list", "-A", "-q"]);
  assert.equal(releases.stdout.trim(), "");
  const made = await kubectlOk(c, [
    "get",
    "deployments,serviceaccounts,clusterroles",
    "-A",
    "-l",
    `app.kubernetes.io/instance=${RELEASE}`,
    "-o",
    "name",
  ]);
  // (the CRD may be there: Helm installs a chart's crds/ before it checks the values against the schema)
  assert.equal(made.trim(), "", "nothing of the release was created");
});

test("kubectl explain shows the XdpCounter's fields with the CRD's descriptions", {
  timeout: 180_000,
}, async () => {
  const r = await helmInstall(l);
  assert.equal(r.code, 0, `helm install: ${r.stderr}`);
  const spec = await kubectlOk(c, ["explain", "xdpcounter.spec"]);
  const flat = (text: string) => text.replace(/\s+/g, " ");
  assert.ok(flat(spec).includes(flat(crdSpec().description)), `the CRD's description of spec: ${spec}`);
  for (const field of ["interfaces", "action", "reportInterval", "nodeSelector"])
    assert.match(spec, new RegExp(`^\\s+${field}\\s`, "m"), `kubectl explain lists spec.${field}`);
  const action = await kubectlOk(c, ["explain", "xdpcounter.spec.action"]);
  assert.match(action, /ENUM:\s+pass\s+drop/, `the action's values: ${action}`);
  assert.ok(flat(action).includes(flat(crdSpec().properties.action.description)));
});

test("an invalid manifest is refused by the API server, naming the field", { timeout: 60_000 }, async () => {
  const interval = await c.kubectl(["apply", "-f", "-"], {
    input: exampleManifest({ reportInterval: "0s" }),
  });
  assert.notEqual(interval.code, 0);
  // the API server reports every failed rule of the field: the schema's pattern and the CEL rule's message
  assert.match(interval.stderr, /XdpCounter "workers" is invalid: /);
  assert.match(interval.stderr, /spec\.reportInterval: Invalid value: "0s": must be between 1s and 1h/);
  const action = await c.kubectl(["apply", "-f", "-"], { input: exampleManifest({ action: "reject" }) });
  assert.notEqual(action.code, 0);
  assert.match(action.stderr, /spec\.action: Unsupported value: "reject"/);
  const typo = await c.kubectl(["apply", "-f", "-"], {
    input: exampleManifest({ spec: { reportIntervall: "1s" } }),
  });
  assert.notEqual(typo.code, 0);
  assert.match(typo.stderr, /unknown field "spec\.reportIntervall"/);
  assert.equal((await kubectlOk(c, ["get", "xdpcounters", "-o", "name"])).trim(), "");
  const u = await c.helm(["uninstall", RELEASE, "--namespace", NAMESPACE, "--wait"]);
  assert.equal(u.code, 0, u.stderr);
});
