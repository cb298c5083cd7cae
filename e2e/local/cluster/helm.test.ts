// The local cluster driven by Helm 4 as the project's chart will be: an "operator" Deployment on the host and
// an "agent" DaemonSet on the nodes, installed and upgraded with --wait (Helm reads the status the local
// controllers write), then uninstalled; and liveness probes restarting a container. Needs root.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type Cluster, startCluster } from "./index.ts";
import {
  commands,
  freePort,
  getJson,
  isReady,
  kubectlOk,
  type Pod,
  probeChart,
  probeDaemonSet,
  probeLines,
  probeRbac,
  processAlive,
  until,
} from "./testdata/probe.ts";

let c: Cluster;

before(async () => {
  c = await startCluster({ nodes: [{ labels: { probe: "yes" } }, {}], commands });
});

after(async () => {
  await c?.stop();
});

async function helmOk(args: string[]): Promise<string> {
  const r = await c.helm(args);
  assert.equal(r.code, 0, `helm ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

async function podsIn(ns: string, app: string): Promise<Pod[]> {
  return (await getJson<{ items: Pod[] }>(c, ["pods", "-n", ns, "-l", `app=${app}`])).items;
}

function extraOf(uid: string): string | undefined {
  const p = c.pods().find((x) => x.uid === uid);
  return p ? probeLines(p.log()).find((l) => l.pod)?.extra : undefined;
}

test("helm install --wait, upgrade --wait and uninstall of a chart with a Deployment and a DaemonSet", async () => {
  const port = await freePort();
  const common = ["--namespace", "probe-helm", "--set", `operatorPort=${port}`, "--wait", "--timeout", "60s"];
  await helmOk(["install", "probe", probeChart, "--create-namespace", ...common]);
  const agents = await podsIn("probe-helm", "probe-agent");
  assert.deepEqual(
    agents.map((p) => p.spec.nodeName),
    ["node-1"],
  );
  const operators = await podsIn("probe-helm", "probe-operator");
  assert.equal(operators.length, 1);
  for (const p of [...agents, ...operators]) {
    assert.ok(isReady(p));
    const extra = await until("the pod's report", () => extraOf(p.metadata.uid));
    assert.equal(extra, "hello", "env from the chart's ConfigMap");
  }
  const ds = await getJson<{ status: { numberReady: number; desiredNumberScheduled: number } }>(c, [
    "daemonset",
    "-n",
    "probe-helm",
    "probe-agent",
  ]);
  assert.equal(ds.status.numberReady, 1);
  assert.equal(ds.status.desiredNumberScheduled, 1);

  // A ConfigMap change alone does not roll pods (as in Kubernetes); a template change does.
  await helmOk([
    "upgrade",
    "probe",
    probeChart,
    ...common,
    "--set",
    "greeting=bye",
    "--set",
    "agentPort=18092",
  ]);
  const newAgents = await podsIn("probe-helm", "probe-agent");
  assert.equal(newAgents.length, 1);
  assert.notEqual(newAgents[0]?.metadata.uid, agents[0]?.metadata.uid, "the agent was replaced");
  assert.equal(await until("the new agent's report", () => extraOf(newAgents[0]?.metadata.uid ?? "")), "bye");

  const procs = c.pods().filter((p) => p.namespace === "probe-helm");
  assert.equal(procs.length, 2);
  await helmOk(["uninstall", "probe", "--namespace", "probe-helm", "--wait", "--timeout", "60s"]);
  await until("the pods to be gone", async () => (await podsIn("probe-helm", "probe-agent")).length === 0);
  await until(
    "the operator's pods to be gone",
    async () => (await podsIn("probe-helm", "probe-operator")).length === 0,
  );
  for (const p of procs) await until(`${p.name}'s process to exit`, () => !processAlive(p.pid));
});

test("a failing liveness probe restarts the container", async () => {
  await kubectlOk(c, ["apply", "-f", probeRbac]);
  await kubectlOk(
    c,
    ["apply", "-f", "-"],
    probeDaemonSet({ name: "unhealthy", nodeSelector: { probe: "yes" }, livenessPath: "/missing" }),
  );
  const pod = await until("a restart by the liveness probe", async () =>
    (await podsIn("probe", "unhealthy")).find(
      (p) => (p.status.containerStatuses?.[0]?.restartCount ?? 0) >= 1,
    ),
  );
  const proc = c.pods().find((p) => p.uid === pod.metadata.uid);
  assert.ok(proc);
  assert.match(proc.log(), /liveness probe failed 2 times: restarting/);
  assert.ok(
    probeLines(proc.log()).some((l) => l.signal === "SIGTERM"),
    "stopped with SIGTERM first",
  );
  await kubectlOk(c, ["delete", "daemonset", "-n", "probe", "unhealthy"]);
});
