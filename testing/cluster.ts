// A test cluster for agents: the real control plane (etcd and kube-apiserver, e2e/local/controlplane) with the
// XdpCounter CRD, reachable from each test node's network namespace through a bridge (ns-bridge.ts), and a pin
// root of the test's own on bpffs. Agents authenticate as the admin or as a ServiceAccount with a token from the
// TokenRequest API. stop() removes all of it.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentConfig } from "../api/v1alpha1/index.ts";
import { type ControlPlane, startControlPlane } from "../e2e/local/controlplane/index.ts";
import { kubeconfigText } from "../e2e/local/controlplane/kubeconfig.ts";
import type { ApiResponse } from "../runtime/index.ts";
import { type Bridge, startBridge } from "./ns-bridge.ts";

const CRD = new URL("../crds/xdpcounters.xdpcounter.dev.yaml", import.meta.url).pathname;
const XDPC = "/apis/xdpcounter.dev/v1alpha1/xdpcounters";
let seq = 0;

/** Who an agent is: the admin, or a ServiceAccount (which must exist). */
export type Identity = "admin" | { namespace: string; serviceAccount: string };

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

/** A node's entry as the API server returns it. Counters leave out the actions that counted 0. */
export type NodeEntry = {
  phase: string;
  error?: string;
  generation?: number;
  reportedAt: string;
  interfaces: {
    name: string;
    attached: boolean;
    mode: string;
    reason?: string;
    error?: string;
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
    const controlPlane = await startControlPlane({ components: "apiserver", crds: [CRD], audit: "Request" });
    return new TestCluster(controlPlane, mkdtempSync(join(tmpdir(), "xct-cluster-")));
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
            { token: await this.token(identity.namespace, identity.serviceAccount) },
            identity.serviceAccount,
          );
    const path = join(this.dir, `kubeconfig-${ns}`);
    writeFileSync(path, yaml, { mode: 0o600 });
    return { path, bridge };
  }

  /** A ServiceAccount's token from the TokenRequest API (one hour). */
  async token(namespace: string, serviceAccount: string): Promise<string> {
    const res = await this.#call(
      "POST",
      `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`,
      { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } },
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

  /** Creates an object as the admin (POST to `path`). */
  async create(path: string, body: Record<string, unknown>): Promise<void> {
    const res = await this.#call("POST", path, body);
    if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${res.text}`);
  }

  async nodeEntries(name: string): Promise<Record<string, NodeEntry>> {
    const res = await this.#call("GET", `${XDPC}/${name}`);
    if (res.status !== 200) throw new Error(`get XdpCounter ${name}: ${res.status}`);
    return ((res.body as { status?: { nodes?: Record<string, NodeEntry> } }).status?.nodes ?? {}) as Record<
      string,
      NodeEntry
    >;
  }

  async createNode(name: string, internalIp: string): Promise<void> {
    const created = await this.#call("POST", "/api/v1/nodes", {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name },
    });
    if (created.status !== 201) throw new Error(`create Node ${name}: ${created.status} ${created.text}`);
    const patched = await this.#call(
      "PATCH",
      `/api/v1/nodes/${name}/status`,
      { status: { addresses: [{ type: "InternalIP", address: internalIp }] } },
      "application/merge-patch+json",
    );
    if (patched.status !== 200)
      throw new Error(`patch Node ${name} status: ${patched.status} ${patched.text}`);
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

/** The agent configuration the operator would render for an XdpCounter, for one node. */
export function agentConfigFor(
  name: string,
  created: { uid: string; generation: number },
  nodeName: string,
  over: Partial<AgentConfig> = {},
): AgentConfig {
  return {
    xdpCounter: name,
    uid: created.uid,
    generation: created.generation,
    mode: "count",
    interfaces: [],
    attachMode: "auto",
    action: "pass",
    reportIntervalMs: 1_000,
    nodeName,
    ...over,
  };
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
