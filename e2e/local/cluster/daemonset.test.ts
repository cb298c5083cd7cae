// The local cluster with three simulated nodes: Node objects, the API server from inside a node, DaemonSet pods
// running in their node's namespaces, scheduling by nodeSelector and taints, relabelling, rolling replacement,
// crash restarts, deletion, and traffic into a node's eth1. Needs root (namespaces, mounts, bpffs).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { after, before, test } from "node:test";
import { ensureTools } from "../tools.ts";
import { type Cluster, startCluster } from "./index.ts";
import {
  commands,
  getJson,
  isReady,
  kubectlOk,
  type Pod,
  podsOf,
  probeDaemonSet,
  probeDaemonSetFile,
  probeLines,
  probeRbac,
  processAlive,
  until,
} from "./testdata/probe.ts";

let c: Cluster;

before(async () => {
  // The traffic generator's XDP program (npm test builds it first; this file may run alone).
  execFileSync("make", ["-s", "-C", new URL("../../../bpf", import.meta.url).pathname], { stdio: "inherit" });
  c = await startCluster({
    nodes: [
      { labels: { probe: "yes", zone: "a" } },
      { labels: { probe: "yes", zone: "b" } },
      { labels: { probe: "yes" }, taints: [{ key: "dedicated", value: "special", effect: "NoSchedule" }] },
    ],
    commands,
  });
  await kubectlOk(c, ["apply", "-f", probeRbac, "-f", probeDaemonSetFile]);
});

after(async () => {
  await c?.stop();
});

type DsStatus = {
  desiredNumberScheduled: number;
  currentNumberScheduled: number;
  numberReady: number;
  updatedNumberScheduled?: number;
  numberAvailable?: number;
  numberMisscheduled: number;
  observedGeneration?: number;
};
type Ds = { metadata: { generation: number }; status?: DsStatus };

async function dsStatus(name: string): Promise<Ds> {
  return getJson<Ds>(c, ["daemonset", "-n", "probe", name]);
}

/** Waits until the DaemonSet has `n` pods, all updated and ready, and its status says so. */
async function settled(name: string, n: number): Promise<Pod[]> {
  return until(`DaemonSet ${name} settled on ${n} nodes`, async () => {
    const ds = await dsStatus(name);
    const s = ds.status;
    const pods = (await podsOf(c, name)).filter((p) => !p.metadata.deletionTimestamp);
    const ok =
      s?.observedGeneration === ds.metadata.generation &&
      s.desiredNumberScheduled === n &&
      s.currentNumberScheduled === n &&
      s.numberReady === n &&
      (s.updatedNumberScheduled ?? 0) === n &&
      (s.numberAvailable ?? 0) === n &&
      s.numberMisscheduled === 0 &&
      pods.length === n &&
      pods.every(isReady) &&
      (await podsOf(c, name)).length === n;
    return ok ? pods : undefined;
  });
}

test("Node objects carry the node's InternalIP, hostname label and Ready condition", async () => {
  const nodes = await getJson<{
    items: {
      metadata: { name: string; labels: Record<string, string> };
      spec: { taints?: unknown[] };
      status: {
        addresses: { type: string; address: string }[];
        conditions: { type: string; status: string }[];
      };
    }[];
  }>(c, ["nodes"]);
  assert.deepEqual(
    nodes.items.map((n) => n.metadata.name),
    ["node-1", "node-2", "node-3"],
  );
  for (const n of nodes.items) {
    const sim = c.node(n.metadata.name);
    assert.equal(n.metadata.labels["kubernetes.io/hostname"], n.metadata.name);
    assert.deepEqual(
      n.status.addresses.find((a) => a.type === "InternalIP"),
      { type: "InternalIP", address: sim.ip },
    );
    assert.equal(n.status.conditions.find((x) => x.type === "Ready")?.status, "True");
  }
  assert.equal(nodes.items[2]?.spec.taints?.length, 1);
});

