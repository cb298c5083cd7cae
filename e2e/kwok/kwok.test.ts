// kwok on the project's real control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler):
// three fake Nodes become Ready and keep their Leases renewed and their status beating; a DaemonSet's pods are
// placed by the real scheduler, one per Node, and kwok makes them Running and Ready; a deleted Node's Lease
// goes; stop() leaves no kwok process, and neither does a run SIGKILLed with kwok beside its control plane.
// Needs root and the control plane's binaries (`bash .ci/install`).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import type { ApiClient } from "../../runtime/index.ts";
import { type ControlPlane, removeAbandoned, startControlPlane } from "../local/controlplane/index.ts";
import { processIdentity } from "../local/process.ts";
import { until } from "../local/wait.ts";
import { fakeNodeManifest, type Kwok, startKwok } from "./index.ts";

// biome-ignore lint/suspicious/noExplicitAny: API objects are inspected freely
type Obj = any;

const NODES = ["kwok-node-0", "kwok-node-1", "kwok-node-2"];
const NAMESPACE = "kwok-test";
const DAEMONSET = "pause";
// short, so that a renewal and a heartbeat are seen within seconds: a Lease renewed every 2 s, status every 3 s
const LEASE_SECONDS = 8;
const HEARTBEAT_SECONDS = 3;

async function call(client: ApiClient, method: string, path: string, body?: unknown): Promise<Obj> {
  const res = await client.call(method, path, body === undefined ? {} : { body });
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
  return res.body;
}

/** The object, or undefined when it does not exist (404). */
async function get(client: ApiClient, path: string): Promise<Obj | undefined> {
  const res = await client.call("GET", path);
  if (res.status === 404) return undefined;
  assert.equal(res.status, 200, `GET ${path}: ${res.status} ${res.text}`);
  return res.body;
}

const condition = (obj: Obj, type: string): Obj => obj?.status?.conditions?.find((c: Obj) => c.type === type);

async function daemonPods(client: ApiClient): Promise<Obj[]> {
  const list = await call(
    client,
    "GET",
    `/api/v1/namespaces/${NAMESPACE}/pods?labelSelector=app%3D${DAEMONSET}`,
  );
  return list.items;
}

