// The control plane launcher against the real components: versions, RBAC, the controller manager and the
// scheduler at work, two control planes side by side, and nothing left behind after stop(), Ctrl-C, SIGKILL
// or a failed start. One control plane is shared by the tests that only read it or work in their own namespace.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { ApiClient, loadKubeconfigFiles } from "../../../runtime/index.ts";
import { type ControlPlane, ControlPlaneError, ControlPlaneErrorCode, startControlPlane } from "./index.ts";
import { processIdentity } from "./state.ts";

const run = promisify(execFile);
const VERSION = "v1.37.2";
const components = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"] as const;

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// biome-ignore lint/suspicious/noExplicitAny: API objects are inspected freely
type Obj = any;

async function ok(client: ApiClient, method: string, path: string, body?: unknown): Promise<Obj> {
  const res = await client.call(method, path, body === undefined ? {} : { body });
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
  return res.body;
}

function alive(pid: number): boolean {
  return processIdentity(pid) !== undefined;
}

/** What is left of a control plane: its folder, and which of its processes still run. */
function leftovers(dir: string, pids: number[]): string[] {
  return [...(existsSync(dir) ? [dir] : []), ...pids.filter(alive).map((p) => `process ${p}`)];
}

/** A child process that starts a control plane in `stateRoot` and reports its folder and pids. */
async function startOwner(stateRoot: string) {
  const child = spawn(process.execPath, [join(import.meta.dirname, "testdata", "owner.ts"), stateRoot], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once("exit", (code, signal) => resolve(signal ?? code)),
  );
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("\n")) resolve(out.split("\n")[0] ?? "");
    });
    child.once("exit", (code) => reject(new Error(`owner exited (${code}) before it was ready`)));
  });
  const { dir, pids } = JSON.parse(line) as { dir: string; pids: number[] };
  return { child, exited, dir, pids };
}

