// A test cluster for agents: the project's test API server (e2e/local/apiserver) with the XdpCounter CRD,
// in the test process, reachable from each test node's namespace through a bridge (ns-bridge.ts), and a pin
// root of the test's own on bpffs. stop() removes all of it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentConfig } from "../api/v1alpha1/index.ts";
import { type ApiServer, type Identity, startApiServer } from "../e2e/local/apiserver/index.ts";
import { call } from "../e2e/local/apiserver/testclient.ts";
import { type Bridge, startBridge } from "./ns-bridge.ts";

const CRD = new URL("../crds/xdpcounters.xdpcounter.dev.yaml", import.meta.url).pathname;
const XDPC = "/apis/xdpcounter.dev/v1alpha1/xdpcounters";
let seq = 0;

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
  readonly server: ApiServer;
  readonly dir: string;
  readonly #bridges: Bridge[] = [];
  readonly #pinRoots: string[] = [];

  private constructor(server: ApiServer, dir: string) {
    this.server = server;
    this.dir = dir;
  }

  static async start(): Promise<TestCluster> {
    const server = await startApiServer({ crds: [CRD], logUnknown: () => undefined });
    return new TestCluster(server, mkdtempSync(join(tmpdir(), "xct-cluster-")));
  }

  /** A kubeconfig that reaches the API server from inside `ns`, and the bridge (to cut it). */
  async kubeconfigFor(ns: string, identity: Identity = "admin"): Promise<{ path: string; bridge: Bridge }> {
    const port = Number(new URL(this.server.url).port);
    const bridge = await startBridge(ns, { host: "127.0.0.1", port });
    this.#bridges.push(bridge);
    const yaml = this.server
      .kubeconfigFor(identity)
      .replace(this.server.url, `https://127.0.0.1:${bridge.port}`);
    const path = join(this.dir, `kubeconfig-${ns}`);
    writeFileSync(path, yaml);
    return { path, bridge };
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
    const res = await call(this.server, "POST", XDPC, {
      body: { apiVersion: "xdpcounter.dev/v1alpha1", kind: "XdpCounter", metadata: { name }, spec },
    });
    if (res.status !== 201)
      throw new Error(`create XdpCounter ${name}: ${res.status} ${JSON.stringify(res.body)}`);
    return { uid: res.body.metadata.uid, generation: res.body.metadata.generation };
  }

  async deleteXdpCounter(name: string): Promise<void> {
    const res = await call(this.server, "DELETE", `${XDPC}/${name}`);
    if (res.status !== 200) throw new Error(`delete XdpCounter ${name}: ${res.status}`);
  }

  /** Creates an object as the admin (POST to `path`). */
  async create(path: string, body: Record<string, unknown>): Promise<void> {
    const res = await call(this.server, "POST", path, { body });
    if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  }

  async nodeEntries(name: string): Promise<Record<string, NodeEntry>> {
    const res = await call(this.server, "GET", `${XDPC}/${name}`);
    if (res.status !== 200) throw new Error(`get XdpCounter ${name}: ${res.status}`);
    return (res.body.status?.nodes ?? {}) as Record<string, NodeEntry>;
  }

  async createNode(name: string, internalIp: string): Promise<void> {
    const created = await call(this.server, "POST", "/api/v1/nodes", {
      body: { apiVersion: "v1", kind: "Node", metadata: { name } },
    });
    if (created.status !== 201) throw new Error(`create Node ${name}: ${created.status}`);
    const patched = await call(this.server, "PATCH", `/api/v1/nodes/${name}/status`, {
      contentType: "application/merge-patch+json",
      body: { status: { addresses: [{ type: "InternalIP", address: internalIp }] } },
    });
    if (patched.status !== 200) throw new Error(`patch Node ${name} status: ${patched.status}`);
  }

  async stop(): Promise<void> {
    for (const b of this.#bridges.splice(0)) await b.stop().catch(() => undefined);
    await this.server.stop();
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
