// Real nodes on the real control plane, seen as a user sees a cluster: kubelets 1.37.2 registering with their
// own credentials and going Ready, DaemonSets placed by node labels, pods on the pod network reaching the API
// server through the `kubernetes` Service, kubectl logs and exec, and a pod that cannot start. One cluster of two
// nodes for the whole file (node-a labelled for the DaemonSet); the product image imported into both. Needs root.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { kubectlOk } from "../../scenario/index.ts";
import type { Cluster } from "./cluster.ts";
import type { CachedImage } from "./images/cache.ts";
import { pods, startTestCluster, until } from "./testing.ts";

const LABEL = "e2e.xdp-counter.dev/counted";
let c: Cluster;
let image: CachedImage;

before(
  async () => {
    assert.equal(process.getuid?.(), 0, "real nodes need root: namespaces, mounts, cgroups");
    ({ cluster: c, image } = await startTestCluster(
      [{ name: "node-a", labels: { [LABEL]: "yes" } }, { name: "node-b" }],
      (line) => console.log(`# ${line}`),
    ));
    for (const n of c.nodes)
      console.log(`# ${n.name}: Ready ${Math.round(n.readyAfterKubeletMs)} ms after its kubelet started`);
    console.log(`# cluster Ready in ${(c.startMs / 1000).toFixed(1)} s`);
  },
  { timeout: 600_000 },
);

after(async () => {
  await c?.stop();
});