describe("control plane", () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => {
    await cp?.stop();
  });

  test("serves Kubernetes v1.37.2: /version, and kubectl version for client and server", async () => {
    const version = await ok(cp.client, "GET", "/version");
    assert.equal(version.gitVersion, VERSION);
    assert.equal(`v${version.major}.${version.minor}`, "v1.37");
    const { stdout } = await run(cp.kubectl, ["version", "-o", "json", "--kubeconfig", cp.kubeconfig]);
    const both = JSON.parse(stdout);
    assert.equal(both.clientVersion.gitVersion, VERSION);
    assert.equal(both.serverVersion.gitVersion, VERSION);
  });

  test("RBAC grants a ServiceAccount what its Role allows and refuses the rest (403)", async () => {
    const ns = "rbac-check";
    await ok(cp.client, "POST", "/api/v1/namespaces", { metadata: { name: ns } });
    await ok(cp.client, "POST", `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: "reader" } });
    await ok(cp.client, "POST", `/api/v1/namespaces/${ns}/configmaps`, {
      metadata: { name: "settings" },
      data: { a: "1" },
    });
    await ok(cp.client, "POST", `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, {
      metadata: { name: "configmap-reader" },
      rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list"] }],
    });
    await ok(cp.client, "POST", `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
      metadata: { name: "reader" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "configmap-reader" },
      subjects: [{ kind: "ServiceAccount", name: "reader", namespace: ns }],
    });
    // a token from the TokenRequest API, signed with the control plane's service-account key
    const request = await ok(cp.client, "POST", `/api/v1/namespaces/${ns}/serviceaccounts/reader/token`, {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: 600 },
    });
    const token = request.status.token as string;
    const kubeconfig = cp.writeKubeconfig(join(cp.dir, "reader.kubeconfig"), { token }, "reader");
    const reader = new ApiClient(await loadKubeconfigFiles([kubeconfig]), { userAgent: "controlplane-test" });
    try {
      // the binding reaches the authorizer through its informer: wait for the grant, then check both ways
      await until("the Role to be in force", async () => {
        const res = await reader.call("GET", `/api/v1/namespaces/${ns}/configmaps`);
        return res.status === 200;
      });
      const secrets = await reader.call("GET", `/api/v1/namespaces/${ns}/secrets`);
      assert.equal(secrets.status, 403, secrets.text);
      assert.equal((secrets.body as Obj).reason, "Forbidden");
      assert.match(
        (secrets.body as Obj).message,
        new RegExp(`"system:serviceaccount:${ns}:reader" cannot list resource "secrets"`),
      );
      const elsewhere = await reader.call("GET", "/api/v1/namespaces/default/configmaps");
      assert.equal(elsewhere.status, 403, elsewhere.text);

      // the same through kubectl with a token it made itself (`kubectl create token`)
      const created = await run(cp.kubectl, [
        "--kubeconfig",
        cp.kubeconfig,
        "-n",
        ns,
        "create",
        "token",
        "reader",
      ]);
      const kubectlToken = created.stdout.trim();
      // a kubeconfig with the token alone (the admin's client certificate would authenticate first)
      const tokenOnly = cp.writeKubeconfig(join(cp.dir, "reader-kubectl.kubeconfig"), {
        token: kubectlToken,
      });
      const listed = await run(cp.kubectl, [
        "--kubeconfig",
        tokenOnly,
        "-n",
        ns,
        "get",
        "configmaps",
        "-o",
        "name",
      ]);
      assert.match(listed.stdout, /^configmap\/settings$/m);
      const refused = await run(cp.kubectl, ["--kubeconfig", tokenOnly, "-n", ns, "get", "secrets"]).then(
        () => assert.fail("kubectl get secrets succeeded"),
        (err: { stderr: string }) => err.stderr,
      );
      assert.match(refused, /Forbidden/);
      assert.match(refused, /cannot list resource "secrets"/);
    } finally {
      reader.close();
    }
  });

  test("the controller manager runs its controllers: default ServiceAccount, root CA, Deployment to Pods", async () => {
    const ns = "controllers";
    await ok(cp.client, "POST", "/api/v1/namespaces", { metadata: { name: ns } });
    await until("the namespace's default ServiceAccount", async () => {
      return (await cp.client.call("GET", `/api/v1/namespaces/${ns}/serviceaccounts/default`)).status === 200;
    });
    const rootCa = await until("the namespace's kube-root-ca.crt", async () => {
      const res = await cp.client.call("GET", `/api/v1/namespaces/${ns}/configmaps/kube-root-ca.crt`);
      return res.status === 200 ? (res.body as Obj) : undefined;
    });
    assert.equal(rootCa.data["ca.crt"], cp.caPem);

    const labels = { app: "web" };
    await ok(cp.client, "POST", `/apis/apps/v1/namespaces/${ns}/deployments`, {
      metadata: { name: "web" },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: "web", image: "example.invalid/web:1" }] },
        },
      },
    });
    const rs = await until("a ReplicaSet owned by the Deployment", async () => {
      const list = await ok(cp.client, "GET", `/apis/apps/v1/namespaces/${ns}/replicasets`);
      return list.items.find((r: Obj) => r.metadata.ownerReferences?.[0]?.name === "web");
    });
    assert.equal(rs.metadata.ownerReferences[0].kind, "Deployment");
    assert.equal(rs.metadata.ownerReferences[0].controller, true);
    const pods = await until("the ReplicaSet's two Pods", async () => {
      const list = await ok(cp.client, "GET", `/api/v1/namespaces/${ns}/pods`);
      return list.items.length === 2 ? list.items : undefined;
    });
    for (const pod of pods) assert.equal(pod.metadata.ownerReferences[0].name, rs.metadata.name);
  });

  test("the scheduler runs: it holds and renews its Lease, and reports an unschedulable Pod", async () => {
    const lease = await ok(
      cp.client,
      "GET",
      "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler",
    );
    assert.ok(lease.spec.holderIdentity);
    await until("the scheduler to renew its Lease", async () => {
      const now = await ok(
        cp.client,
        "GET",
        "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler",
      );
      return (
        now.spec.renewTime !== lease.spec.renewTime && now.spec.holderIdentity === lease.spec.holderIdentity
      );
    });
    // no nodes: the scheduler tries the Pod and says why it cannot place it
    await ok(cp.client, "POST", "/api/v1/namespaces/default/pods", {
      metadata: { name: "unplaced" },
      spec: { containers: [{ name: "c", image: "example.invalid/c:1" }] },
    });
    const condition = await until("PodScheduled=False from the scheduler", async () => {
      const pod = await ok(cp.client, "GET", "/api/v1/namespaces/default/pods/unplaced");
      return pod.status.conditions?.find((c: Obj) => c.type === "PodScheduled" && c.status === "False");
    });
    assert.equal(condition.reason, "Unschedulable");
    assert.match(condition.message, /no nodes available to schedule pods/);
  });

  test("a Ctrl-C'd owner stops its control plane and removes its folder", async () => {
    const root = mkdtempSync(join(tmpdir(), "controlplane-test-"));
    try {
      const owner = await startOwner(root);
      assert.equal(leftovers(owner.dir, owner.pids).length, 5, "folder and four processes while it runs");
      owner.child.kill("SIGINT");
      assert.equal(await owner.exited, "SIGINT");
      assert.deepEqual(leftovers(owner.dir, owner.pids), []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test("a SIGKILLed owner's leftovers go at the next start; two control planes side by side; stop leaves nothing", async () => {
    const root = mkdtempSync(join(tmpdir(), "controlplane-test-"));
    try {
      const owner = await startOwner(root);
      owner.child.kill("SIGKILL");
      assert.equal(await owner.exited, "SIGKILL");
      // no handler runs on SIGKILL: the components and the folder outlive their owner
      assert.equal(leftovers(owner.dir, owner.pids).length, 5);

      const second = await startControlPlane({ stateRoot: root });
      let stopped = false;
      try {
        assert.deepEqual(
          leftovers(owner.dir, owner.pids),
          [],
          "the killed run's processes and folder are gone",
        );
        assert.deepEqual(readdirSync(root), [second.id]);

        // side by side with the shared one: other ports, other folder, other data
        assert.notEqual(second.url, cp.url);
        assert.notEqual(second.etcdUrl, cp.etcdUrl);
        assert.notEqual(second.dir, cp.dir);
        await ok(second.client, "POST", "/api/v1/namespaces", { metadata: { name: "only-in-second" } });
        assert.equal((await cp.client.call("GET", "/api/v1/namespaces/only-in-second")).status, 404);
        assert.equal((await ok(second.client, "GET", "/version")).gitVersion, VERSION);

        const pids = components.map((c) => second.pid(c));
        await second.stop();
        stopped = true;
        assert.deepEqual(leftovers(second.dir, pids), []);
        await second.stop(); // twice is fine
      } finally {
        if (!stopped) await second.stop();
      }
      // the shared control plane went on meanwhile
      assert.equal((await cp.client.call("GET", "/readyz")).status, 200);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test("a component that fails to start: the error names it with its log's last lines, nothing is left", async () => {
    const root = mkdtempSync(join(tmpdir(), "controlplane-test-"));
    try {
      const err = await startControlPlane({
        stateRoot: root,
        extraFlags: { "kube-scheduler": ["--no-such-flag"] },
      }).then(
        () => assert.fail("started with an unknown flag"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ControlPlaneError, String(err));
      assert.equal(err.code, ControlPlaneErrorCode.Exited);
      assert.match(err.message, /^kube-scheduler exited \(exit code 1\)/);
      assert.match(err.message, /unknown flag: --no-such-flag/);
      assert.deepEqual(readdirSync(root), []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test("the API server alone (envtest's shape), with a CRD installed at start and an audit log", async () => {
    const crd = new URL("../../../crds/xdpcounters.xdpcounter.dev.yaml", import.meta.url).pathname;
    await using alone = await startControlPlane({ components: "apiserver", crds: [crd], audit: "Request" });
    assert.throws(() => alone.pid("kube-controller-manager"), /no component kube-controller-manager/);
    assert.throws(() => alone.pid("kube-scheduler"), /no component kube-scheduler/);
    const established = await ok(
      alone.client,
      "GET",
      "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/xdpcounters.xdpcounter.dev",
    );
    assert.ok(
      established.status.conditions.some((c: Obj) => c.type === "Established" && c.status === "True"),
    );
    // nobody makes a namespace's default ServiceAccount without the controller manager
    await ok(alone.client, "POST", "/api/v1/namespaces", { metadata: { name: "quiet" } });
    const sa = await alone.client.call("GET", "/api/v1/namespaces/quiet/serviceaccounts/default");
    assert.equal(sa.status, 404);
    const patch = { metadata: { labels: { audited: "yes" } } };
    await alone.client.call("PATCH", "/api/v1/namespaces/quiet", {
      body: patch,
      contentType: "application/merge-patch+json",
    });
    const event = await until("the patch in the audit log", async () =>
      alone.auditEvents().find((e) => e.verb === "patch" && e.requestURI === "/api/v1/namespaces/quiet"),
    );
    assert.equal(event.user.username, "xdp-counter-admin");
    assert.equal(event.responseStatus?.code, 200);
    assert.deepEqual(event.requestObject, patch);
  });
});