test("from inside a node the API server answers over the cluster network, with the ServiceAccount's RBAC", async () => {
  const node = c.node("node-1");
  const route = await node.exec(["ip", "-j", "route", "show", "default"]);
  assert.equal((JSON.parse(route.stdout) as { gateway: string; dev: string }[])[0]?.gateway, c.hostIp);
  const kubeconfig = c.kubeconfig({ namespace: "probe", serviceAccount: "probe" }, "cluster");
  const { kubectl } = ensureTools();
  const get = await node.exec([kubectl, "--kubeconfig", kubeconfig, "get", "nodes", "-o", "name"]);
  assert.equal(get.code, 0, get.stderr);
  assert.equal(get.stdout, "node/node-1\nnode/node-2\nnode/node-3\n");
  const denied = await node.exec([
    kubectl,
    "--kubeconfig",
    kubeconfig,
    "get",
    "secrets",
    "-n",
    "kube-system",
  ]);
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /system:serviceaccount:probe:probe" cannot list resource "secrets"/);
  // The loopback address is the node's own: nothing listens there.
  const loopback = c.kubeconfig({ namespace: "probe", serviceAccount: "probe" }, "loopback");
  const refused = await node.exec([
    kubectl,
    "--kubeconfig",
    loopback,
    "get",
    "nodes",
    "--request-timeout=5s",
  ]);
  assert.notEqual(refused.code, 0);
});

