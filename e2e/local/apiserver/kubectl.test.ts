// The real kubectl 1.34 against the server: apply, get, describe, wait, explain, delete.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ensureTools } from "../tools.ts";
import { startApiServer } from "./server.ts";
import { call, run, widgetsCrd } from "./testclient.ts";

const widgetYaml = `apiVersion: test.xdpcounter.dev/v1alpha1
kind: Widget
metadata:
  name: w1
spec:
  action: drop
  interfaces: [eth0]
`;

test("kubectl: apply a CRD and a custom resource, get, describe, wait, explain, delete", async (t) => {
  const { kubectl } = ensureTools();
  const unknown: string[] = [];
  const s = await startApiServer({ logUnknown: (l) => unknown.push(l) });
  const dir = mkdtempSync(join(tmpdir(), "kubectl-test-"));
  t.after(async () => {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const kubeconfig = s.writeKubeconfig(join(dir, "kubeconfig"));
  const k = (...args: string[]) => run(kubectl, ["--kubeconfig", kubeconfig, ...args], { HOME: dir });

  const crd = await k("apply", "-f", widgetsCrd);
  assert.equal(crd.code, 0, crd.stderr);
  assert.equal(
    crd.stdout.trim(),
    "customresourcedefinition.apiextensions.k8s.io/widgets.test.xdpcounter.dev created",
  );
  const waitCrd = await k(
    "wait",
    "--for=condition=Established",
    "crd/widgets.test.xdpcounter.dev",
    "--timeout=10s",
  );
  assert.equal(waitCrd.code, 0, waitCrd.stderr);

  writeFileSync(join(dir, "w1.yaml"), widgetYaml);
  const created = await k("apply", "-f", join(dir, "w1.yaml"));
  assert.equal(created.code, 0, created.stderr);
  assert.equal(created.stdout.trim(), "widget.test.xdpcounter.dev/w1 created");
  const unchanged = await k("apply", "-f", join(dir, "w1.yaml"));
  assert.equal(unchanged.stdout.trim(), "widget.test.xdpcounter.dev/w1 unchanged");
  writeFileSync(join(dir, "w1.yaml"), widgetYaml.replace("drop", "pass"));
  const configured = await k("apply", "-f", join(dir, "w1.yaml"));
  assert.equal(configured.stdout.trim(), "widget.test.xdpcounter.dev/w1 configured", configured.stderr);

  writeFileSync(
    join(dir, "bad.yaml"),
    widgetYaml.replace("w1", "w2").replace("interfaces: [eth0]", "bogus: 1"),
  );
  const strict = await k("apply", "-f", join(dir, "bad.yaml"));
  assert.notEqual(strict.code, 0);
  assert.match(strict.stderr, /strict decoding error: unknown field "spec.bogus"/);
  writeFileSync(join(dir, "bad2.yaml"), widgetYaml.replace("w1", "w3").replace("drop", "explode"));
  const invalid = await k("apply", "-f", join(dir, "bad2.yaml"));
  assert.notEqual(invalid.code, 0);
  assert.match(
    invalid.stderr,
    /spec\.action: Unsupported value: "explode": supported values: "pass", "drop"/,
  );

  const get = await k("get", "widgets");
  assert.equal(get.code, 0, get.stderr);
  const lines = get.stdout.trim().split("\n");
  assert.match(lines[0] ?? "", /^NAME\s+ACTION\s+INTERVAL\s+READY\s+AGE$/);
  assert.match(lines[1] ?? "", /^w1\s+pass\s+10\s+\s+\d+s$/);
  const wide = await k("get", "wd", "-o", "wide");
  assert.match(wide.stdout.split("\n")[0] ?? "", /^NAME\s+ACTION\s+INTERVAL\s+READY\s+NODES\s+AGE$/);
  const yaml = await k("get", "widget", "w1", "-o", "yaml");
  assert.match(yaml.stdout, /reportInterval: 10/);
  assert.match(yaml.stdout, /generation: 2/);
  const jsonpath = await k("get", "widget", "w1", "-o", "jsonpath={.spec.action}/{.spec.limits.maxNodes}");
  assert.equal(jsonpath.stdout, "pass/100");
  const all = await k("get", "all");
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /widget\.test\.xdpcounter\.dev\/w1/);

  const describe = await k("describe", "widget", "w1");
  assert.equal(describe.code, 0, describe.stderr);
  assert.match(describe.stdout, /^Name:\s+w1$/m);
  assert.match(describe.stdout, /Action:\s+pass/);

  const explain = await k("explain", "widgets.spec");
  assert.equal(explain.code, 0, explain.stderr);
  assert.match(explain.stdout, /WidgetSpec says what a widget does\./);
  assert.match(explain.stdout, /action\s+<string> -required-/);

  const waiting = k("wait", "--for=condition=Ready", "widget/w1", "--timeout=20s");
  await new Promise((r) => setTimeout(r, 300));
  const patched = await call(
    s,
    "PATCH",
    "/apis/test.xdpcounter.dev/v1alpha1/namespaces/default/widgets/w1/status",
    {
      body: {
        status: { conditions: [{ type: "Ready", status: "True", reason: "Counting", message: "ok" }] },
      },
      contentType: "application/merge-patch+json",
    },
  );
  assert.equal(patched.status, 200);
  const waited = await waiting;
  assert.equal(waited.code, 0, waited.stderr);
  assert.equal(waited.stdout.trim(), "widget.test.xdpcounter.dev/w1 condition met");

  const ssa = await k("apply", "--server-side", "-f", join(dir, "w1.yaml"));
  assert.equal(ssa.code, 0, ssa.stderr);
  assert.match(ssa.stdout, /serverside-applied/);

  const del = await k("delete", "-f", join(dir, "w1.yaml"));
  assert.equal(del.code, 0, del.stderr);
  assert.match(del.stdout, /widget.test.xdpcounter.dev "w1" deleted/);
  const none = await k("get", "widgets");
  assert.match(none.stderr, /No resources found in default namespace\./);

  // imperative generators send protobuf; the server decodes ConfigMap, Secret, ServiceAccount and Namespace
  const cm = await k("create", "configmap", "c", "--from-literal=a=b");
  assert.equal(cm.code, 0, cm.stderr);
  const sa = await k("create", "serviceaccount", "bob");
  assert.equal(sa.code, 0, sa.stderr);
  const canAdmin = await k("auth", "can-i", "delete", "nodes");
  assert.equal(canAdmin.stdout.trim(), "yes");
  const asBob = ["--as=system:serviceaccount:default:bob"];
  const cannot = await k("auth", "can-i", "list", "configmaps", ...asBob);
  assert.equal(cannot.stdout.trim(), "no");
  const forbidden = await k("get", "configmaps", ...asBob);
  assert.notEqual(forbidden.code, 0);
  assert.match(
    forbidden.stderr,
    /configmaps is forbidden: User "system:serviceaccount:default:bob" cannot list resource "configmaps" in API group "" in the namespace "default"/,
  );
  writeFileSync(
    join(dir, "rbac.yaml"),
    `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: cm-reader}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: bob-reads}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: cm-reader}
subjects: [{kind: ServiceAccount, name: bob, namespace: default}]
`,
  );
  assert.equal((await k("apply", "-f", join(dir, "rbac.yaml"))).code, 0);
  assert.equal((await k("auth", "can-i", "list", "configmaps", ...asBob)).stdout.trim(), "yes");
  assert.equal((await k("get", "configmap", "c", ...asBob)).code, 0);
  const list = await k("auth", "can-i", "--list", ...asBob);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^configmaps\s+\[\]\s+\[\]\s+\[get list\]$/m);
  assert.match(list.stdout, /^\s+\[\/version\]\s+\[\]\s+\[get\]$/m);
  const edit = await k("label", "configmap", "c", "x=y");
  assert.equal(edit.code, 0, edit.stderr);
  const patch = await k("patch", "configmap", "c", "-p", '{"data":{"z":"1"}}');
  assert.equal(patch.code, 0, patch.stderr);
  const cmGet = await k("get", "cm", "c", "-o", "jsonpath={.metadata.labels.x}{.data.z}");
  assert.equal(cmGet.stdout, "y1");

  // client-side apply of a built-in kind: a three-way strategic merge patch with $setElementOrder and deletions
  const ds = (image: string, env: string) => `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers:
        - name: agent
          image: ${image}
          env: [${env}]
        - {name: sidecar, image: side:1}
`;
  writeFileSync(join(dir, "ds.yaml"), ds("agent:1", '{name: A, value: "1"}, {name: B, value: "2"}'));
  assert.equal((await k("apply", "-f", join(dir, "ds.yaml"))).code, 0);
  writeFileSync(join(dir, "ds.yaml"), ds("agent:2", '{name: A, value: "1"}'));
  const reapplied = await k("apply", "-f", join(dir, "ds.yaml"));
  assert.equal(reapplied.stdout.trim(), "daemonset.apps/agent configured", reapplied.stderr);
  const containers = await k("get", "ds", "agent", "-o", "jsonpath={.spec.template.spec.containers}");
  assert.deepEqual(JSON.parse(containers.stdout), [
    { name: "agent", image: "agent:2", env: [{ name: "A", value: "1" }] },
    { name: "sidecar", image: "side:1" },
  ]);
  const diff = await k("diff", "-f", join(dir, "ds.yaml"));
  assert.equal(
    diff.code,
    0,
    `kubectl diff (server-side dry run) sees no change: ${diff.stdout}${diff.stderr}`,
  );
  const dsWide = await k("get", "ds", "-o", "wide");
  assert.match(
    dsWide.stdout.split("\n")[0] ?? "",
    /^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR$/,
  );

  assert.deepEqual(unknown, [], "kubectl asked for nothing the server does not know");
});