describe("kwok on the real control plane", () => {
  let cp: ControlPlane;
  let kwok: Kwok;
  let stateDir: string;

  before(async () => {
    cp = await startControlPlane();
    stateDir = mkdtempSync(join(tmpdir(), "xdp-counter-kwok-"));
    kwok = await startKwok({
      kubeconfig: cp.kubeconfig,
      stateDir,
      leaseDurationSeconds: LEASE_SECONDS,
      heartbeatSeconds: HEARTBEAT_SECONDS,
    });
  });

  after(async () => {
    await kwok?.stop();
    await cp?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  test("the fake Nodes become Ready, untainted, with a Lease kwok renews and a status heartbeat", async (t) => {
    const began = Date.now();
    for (const [i, name] of NODES.entries())
      await call(
        cp.client,
        "POST",
        "/api/v1/nodes",
        fakeNodeManifest(name, {}, { internalIp: `10.99.0.${i + 1}` }),
      );

    const nodes = await until(
      "the three Nodes Ready",
      async () => {
        const found = await Promise.all(NODES.map((n) => get(cp.client, `/api/v1/nodes/${n}`)));
        return found.every((n) => condition(n, "Ready")?.status === "True") ? found : undefined;
      },
      30_000,
    );
    t.diagnostic(`3 Nodes Ready in ${Date.now() - began} ms`);
    for (const node of nodes) {
      assert.equal(node.status.phase, "Running");
      assert.match(node.status.nodeInfo.kubeletVersion, /^kwok-v0\.8\.0$/);
      assert.equal(node.status.allocatable.pods, "110");
      // the InternalIP it was made with is kept, and its name added as Hostname
      const addresses = Object.fromEntries(node.status.addresses.map((a: Obj) => [a.type, a.address]));
      assert.deepEqual(addresses, {
        InternalIP: `10.99.0.${NODES.indexOf(node.metadata.name) + 1}`,
        Hostname: node.metadata.name,
      });
      assert.equal(condition(node, "MemoryPressure")?.status, "False");
    }

    // the node lifecycle controller taints a new Node not-ready:NoSchedule until it reports Ready, and lifts the
    // taint at its next pass (every 5 s); the Node itself carries none
    await until(
      "the Nodes untainted",
      async () => {
        const now = await Promise.all(NODES.map((n) => get(cp.client, `/api/v1/nodes/${n}`)));
        return now.every((n) => (n?.spec?.taints ?? []).length === 0);
      },
      30_000,
    );
    t.diagnostic(`3 Nodes untainted ${Date.now() - began} ms after they were made`);

    // each Node's Lease: made by kwok, owned by the Node (so it goes with it), renewed within its duration
    const leasePath = (n: string) => `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${n}`;
    const first = await until("the three Leases", async () => {
      const leases = await Promise.all(NODES.map((n) => get(cp.client, leasePath(n))));
      return leases.every((l) => l?.spec?.renewTime) ? leases : undefined;
    });
    for (const [i, lease] of first.entries()) {
      assert.equal(lease.spec.leaseDurationSeconds, LEASE_SECONDS);
      assert.equal(lease.metadata.ownerReferences?.[0]?.kind, "Node");
      assert.equal(lease.metadata.ownerReferences?.[0]?.name, NODES[i]);
    }
    await until(
      "every Lease renewed",
      async () => {
        const leases = await Promise.all(NODES.map((n) => get(cp.client, leasePath(n))));
        return leases.every((l, i) => l && l.spec.renewTime !== first[i].spec.renewTime);
      },
      LEASE_SECONDS * 1000,
    );

    // the heartbeat Stage writes each Node's conditions again every HEARTBEAT_SECONDS (+ up to 10 %)
    const beat = (n: Obj) => condition(n, "Ready")?.lastHeartbeatTime;
    await until(
      "a new status heartbeat on every Node",
      async () => {
        const now = await Promise.all(NODES.map((n) => get(cp.client, `/api/v1/nodes/${n}`)));
        return now.every((n, i) => n && beat(n) !== beat(nodes[i]));
      },
      3 * HEARTBEAT_SECONDS * 1000,
    );
  });

  test("a DaemonSet's pods are placed by the scheduler, one per Node, and become Running and Ready", async (t) => {
    const began = Date.now();
    await call(cp.client, "POST", "/api/v1/namespaces", { metadata: { name: NAMESPACE } });
    // the ServiceAccount admission refuses pods until the namespace's `default` ServiceAccount exists; made
    // here rather than waited for from the controller manager (409: it was quicker)
    const sa = await cp.client.call("POST", `/api/v1/namespaces/${NAMESPACE}/serviceaccounts`, {
      body: { metadata: { name: "default" } },
    });
    assert.ok(sa.status === 201 || sa.status === 409, `ServiceAccount: ${sa.status} ${sa.text}`);
    await call(cp.client, "POST", `/apis/apps/v1/namespaces/${NAMESPACE}/daemonsets`, {
      metadata: { name: DAEMONSET },
      spec: {
        selector: { matchLabels: { app: DAEMONSET } },
        template: {
          metadata: { labels: { app: DAEMONSET } },
          // never pulled nor run: kwok only writes the pod's status
          spec: { containers: [{ name: "pause", image: "registry.k8s.io/pause:3.10" }] },
        },
      },
    });

    const pods = await until(
      "three pods Running and Ready",
      async () => {
        const items = await daemonPods(cp.client);
        const ready = items.filter(
          (p) => p.status.phase === "Running" && condition(p, "Ready")?.status === "True",
        );
        return ready.length === NODES.length && items.length === NODES.length ? items : undefined;
      },
      60_000,
    );
    t.diagnostic(`3 DaemonSet pods Running and Ready in ${Date.now() - began} ms`);
    assert.deepEqual(pods.map((p) => p.spec.nodeName).sort(), NODES);
    for (const pod of pods) {
      assert.equal(condition(pod, "PodScheduled")?.status, "True", "placed by the scheduler");
      assert.equal(pod.status.containerStatuses[0].ready, true);
      assert.ok(pod.status.containerStatuses[0].state.running, "the container is running");
      assert.match(pod.status.podIP, /^10\.244\./, "a pod IP from kwok's --cidr");
      assert.match(pod.status.hostIP, /^10\.99\.0\./, "the Node's InternalIP");
    }
    await until("the DaemonSet's status: 3 ready", async () => {
      const ds = await get(cp.client, `/apis/apps/v1/namespaces/${NAMESPACE}/daemonsets/${DAEMONSET}`);
      return ds?.status?.numberReady === NODES.length && ds.status.desiredNumberScheduled === NODES.length;
    });
  });

  test("a deleted Node's Lease goes with it", async () => {
    const gone = NODES[2] as string;
    assert.ok(
      (await daemonPods(cp.client)).some((p) => p.spec.nodeName === gone),
      `no pod on ${gone}`,
    );
    await call(cp.client, "DELETE", `/api/v1/nodes/${gone}`);
    // the Lease has the Node as owner: the garbage collector removes it at once
    await until(
      `the Lease of ${gone} gone`,
      async () =>
        !(await get(cp.client, `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${gone}`)),
    );
    // kwok lets go of a Node that is gone and does nothing to its pods: the controller manager's pod GC deletes
    // pods bound to a missing Node once it has been missing for 40 s (checked every 20 s), and the DaemonSet's
    // status follows; upstream's behaviour, not waited for here (README.md)
  });

  test("stop() ends the kwok process", async () => {
    const pid = kwok.pid;
    assert.ok(processIdentity(pid), "kwok runs before stop()");
    await kwok.stop();
    assert.equal(kwok.running, false);
    assert.equal(processIdentity(pid), undefined, `kwok (pid ${pid}) still runs after stop()`);
    await kwok.stop(); // a second stop is harmless
  });
});

test("a run SIGKILLed with kwok's pid file in its control plane's folder leaves kwok to the next start's clean-up", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "xdp-counter-kwok-kill-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const child = spawn(process.execPath, [join(import.meta.dirname, "testdata", "hold-kwok.ts"), root], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`hold-kwok.ts exited ${code} before it was ready`)));
  });
  const held = JSON.parse(line) as { dir: string; kwok: number };
  const kwokId = processIdentity(held.kwok);
  assert.ok(kwokId, "kwok runs");
  child.kill("SIGKILL");
  await exited;
  assert.deepEqual(processIdentity(held.kwok), kwokId, "no handler runs on SIGKILL: kwok outlives its owner");
  // what the next control plane's start does first
  assert.deepEqual(removeAbandoned(root), [held.dir]);
  await until("kwok gone", async () => processIdentity(held.kwok) === undefined, 10_000);
  assert.equal(existsSync(held.dir), false);
});
