// The local cluster's life: Deployments on the host, an API server outage, nodes added and deleted, and
// teardown that leaves nothing behind, after stop() and after an aborted run. Needs root.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { sh } from "../../../testing/netns.ts";
import { type Cluster, startCluster } from "./index.ts";
import {
  commands,
  freePort,
  getJson,
  isReady,
  kubectlOk,
  podsOf,
  probeDaemonSet,
  probeLines,
  probeRbac,
  processAlive,
  until,
} from "./testdata/probe.ts";

let c: Cluster;

before(async () => {
  c = await startCluster({ nodes: [{ labels: { probe: "yes" } }, { labels: { probe: "yes" } }], commands });
  await kubectlOk(c, ["apply", "-f", probeRbac]);
});

after(async () => {
  await c?.stop();
});

function deployment(port: number, version: string): string {
  return JSON.stringify({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "probe-operator", namespace: "probe" },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "probe-operator" } },
      template: {
        metadata: { labels: { app: "probe-operator" } },
        spec: {
          serviceAccountName: "probe",
          terminationGracePeriodSeconds: 5,
          containers: [
            {
              name: "operator",
              image: "example.invalid/xdp-counter/probe-pod:1",
              env: [
                { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                { name: "PORT", value: String(port) },
                { name: "EXTRA", value: version },
              ],
              readinessProbe: { httpGet: { path: "/readyz", port } },
            },
          ],
        },
      },
    },
  });
}

type Deploy = {
  metadata: { generation: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    updatedReplicas?: number;
    conditions?: { type: string; status: string; reason: string }[];
  };
};

test("a Deployment runs on the host with a loopback kubeconfig, rolls out and goes", async () => {
  const port = await freePort();
  await kubectlOk(c, ["apply", "-f", "-"], deployment(port, "v1"));
  await kubectlOk(c, ["rollout", "status", "-n", "probe", "deployment/probe-operator", "--timeout=30s"]);
  const d = await getJson<Deploy>(c, ["deployment", "-n", "probe", "probe-operator"]);
  assert.equal(d.status?.observedGeneration, d.metadata.generation);
  assert.equal(d.status?.replicas, 1);
  assert.equal(d.status?.readyReplicas, 1);
  assert.equal(d.status?.availableReplicas, 1);
  assert.equal(d.status?.updatedReplicas, 1);
  assert.equal(d.status?.conditions?.find((x) => x.type === "Available")?.status, "True");
  const [pod] = await podsOf(c, "probe-operator");
  assert.ok(pod && isReady(pod));
  assert.equal(pod.metadata.ownerReferences?.[0]?.kind, "ReplicaSet");
  assert.equal(pod.status.podIP, "127.0.0.1");
  const [proc] = c.podsOn(undefined);
  assert.ok(proc && processAlive(proc.pid));
  const lines = await until("the operator's report", () => {
    const l = probeLines(proc.log());
    return l.some((x) => x.status) ? l : undefined;
  });
  assert.deepEqual(
    lines.find((l) => l.api),
    { api: `127.0.0.1:${new URL(c.url).port}`, status: 200 },
    "the host's pod reaches the API server on loopback, with its ServiceAccount",
  );
  assert.ok(
    lines.find((l) => l.interfaces)?.interfaces?.includes(c.nodes[0] ? "lo" : ""),
    "runs on the host",
  );

  await kubectlOk(c, ["apply", "-f", "-"], deployment(port, "v2"));
  await kubectlOk(c, ["rollout", "status", "-n", "probe", "deployment/probe-operator", "--timeout=30s"]);
  const pods = await until("one new pod", async () => {
    const ps = await podsOf(c, "probe-operator");
    return ps.length === 1 && ps[0]?.metadata.uid !== pod.metadata.uid ? ps : undefined;
  });
  assert.ok(pods[0]);
  await until("the old process to exit", () => !processAlive(proc.pid));
  const rs = await getJson<{ items: unknown[] }>(c, ["replicasets", "-n", "probe"]);
  assert.equal(rs.items.length, 1, "the old ReplicaSet went with its last pod");

  const current = c.podsOn(undefined);
  await kubectlOk(c, ["delete", "deployment", "-n", "probe", "probe-operator"]);
  await until("the pods to be gone", async () => (await podsOf(c, "probe-operator")).length === 0);
  for (const p of current) assert.equal(processAlive(p.pid), false);
});