test("a DaemonSet runs one pod per matching node, inside that node's namespaces", async () => {
  const pods = await settled("probe", 2);
  const dsUid = (await getJson<{ metadata: { uid: string } }>(c, ["daemonset", "-n", "probe", "probe"]))
    .metadata.uid;
  assert.deepEqual(
    pods.map((p) => p.spec.nodeName).sort(),
    ["node-1", "node-2"],
    "node-3's taint is not tolerated",
  );
  for (const p of pods) {
    const node = c.node(p.spec.nodeName ?? "");
    assert.deepEqual(p.metadata.ownerReferences, [
      {
        apiVersion: "apps/v1",
        kind: "DaemonSet",
        name: "probe",
        uid: dsUid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    assert.match(p.metadata.labels["controller-revision-hash"] ?? "", /^[0-9a-f]{10}$/);
    assert.equal(p.metadata.labels.app, "probe");
    assert.equal(p.status.phase, "Running");
    assert.equal(p.status.podIP, node.ip);
    assert.equal(p.status.hostIP, node.ip);
    const [local] = c.podsOn(node.name).filter((x) => x.name === p.metadata.name);
    assert.ok(local && processAlive(local.pid), `${p.metadata.name} has a running process`);
    const lines = await until(`${p.metadata.name}'s report`, () => {
      const l = probeLines(local.log());
      return l.some((x) => x.status) ? l : undefined;
    });
    const report = lines.find((x) => x.node);
    assert.equal(report?.node, node.name);
    assert.equal(report?.podIP, node.ip);
    assert.deepEqual(report?.interfaces, ["eth0", "eth1", "lo"], "the node's own /sys/class/net");
    assert.equal(report?.bpffs, true, "/sys/fs/bpf is a bpffs");
    assert.deepEqual(
      report?.pins,
      [`probe-${p.metadata.name}`],
      "the node's own bpffs: no other node's pins",
    );
    assert.deepEqual(
      lines.find((x) => x.api),
      { api: `${c.hostIp}:${new URL(c.clusterUrl).port}`, status: 200 },
      "the pod reached the API server over the cluster network with its ServiceAccount",
    );
  }
  const host = readdirSync("/sys/fs/bpf");
  for (const p of pods)
    assert.ok(!host.includes(`probe-${p.metadata.name}`), "nothing was pinned in the host's bpffs");
});

test("nodeSelector and tolerations choose the nodes", async () => {
  await kubectlOk(
    c,
    ["apply", "-f", "-"],
    probeDaemonSet({ name: "zone-a", nodeSelector: { zone: "a" }, port: 18082 }),
  );
  const a = await settled("zone-a", 1);
  assert.equal(a[0]?.spec.nodeName, "node-1");
  await kubectlOk(
    c,
    ["apply", "-f", "-"],
    probeDaemonSet({
      name: "tolerant",
      nodeSelector: { probe: "yes" },
      tolerations: [{ key: "dedicated", operator: "Equal", value: "special", effect: "NoSchedule" }],
      port: 18083,
    }),
  );
  const t = await settled("tolerant", 3);
  assert.deepEqual(t.map((p) => p.spec.nodeName).sort(), ["node-1", "node-2", "node-3"]);
  await kubectlOk(c, ["delete", "daemonset", "-n", "probe", "zone-a", "tolerant"]);
});

test("relabelling a node stops and deletes its pod", async () => {
  await kubectlOk(
    c,
    ["apply", "-f", "-"],
    probeDaemonSet({ name: "relabel", nodeSelector: { probe: "yes" }, port: 18084 }),
  );
  const pods = await settled("relabel", 2);
  const onNode2 = pods.find((p) => p.spec.nodeName === "node-2");
  const proc = c.podsOn("node-2").find((p) => p.name === onNode2?.metadata.name);
  assert.ok(proc?.pid);
  await kubectlOk(c, ["label", "node", "node-2", "probe=no", "--overwrite"]);
  const left = await settled("relabel", 1);
  assert.equal(left[0]?.spec.nodeName, "node-1");
  await until("the process on node-2 to exit", () => !processAlive(proc.pid));
  assert.ok(
    probeLines(proc.log()).some((l) => l.signal === "SIGTERM"),
    "stopped with SIGTERM",
  );
  c.labelNode("node-2", { probe: "yes" });
  await settled("relabel", 2);
  await kubectlOk(c, ["delete", "daemonset", "-n", "probe", "relabel"]);
});

test("a template change replaces the pods, one node at a time", async () => {
  await kubectlOk(
    c,
    ["apply", "-f", "-"],
    probeDaemonSet({ name: "roll", nodeSelector: { probe: "yes" }, extra: "v1", port: 18085 }),
  );
  const before = await settled("roll", 2);
  const oldHash = before[0]?.metadata.labels["controller-revision-hash"];
  const oldPids = c
    .pods()
    .filter((p) => before.some((b) => b.metadata.uid === p.uid))
    .map((p) => p.pid);
  assert.equal(oldPids.length, 2);

  let minReady = 2;
  let watching = true;
  const sampler = (async () => {
    while (watching) {
      const ready = c.pods().filter((p) => p.name.startsWith("roll-") && p.ready).length;
      minReady = Math.min(minReady, ready);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  await kubectlOk(
    c,
    ["apply", "-f", "-"],
    probeDaemonSet({ name: "roll", nodeSelector: { probe: "yes" }, extra: "v2", port: 18085 }),
  );
  const afterPods = await until("new pods", async () => {
    const pods = await settled("roll", 2);
    return pods.every((p) => p.metadata.labels["controller-revision-hash"] !== oldHash) ? pods : undefined;
  });
  watching = false;
  await sampler;
  assert.ok(minReady >= 1, `at most one node was without a ready pod (min ready ${minReady})`);
  for (const pid of oldPids) assert.equal(processAlive(pid), false, "the old processes are gone");
  for (const p of afterPods) {
    const local = c.pods().find((x) => x.uid === p.metadata.uid);
    assert.ok(local);
    const report = await until("the new pod's report", () => probeLines(local.log()).find((l) => l.node));
    assert.equal(report.extra, "v2");
  }
  await kubectlOk(c, ["delete", "daemonset", "-n", "probe", "roll"]);
});

test("a pod killed behind Kubernetes' back is restarted", async () => {
  const pods = await settled("probe", 2);
  const pod = pods.find((p) => p.spec.nodeName === "node-1");
  assert.ok(pod);
  const before = c.podsOn("node-1").find((p) => p.name === pod.metadata.name);
  assert.ok(before?.pid);
  c.killPod("node-1", pod.metadata.name, "SIGKILL");
  await until("the pod to be restarted and ready", async () => {
    const p = (await podsOf(c, "probe")).find((x) => x.metadata.uid === pod.metadata.uid);
    const cs = p?.status.containerStatuses?.[0];
    return p && cs?.restartCount === 1 && cs.ready && isReady(p);
  });
  const after = c.podsOn("node-1").find((p) => p.name === pod.metadata.name);
  assert.ok(after?.pid && after.pid !== before.pid, "a new process");
  assert.equal(after.restartCount, 1);
  assert.equal(
    probeLines(after.log()).filter((l) => l.node === "node-1").length,
    2,
    "the log holds both runs",
  );
});

test("traffic sent into a node's eth1 arrives there, exactly", async () => {
  const node = c.node("node-2");
  const before = await node.traffic.stats();
  const sent = await node.traffic.send(10_000, 128);
  assert.equal(sent, 10_000);
  const after = await node.traffic.stats();
  assert.equal(after.rxPackets - before.rxPackets, 10_000n);
  assert.equal(after.rxBytes - before.rxBytes, 10_000n * 128n);
  const other = c.node("node-1");
  assert.notEqual(other.netns, node.netns);
});

test("deleting the DaemonSet stops its processes and deletes its pods", async () => {
  const pods = await settled("probe", 2);
  const procs = c.pods().filter((p) => pods.some((x) => x.metadata.uid === p.uid));
  assert.equal(procs.length, 2);
  await kubectlOk(c, ["delete", "daemonset", "-n", "probe", "probe"]);
  await until("the pods to be gone", async () => (await podsOf(c, "probe")).length === 0);
  for (const p of procs) assert.equal(processAlive(p.pid), false, `${p.name}'s process is gone`);
  assert.equal(c.pods().filter((p) => p.name.startsWith("probe-")).length, 0);
  assert.ok(existsSync(procs[0]?.logFile ?? ""), "logs stay until the cluster stops");
});

test("a pod whose container cannot be configured stays Pending and says why", async () => {
  const ds = JSON.parse(probeDaemonSet({ name: "misconfigured", nodeSelector: { zone: "a" } }));
  ds.spec.template.spec.containers[0].env.push({
    name: "X",
    valueFrom: { fieldRef: { fieldPath: "spec.bogus" } },
  });
  await kubectlOk(c, ["apply", "-f", "-"], JSON.stringify(ds));
  const pod = await until("the pod's reason", async () =>
    (await podsOf(c, "misconfigured")).find(
      (p) =>
        (p.status.containerStatuses?.[0] as { state?: { waiting?: { reason: string } } } | undefined)?.state
          ?.waiting?.reason === "CreateContainerConfigError",
    ),
  );
  assert.equal(pod.status.phase, "Pending");
  assert.equal(c.pods().filter((p) => p.name.startsWith("misconfigured-")).length, 0, "no process");
  await kubectlOk(c, ["delete", "daemonset", "-n", "probe", "misconfigured"]);
  await until("the pod to go", async () => (await podsOf(c, "misconfigured")).length === 0);
});

test("a pod that ignores SIGTERM is killed after its grace period, children included", async () => {
  await kubectlOk(
    c,
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "stubborn", namespace: "probe" },
      spec: {
        selector: { matchLabels: { app: "stubborn" } },
        template: {
          metadata: { labels: { app: "stubborn" } },
          spec: {
            terminationGracePeriodSeconds: 1,
            nodeSelector: { zone: "a" },
            containers: [
              {
                name: "sh",
                image: "busybox",
                command: ["sh", "-c", "trap '' TERM; sleep 1000 & while :; do sleep 0.1; done"],
              },
            ],
          },
        },
      },
    }),
  );
  const [pod] = await until("the pod to run", async () => {
    const ps = await podsOf(c, "stubborn");
    return ps.length === 1 && isReady(ps[0] as Pod) ? ps : undefined;
  });
  assert.ok(pod);
  const proc = c.podsOn("node-1").find((p) => p.name === pod.metadata.name);
  assert.ok(proc?.pid);
  const started = Date.now();
  await kubectlOk(c, ["delete", "pod", "-n", "probe", pod.metadata.name, "--wait=false"]);
  const terminating = (await podsOf(c, "stubborn")).find((p) => p.metadata.uid === pod.metadata.uid);
  assert.ok(terminating?.metadata.deletionTimestamp, "the pod object stays while its process terminates");
  await until("the process to be killed", () => !processAlive(proc.pid));
  assert.ok(Date.now() - started >= 900, "not before the grace period");
  const group = Number(proc.pid);
  await until("the whole process group to be gone", () => {
    try {
      process.kill(-group, 0);
      return false;
    } catch {
      return true;
    }
  });
  await kubectlOk(c, ["delete", "daemonset", "-n", "probe", "stubborn"]);
  await until("the pods to go", async () => (await podsOf(c, "stubborn")).length === 0);
});

test("a Pod bound to a node by hand runs there, and its deletion is graceful", async () => {
  await kubectlOk(
    c,
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "bare", namespace: "probe" },
      spec: {
        nodeName: "node-3",
        serviceAccountName: "probe",
        terminationGracePeriodSeconds: 5,
        containers: [
          {
            name: "probe",
            image: "example.invalid/xdp-counter/probe-pod:1",
            env: [
              { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
              { name: "POD_NAME", value: "bare" },
              { name: "PORT", value: "18086" },
            ],
          },
        ],
      },
    }),
  );
  const proc = await until("the bare pod's process", () =>
    c.podsOn("node-3").find((p) => p.name === "bare" && p.ready),
  );
  await until("its report", () => probeLines(proc.log()).find((l) => l.node === "node-3"));
  const del = await c.kubectl(["delete", "pod", "-n", "probe", "bare"]);
  assert.equal(del.code, 0, del.stderr);
  assert.equal(processAlive(proc.pid), false, "kubectl delete returned once the process was gone");
  assert.ok(probeLines(proc.log()).some((l) => l.signal === "SIGTERM"));
});
