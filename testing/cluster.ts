// A test cluster for agents: the real control plane (etcd and kube-apiserver, e2e/local/controlplane) with the
// XdpCounter and XdpCounterReport CRDs, reachable from each test node's network namespace through a bridge
// (ns-bridge.ts), and a pin root of the test's own on bpffs. The test plays the operator's part: it publishes the
// XdpCounters' specs into an agents' ConfigMap of its own (so two tests' agents never see each other's
// XdpCounters) and creates the Node objects. Agents authenticate as the admin or as a ServiceAccount with a token
// from the TokenRequest API. stop() removes all of it.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderAgentSpecs, XDPCOUNTER_LABEL, xdpCounter } from "../api/v1alpha1/index.ts";
import { type ControlPlane, startControlPlane } from "../e2e/local/controlplane/index.ts";
import { kubeconfigText } from "../e2e/local/controlplane/kubeconfig.ts";
import { ApiClient, type ApiResponse, loadKubeconfigText } from "../runtime/index.ts";
import { type Bridge, startBridge } from "./ns-bridge.ts";

const CRD = new URL("../crds/xdpcounters.xdpcounter.dev.yaml", import.meta.url).pathname;
const REPORT_CRD = new URL("../crds/xdpcounterreports.xdpcounter.dev.yaml", import.meta.url).pathname;
const XDPC = "/apis/xdpcounter.dev/v1alpha1/xdpcounters";
const REPORTS = "/apis/xdpcounter.dev/v1alpha1/xdpcounterreports";
/** The namespace the agents' ConfigMaps are in (the release namespace of a real install). */
export const AGENT_NAMESPACE = "xdp-system";
let seq = 0;

/** Who an agent is: the admin, or a ServiceAccount (which must exist), with a token bound to a Pod or not. */
export type Identity =
  | "admin"
  | { namespace: string; serviceAccount: string; pod?: { name: string; uid: string } };

/** A request the API server answered (its audit log); `body` is what was sent (a patch: the patch). */
export type Request = {
  method: string;
  url: string;
  user: string;
  userAgent: string;
  status: number;
  body: unknown;
};

const METHODS: Record<string, string> = {
  create: "POST",
  update: "PUT",
  patch: "PATCH",
  delete: "DELETE",
  deletecollection: "DELETE",
};

/** A node's report as the API server returns it. Counters leave out the actions that counted 0. */
export type Report = {
  metadata: { name: string; uid: string; ownerReferences?: { kind: string; name: string; uid: string }[] };
  nodeName: string;
  xdpCounter: { name: string; uid: string };
  phase: string;
  error?: string;
  generation: number;
  reportedAt: string;
  rates?: {
    packetsPerSecond: Record<string, number>;
    bitsPerSecond: Record<string, number>;
    seconds: number;
  };
  interfaces: {
    name: string;
    attached: boolean;
    mode: string;
    reason?: string;
    error?: string;
    heldBy?: string;
    fallback?: { reason: string; message: string };
    packets: Record<string, string>;
    bytes: Record<string, string>;
  }[];
  packets: Record<string, string>;
  bytes: Record<string, string>;
};

export class TestCluster {
  readonly controlPlane: ControlPlane;
  readonly dir: string;
  readonly #bridges: Bridge[] = [];
  readonly #pinRoots: string[] = [];

  private constructor(controlPlane: ControlPlane, dir: string) {
    this.controlPlane = controlPlane;
    this.dir = dir;
  }