test("an API server outage: clients are refused, pods keep running, the store survives", async () => {
  await kubectlOk(
    c,
    ["apply", "-f", "-"],
    probeDaemonSet({ name: "outage", nodeSelector: { probe: "yes" } }),
  );
  const pods = await until("two ready pods", async () => {
    const ps = await podsOf(c, "outage");
    return ps.length === 2 && ps.every(isReady) ? ps : undefined;
  });
  const onNode1 = pods.find((p) => p.spec.nodeName === "node-1");
  assert.ok(onNode1);
  const uids = pods.map((p) => p.metadata.uid).sort();

  await c.stopApiServer();
  try {
    const refused = await c.kubectl(["get", "nodes", "--request-timeout=5s"]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /refused/);
    // A crash during the outage: the kubelet restarts the process on its own; the API hears of it later.
    c.killPod("node-1", onNode1.metadata.name);
    await until(
      "the local restart",
      () => c.podsOn("node-1").find((p) => p.name === onNode1.metadata.name)?.ready,
    );
    for (const p of c.pods().filter((p) => p.name.startsWith("outage-"))) assert.ok(processAlive(p.pid));
  } finally {
    await c.startApiServer();
  }
  const back = await until("the pods' status after the outage", async () => {
    const ps = await podsOf(c, "outage");
    return ps.find((p) => p.metadata.uid === onNode1.metadata.uid)?.status.containerStatuses?.[0]
      ?.restartCount === 1
      ? ps
      : undefined;
  });
  assert.deepEqual(back.map((p) => p.metadata.uid).sort(), uids, "the same pods, the same store");
  await kubectlOk(c, ["get", "nodes"]);
  await kubectlOk(c, ["delete", "daemonset", "-n", "probe", "outage"]);
  await until("the pods to be gone", async () => (await podsOf(c, "outage")).length === 0);
});

test("a node added later gets the DaemonSet's pod; a deleted node takes its pod and namespaces with it", async () => {
  await kubectlOk(c, ["apply", "-f", "-"], probeDaemonSet({ name: "grow", nodeSelector: { probe: "yes" } }));
  await until("two pods", async () => (await podsOf(c, "grow")).filter(isReady).length === 2);
  const node = await c.addNode({ name: "late", labels: { probe: "yes" } });
  const pods = await until("a pod on the new node", async () =>
    (await podsOf(c, "grow")).find((p) => p.spec.nodeName === "late" && isReady(p)),
  );
  const proc = c.podsOn("late")[0];
  assert.ok(proc);
  assert.ok(probeLines(proc.log()).some((l) => l.node === "late"));
  await c.deleteNode("late");
  assert.equal(processAlive(proc.pid), false);
  const netns = await sh("ip", ["netns", "list"]);
  assert.ok(!netns.includes(node.netns), "the node's namespaces are gone");
  assert.ok(!readFileSync("/proc/mounts", "utf8").includes(node.mountNs), "its mount namespace is unmounted");
  await until("the pod object to go", async () =>
    (await podsOf(c, "grow")).every((p) => p.metadata.uid !== pods.metadata.uid),
  );
  const nodes = await getJson<{ items: { metadata: { name: string } }[] }>(c, ["nodes"]);
  assert.deepEqual(
    nodes.items.map((n) => n.metadata.name),
    ["node-1", "node-2"],
  );
  await kubectlOk(c, ["delete", "daemonset", "-n", "probe", "grow"]);
});

/** What a cluster leaves in the root namespace, /proc/mounts and /run. */
async function leftovers(name: string, dir: string, pids: (number | undefined)[]): Promise<string[]> {
  const found: string[] = [];
  for (const ns of (await sh("ip", ["netns", "list"])).split("\n"))
    if (ns.startsWith(`${name}-`)) found.push(`netns ${ns}`);
  for (const line of readFileSync("/proc/mounts", "utf8").split("\n"))
    if (line.includes(dir)) found.push(`mount ${line}`);
  if ((await sh("ip", ["-o", "link", "show"])).includes(` ${name}h`)) found.push(`link ${name}h`);
  const index = name.replace("xcl", "");
  if ((await sh("ip", ["-o", "-4", "addr", "show"])).includes(` 198.19.${index}.`))
    found.push("host address");
  // Killed processes may take a moment to be reaped by whoever inherited them.
  const deadline = Date.now() + 5000;
  while (pids.some(processAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const pid of pids) if (processAlive(pid)) found.push(`process ${pid}`);
  if (existsSync(dir)) found.push(`directory ${dir}`);
  return found;
}

test("stop() leaves no namespace, link, mount, process or file behind, and can be called twice", async () => {
  const other = await startCluster({ nodes: [{ labels: { probe: "yes" } }, {}], commands });
  let pids: (number | undefined)[] = [];
  try {
    await kubectlOk(other, ["apply", "-f", probeRbac]);
    await kubectlOk(
      other,
      ["apply", "-f", "-"],
      probeDaemonSet({ name: "gone", nodeSelector: { probe: "yes" } }),
    );
    await until("the pod to run", () => other.pods().some((p) => p.ready));
    pids = other.pods().map((p) => p.pid);
    assert.notEqual(other.name, c.name, "clusters get networks of their own");
    assert.ok(existsSync(join(other.dir, "kubeconfig")));
  } finally {
    await other.stop();
  }
  await other.stop();
  assert.deepEqual(await leftovers(other.name, other.dir, pids), []);
});

test("an aborted run is cleaned up by the exit handlers", async () => {
  const child = spawn(process.execPath, [join(import.meta.dirname, "testdata", "aborted-run.ts")], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const report = await until(
    "the aborted run's cluster",
    () =>
      out.includes("\n") ? (JSON.parse(out) as { name: string; dir: string; pids: number[] }) : undefined,
    30_000,
  );
  assert.ok(report.pids.every(processAlive));
  const exited = new Promise<NodeJS.Signals | null>((r) => child.on("exit", (_code, signal) => r(signal)));
  child.kill("SIGTERM");
  assert.equal(await exited, "SIGTERM");
  assert.deepEqual(await leftovers(report.name, report.dir, report.pids), []);
});