describe("real nodes", { timeout: 180_000 }, () => {
  it("register and go Ready: kubelet v1.37.2 on containerd, at their cluster address", async () => {
    const list = JSON.parse(await kubectlOk(c, ["get", "nodes", "-o", "json"])) as {
      items: {
        metadata: { name: string; labels: Record<string, string> };
        status: {
          conditions: { type: string; status: string }[];
          addresses: { type: string; address: string }[];
          nodeInfo: { kubeletVersion: string; containerRuntimeVersion: string; kubeProxyVersion?: string };
        };
      }[];
    };
    assert.deepEqual(list.items.map((n) => n.metadata.name).sort(), ["node-a", "node-b"]);
    for (const n of list.items) {
      assert.ok(
        n.status.conditions.some((x) => x.type === "Ready" && x.status === "True"),
        `${n.metadata.name} Ready`,
      );
      assert.equal(n.status.nodeInfo.kubeletVersion, "v1.37.2");
      assert.match(n.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\/1\.6\./);
      const internal = n.status.addresses.find((a) => a.type === "InternalIP")?.address;
      assert.equal(internal, c.node(n.metadata.name).plan.ip);
    }
    assert.equal(list.items.find((n) => n.metadata.name === "node-a")?.metadata.labels[LABEL], "yes");
    // what a user sees
    const table = await kubectlOk(c, ["get", "nodes"]);
    assert.match(table, /^node-a\s+Ready\s+<none>\s+\S+\s+v1\.37\.2$/m);
    assert.match(table, /^node-b\s+Ready\s+<none>\s+\S+\s+v1\.37\.2$/m);
  });

  it("each kubelet is system:node:NAME in system:nodes, and may not touch another node", async () => {
    const a = c.node("node-a");
    // the kubelet's own kubeconfig, as it uses it (the API server at the host's cluster address)
    const who = JSON.parse(
      await kubectlOk(c, ["--kubeconfig", a.layout.kubeletKubeconfig, "auth", "whoami", "-o", "json"]),
    ) as { status: { userInfo: { username: string; groups: string[] } } };
    assert.equal(who.status.userInfo.username, "system:node:node-a");
    assert.ok(who.status.userInfo.groups.includes("system:nodes"));
    const other = await c.kubectl(["label", "node", "node-b", "e2e.xdp-counter.dev/by=node-a"], {
      kubeconfig: a.layout.kubeletKubeconfig,
    });
    assert.notEqual(other.code, 0, "node-a's kubelet may not label node-b");
    assert.match(other.stderr, /forbidden/i);
    // its heartbeat: the Lease it renews in kube-node-lease, made once its Node exists
    const lease = await until("node-a's Lease", async () => {
      const r = await c.kubectl(["get", "lease", "-n", "kube-node-lease", "node-a", "-o", "json"]);
      return r.code === 0 ? (JSON.parse(r.stdout) as { spec: { holderIdentity: string } }) : undefined;
    });
    assert.equal(lease.spec.holderIdentity, "node-a");
  });

  it("a DaemonSet with a nodeSelector runs exactly one pod on each matching node and none elsewhere", async () => {
    const ds = {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "selected", namespace: "default" },
      spec: {
        selector: { matchLabels: { app: "selected" } },
        template: {
          metadata: { labels: { app: "selected" } },
          spec: {
            nodeSelector: { [LABEL]: "yes" },
            terminationGracePeriodSeconds: 1,
            containers: [
              { name: "sleep", image: image.name, imagePullPolicy: "Never", command: ["sleep", "3600"] },
            ],
          },
        },
      },
    };
    await kubectlOk(c, ["apply", "-f", "-"], JSON.stringify(ds));
    const placed = async (want: string[]) =>
      until(`DaemonSet pods Running on exactly ${want.join(", ")}`, async () => {
        const ps = await pods(c, "default", "app=selected");
        const running = ps
          .filter((p) => p.phase === "Running" && p.ready)
          .map((p) => p.node)
          .sort();
        return ps.length === want.length && JSON.stringify(running) === JSON.stringify(want);
      });
    await placed(["node-a"]);
    // a second matching node gets its own pod, and loses it when it no longer matches
    await kubectlOk(c, ["label", "node", "node-b", `${LABEL}=yes`]);
    await placed(["node-a", "node-b"]);
    await kubectlOk(c, ["label", "node", "node-b", `${LABEL}-`]);
    await placed(["node-a"]);
    const status = JSON.parse(await kubectlOk(c, ["get", "daemonset", "selected", "-o", "json"])) as {
      status: { desiredNumberScheduled: number; numberReady: number };
    };
    assert.deepEqual([status.status.desiredNumberScheduled, status.status.numberReady], [1, 1]);
    await kubectlOk(c, ["delete", "daemonset", "selected", "--wait=true"]);
  });

  it("a pod on the pod network reaches the API server through the `kubernetes` Service (kube-proxy)", async () => {
    // the ServiceAccount token projected into the pod, sent to the Service's cluster IP: the API server says
    // whom it authenticated (a SelfSubjectReview, which every authenticated user may create)
    const script = [
      "const fs = require('fs'), https = require('https');",
      "const dir = '/var/run/secrets/kubernetes.io/serviceaccount';",
      "const body = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });",
      "const req = https.request({ method: 'POST', host: process.env.KUBERNETES_SERVICE_HOST,",
      "  port: process.env.KUBERNETES_SERVICE_PORT, path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',",
      "  ca: fs.readFileSync(dir + '/ca.crt'), headers: { authorization: 'Bearer ' +",
      "  fs.readFileSync(dir + '/token', 'utf8'), 'content-type': 'application/json' } }, (res) => {",
      "  let text = ''; res.on('data', (d) => (text += d));",
      "  res.on('end', () => console.log(JSON.stringify({ host: process.env.KUBERNETES_SERVICE_HOST,",
      "    status: res.statusCode, user: JSON.parse(text).status?.userInfo?.username }))); });",
      "req.on('error', (e) => { console.log(JSON.stringify({ error: e.message })); process.exit(1); });",
      "req.end(body);",
    ].join("\n");
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "service-client", namespace: "default" },
      spec: {
        nodeName: "node-b",
        restartPolicy: "Never",
        containers: [
          { name: "client", image: image.name, imagePullPolicy: "Never", command: ["node", "-e", script] },
        ],
      },
    };
    await kubectlOk(c, ["apply", "-f", "-"], JSON.stringify(pod));
    const done = await until("the client pod finished", async () => {
      const client = (await pods(c, "default")).find((x) => x.name === "service-client");
      return client && (client.phase === "Succeeded" || client.phase === "Failed") ? client : undefined;
    });
    const logs = await kubectlOk(c, ["logs", "service-client"]);
    assert.equal(done.phase, "Succeeded", logs);
    const seen = JSON.parse(logs.trim()) as { host: string; status: number; user: string };
    const serviceIp = c.plan.serviceRange.replace(/0\/24$/, "1");
    assert.deepEqual(seen, { host: serviceIp, status: 201, user: "system:serviceaccount:default:default" });
    // from the pod network: its address in node-b's pod CIDR
    assert.ok(done.ip.startsWith(c.node("node-b").plan.podCidr.split(".").slice(0, 3).join(".")), done.ip);
    await kubectlOk(c, ["delete", "pod", "service-client", "--wait=false"]);
  });

  it("kubectl logs and kubectl exec reach the kubelet", async (t) => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "talker", namespace: "default" },
      spec: {
        nodeName: "node-a",
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: "talker",
            image: image.name,
            imagePullPolicy: "Never",
            command: ["sh", "-c", "echo hello from $(hostname); exec sleep 3600"],
          },
        ],
      },
    };
    const created = performance.now();
    await kubectlOk(c, ["apply", "-f", "-"], JSON.stringify(pod));
    await until(
      "talker Running",
      async () => (await pods(c, "default")).find((p) => p.name === "talker")?.ready,
    );
    t.diagnostic(`pod Running and Ready ${Math.round(performance.now() - created)} ms after kubectl apply`);
    assert.equal((await kubectlOk(c, ["logs", "talker"])).trim(), "hello from talker");
    assert.equal(
      await kubectlOk(c, ["exec", "talker", "--", "sh", "-c", "echo $((6 * 7)) $(id -u)"]),
      "42 65532\n",
    );
    const stdin = await c.kubectl(["exec", "-i", "talker", "--", "wc", "-c"], { input: "x".repeat(1000) });
    assert.equal(stdin.stdout.trim(), "1000", stdin.stderr);
    await kubectlOk(c, ["delete", "pod", "talker", "--wait=false"]);
  });

  it("a pod that cannot start shows CrashLoopBackOff in kubectl get pods, and why in kubectl describe", async () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "cannot-start", namespace: "default" },
      spec: {
        nodeName: "node-b",
        containers: [
          { name: "main", image: image.name, imagePullPolicy: "Never", command: ["/no/such/program"] },
        ],
      },
    };
    await kubectlOk(c, ["apply", "-f", "-"], JSON.stringify(pod));
    // The kubelet shows CrashLoopBackOff while it waits out the back-off between restarts (10 s, then
    // doubling); between those it may show the start error. On a loaded machine that takes a while.
    let seen = "";
    await until(
      "CrashLoopBackOff in kubectl get pods",
      async () => {
        seen = await kubectlOk(c, ["get", "pods", "cannot-start"]);
        return /^cannot-start\s+0\/1\s+CrashLoopBackOff\s/m.test(seen);
      },
      120_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; kubectl get pods said last: ${seen}`);
    });
    // describe is read apart from get, so it too may land between two back-offs (RunContainerError): polled
    let describe = "";
    await until(
      "CrashLoopBackOff in kubectl describe",
      async () => {
        describe = await kubectlOk(c, ["describe", "pod", "cannot-start"]);
        return /Reason:\s+CrashLoopBackOff/.test(describe);
      },
      120_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; kubectl describe said last: ${describe}`);
    });
    assert.match(describe, /\/no\/such\/program: no such file or directory/);
    assert.match(describe, /Back-off restarting failed container main/);
    writeFileSync(join(c.dir, "describe-cannot-start.txt"), describe);
    await kubectlOk(c, ["delete", "pod", "cannot-start", "--wait=false"]);
  });
});