  static async start(): Promise<TestCluster> {
    const controlPlane = await startControlPlane({
      components: "apiserver",
      crds: [CRD, REPORT_CRD],
      audit: "Request",
    });
    const cluster = new TestCluster(controlPlane, mkdtempSync(join(tmpdir(), "xct-cluster-")));
    await cluster.create("/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: AGENT_NAMESPACE },
    });
    return cluster;
  }

  /**
   * A kubeconfig that reaches the API server from inside `ns` (the bridge listens on the namespace's
   * 127.0.0.1, which the serving certificate names), and the bridge (to cut it).
   */
  async kubeconfigFor(ns: string, identity: Identity = "admin"): Promise<{ path: string; bridge: Bridge }> {
    const url = new URL(this.controlPlane.url);
    const bridge = await startBridge(ns, { host: url.hostname, port: Number(url.port) });
    this.#bridges.push(bridge);
    const server = `https://${url.hostname}:${bridge.port}`;
    const yaml =
      identity === "admin"
        ? readFileSync(this.controlPlane.kubeconfig, "utf8").replace(url.origin, server)
        : kubeconfigText(
            server,
            this.controlPlane.caPem,
            { token: await this.token(identity.namespace, identity.serviceAccount, identity.pod) },
            identity.serviceAccount,
          );
    const path = join(this.dir, `kubeconfig-${ns}`);
    writeFileSync(path, yaml, { mode: 0o600 });
    return { path, bridge };
  }

  /**
   * A ServiceAccount's token from the TokenRequest API (one hour); bound to a Pod when one is given (as a pod's
   * projected token is: it then names the pod's node).
   */
  async token(
    namespace: string,
    serviceAccount: string,
    pod?: { name: string; uid: string },
  ): Promise<string> {
    const res = await this.#call(
      "POST",
      `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`,
      {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: {
          expirationSeconds: 3600,
          ...(pod ? { boundObjectRef: { apiVersion: "v1", kind: "Pod", name: pod.name, uid: pod.uid } } : {}),
        },
      },
    );
    const token = (res.body as { status?: { token?: string } }).status?.token;
    if (res.status !== 201 || !token)
      throw new Error(`TokenRequest ${namespace}/${serviceAccount}: ${res.text}`);
    return token;
  }

  /** A fresh pin root on bpffs for one test node; removed by stop(). */
  pinRoot(): string {
    const root = `/sys/fs/bpf/xdp-counter-test-${process.pid}-${seq++}`;
    mkdirSync(root, { recursive: true });
    this.#pinRoots.push(root);
    return root;
  }

  async createXdpCounter(
    name: string,
    spec: Record<string, unknown>,
  ): Promise<{ uid: string; generation: number }> {
    const res = await this.#call("POST", XDPC, {
      apiVersion: "xdpcounter.dev/v1alpha1",
      kind: "XdpCounter",
      metadata: { name },
      spec,
    });
    if (res.status !== 201) throw new Error(`create XdpCounter ${name}: ${res.status} ${res.text}`);
    const { metadata } = res.body as { metadata: { uid: string; generation: number } };
    return { uid: metadata.uid, generation: metadata.generation };
  }

  async deleteXdpCounter(name: string): Promise<void> {
    const res = await this.#call("DELETE", `${XDPC}/${name}`);
    if (res.status !== 200) throw new Error(`delete XdpCounter ${name}: ${res.status}`);
  }

  /** Creates an object as the admin (POST to `path`); returns it as stored. */
  async create(path: string, body: unknown): Promise<{ metadata: { name: string; uid: string } }> {
    const res = await this.#call("POST", path, body);
    if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${res.text}`);
    return res.body as { metadata: { name: string; uid: string } };
  }

  /** A request with a bearer token (as a ServiceAccount), straight to the API server. */
  async callAs(token: string, method: string, path: string, body?: unknown): Promise<ApiResponse> {
    const yaml = kubeconfigText(this.controlPlane.url, this.controlPlane.caPem, { token }, "as");
    const client = new ApiClient(await loadKubeconfigText(yaml), { userAgent: "xdp-counter-test" });
    try {
      return await client.call(method, path, body === undefined ? {} : { body });
    } finally {
      client.close();
    }
  }

  /** Any request as the admin, for what the helpers above do not cover. */
  call(method: string, path: string, body?: unknown, contentType?: string): Promise<ApiResponse> {
    return this.#call(method, path, body, contentType);
  }

  /** Merges `spec` into the XdpCounter's spec (a JSON merge patch); returns its new generation. */
  async updateXdpCounter(name: string, spec: Record<string, unknown>): Promise<number> {
    const res = await this.#call("PATCH", `${XDPC}/${name}`, { spec }, "application/merge-patch+json");
    if (res.status !== 200) throw new Error(`patch XdpCounter ${name}: ${res.status} ${res.text}`);
    return (res.body as { metadata: { generation: number } }).metadata.generation;
  }

  /**
   * What the operator does: puts the specs of these XdpCounters (as they are now on the server) into the
   * agents' ConfigMap `specsName`, replacing what it held.
   */
  async publishSpecs(specsName: string, names: readonly string[]): Promise<void> {
    const parsed = [];
    for (const name of names) {
      const res = await this.#call("GET", `${XDPC}/${name}`);
      if (res.status !== 200) throw new Error(`get XdpCounter ${name}: ${res.status}`);
      parsed.push(xdpCounter.parse(res.body));
    }
    const res = await this.#call(
      "PATCH",
      `/api/v1/namespaces/${AGENT_NAMESPACE}/configmaps/${specsName}?fieldManager=test&force=true`,
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: specsName, namespace: AGENT_NAMESPACE },
        data: renderAgentSpecs(parsed),
      },
      "application/apply-patch+yaml",
    );
    if (res.status !== 200 && res.status !== 201)
      throw new Error(`apply ConfigMap ${specsName}: ${res.status} ${res.text}`);
  }

  /** The reports of an XdpCounter, by node. */
  async reports(name: string): Promise<Record<string, Report>> {
    const res = await this.#call(
      "GET",
      `${REPORTS}?labelSelector=${encodeURIComponent(`${XDPCOUNTER_LABEL}=${name}`)}`,
    );
    if (res.status !== 200) throw new Error(`list reports of ${name}: ${res.status} ${res.text}`);
    const out: Record<string, Report> = {};
    for (const item of (res.body as { items: Report[] }).items) out[item.nodeName] = item;
    return out;
  }

  /** The report of `name` on `node` once `ok` holds for it; `what` names the wait in a timeout's message. */
  async reportWhere(
    name: string,
    node: string,
    ok: (report: Report) => boolean,
    what: string,
    timeoutMs = 15_000,
  ): Promise<Report> {
    return eventually(
      async () => {
        const report = (await this.reports(name))[node];
        return report && ok(report) ? report : undefined;
      },
      `${what} (node ${node} of ${name})`,
      timeoutMs,
    );
  }

  /** A Node object (the agent's owner for its reports), with an InternalIP and labels; created once. */
  async ensureNode(
    name: string,
    opts: { internalIp?: string; labels?: Record<string, string> } = {},
  ): Promise<void> {
    const got = await this.#call("GET", `/api/v1/nodes/${name}`);
    if (got.status === 200) {
      if (opts.labels) await this.labelNode(name, opts.labels);
      return;
    }
    const created = await this.#call("POST", "/api/v1/nodes", {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name, labels: opts.labels ?? {} },
    });
    if (created.status !== 201) throw new Error(`create Node ${name}: ${created.status} ${created.text}`);
    // No kubelet makes it Ready here: take off the not-ready taint the API server puts on a new Node.
    const untainted = await this.#call(
      "PATCH",
      `/api/v1/nodes/${name}`,
      { spec: { taints: null } },
      "application/merge-patch+json",
    );
    if (untainted.status !== 200)
      throw new Error(`untaint Node ${name}: ${untainted.status} ${untainted.text}`);
    if (opts.internalIp) {
      const patched = await this.#call(
        "PATCH",
        `/api/v1/nodes/${name}/status`,
        { status: { addresses: [{ type: "InternalIP", address: opts.internalIp }] } },
        "application/merge-patch+json",
      );
      if (patched.status !== 200)
        throw new Error(`patch Node ${name} status: ${patched.status} ${patched.text}`);
    }
  }

  /** Sets (a value) or removes (null) labels of a Node. */
  async labelNode(name: string, labels: Record<string, string | null>): Promise<void> {
    const res = await this.#call(
      "PATCH",
      `/api/v1/nodes/${name}`,
      { metadata: { labels } },
      "application/merge-patch+json",
    );
    if (res.status !== 200) throw new Error(`label Node ${name}: ${res.status} ${res.text}`);
  }

  /** Deletes a Node object. */
  async deleteNode(name: string): Promise<void> {
    const res = await this.#call("DELETE", `/api/v1/nodes/${name}`);
    if (res.status !== 200) throw new Error(`delete Node ${name}: ${res.status}`);
  }

  /** The writes the API server answered so far, oldest first (its audit log). */
  writes(): Request[] {
    return this.controlPlane.auditEvents().flatMap((e) => {
      const method = METHODS[e.verb];
      if (!method) return [];
      return [
        {
          method,
          url: e.requestURI,
          user: e.user.username,
          userAgent: e.userAgent ?? "",
          status: e.responseStatus?.code ?? 0,
          body: e.requestObject,
        },
      ];
    });
  }

  #call(method: string, path: string, body?: unknown, contentType?: string): Promise<ApiResponse> {
    return this.controlPlane.client.call(method, path, {
      ...(body === undefined ? {} : { body }),
      ...(contentType ? { contentType } : {}),
    });
  }

  async stop(): Promise<void> {
    for (const b of this.#bridges.splice(0)) await b.stop().catch(() => undefined);
    await this.controlPlane.stop();
    for (const root of this.#pinRoots.splice(0)) rmSync(root, { recursive: true, force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls until `fn` returns a value that is not undefined (or throws the last error at the deadline). */
export async function eventually<T>(
  fn: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
