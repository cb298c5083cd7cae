// Bad input is refused where the user types it: an invalid examples/-style manifest by the API server (CRD
// schema and CEL, with the field named) and invalid chart values by `helm install` (values.schema.json), before
// anything is installed. Needs root (the local cluster); about 10 s.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { exampleManifest, kubectlOk, type ScenarioCluster } from "../../scenario/index.ts";
import type { Cluster } from "../cluster/index.ts";
import { helmInstall, NAMESPACE, RELEASE, scenarioOf, startLocalCluster } from "./setup.ts";

let c: Cluster;
let s: ScenarioCluster;

before(
  async () => {
    c = await startLocalCluster(1);
    s = scenarioOf(c);
  },
  { timeout: 120_000 },
);

after(async () => {
  await c?.stop();
});

test("helm install with invalid values fails with the schema's message and installs nothing", {
  timeout: 60_000,
}, async () => {
  const misspelt = await helmInstall(c, ["--set", "agent.prot=9731"]);
  assert.notEqual(misspelt.code, 0);
  assert.match(misspelt.stderr, /values don't meet the specifications of the schema/);
  assert.match(misspelt.stderr, /prot/);
  const wrongType = await helmInstall(c, ["--set", "image.pullPolicy=Sometimes"]);
  assert.notEqual(wrongType.code, 0);
  assert.match(wrongType.stderr, /pullPolicy/);
  const releases = await c.helm(["list", "-A", "-q"]);
  assert.equal(releases.stdout.trim(), "");
  const made = await kubectlOk(s, [
    "get",
    "deployments,serviceaccounts,clusterroles",
    "-A",
    "-l",
    `app.kubernetes.io/instance=${RELEASE}`,
    "-o",
    "name",
  ]);
  assert.equal(made.trim(), "", "nothing of the release was created");
});

test("an invalid manifest is refused by the API server, naming the field", { timeout: 60_000 }, async () => {
  const r = await helmInstall(c);
  assert.equal(r.code, 0, `helm install: ${r.stderr}`);
  const interval = await c.kubectl(["apply", "-f", "-"], {
    input: exampleManifest({ reportInterval: "0s" }),
  });
  assert.notEqual(interval.code, 0);
  assert.match(interval.stderr, /is invalid: spec\.reportInterval/);
  const action = await c.kubectl(["apply", "-f", "-"], { input: exampleManifest({ action: "reject" }) });
  assert.notEqual(action.code, 0);
  assert.match(action.stderr, /spec\.action: Unsupported value: "reject"/);
  const typo = await c.kubectl(["apply", "-f", "-"], {
    input: exampleManifest({ spec: { reportIntervall: "1s" } }),
  });
  assert.notEqual(typo.code, 0);
  assert.match(typo.stderr, /unknown field "spec\.reportIntervall"/);
  assert.equal((await kubectlOk(s, ["get", "xdpcounters", "-o", "name"])).trim(), "");
  const u = await c.helm(["uninstall", RELEASE, "--namespace", NAMESPACE, "--wait"]);
  assert.equal(u.code, 0, u.stderr);
});
