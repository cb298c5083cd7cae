// A local control plane for the operator's integration tests: the project's test API server with the
// XdpCounter CRD, a TCP proxy in front of it for the operator (to break its watches), the real kubectl,
// an admin client, and the operator's controller running in-process. No agents run: tests write node
// entries themselves, as agents would (a merge patch on /status), and make agent pods Ready or not, as the
// DaemonSet controller and the kubelet would.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CRD_PATH, type NodeStatus } from "../../api/v1alpha1/index.ts";
import { nodeEntryPatch } from "../../api/v1alpha1/node-patch.ts";
import { type ApiServer, startApiServer } from "../../e2e/local/apiserver/index.ts";
import { ensureTools } from "../../e2e/local/tools.ts";
import { silentLogger } from "../../runtime/index.ts";
import { parseOperatorConfig } from "../config/index.ts";
import {
  Controller,
  type ControllerOptions,
  createMetrics,
  daemonSetsPath,
  HttpKubeClient,
  type InformerEvent,
  type KubeObject,
  loadKubeConfig,
  nodesPath,
  xdpCountersPath,
} from "../controller/index.ts";
import { daemonSetName } from "../daemonset/index.ts";
import { agentPodManifest, agentPodStatus } from "../testing.ts";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";

export const NAMESPACE = "xdp-counter";
export const operatorEnv = {
  XDP_COUNTER_NAMESPACE: NAMESPACE,
  XDP_COUNTER_AGENT_IMAGE: "xdp-counter:e2e",
};

export type RunResult = { code: number; stdout: string; stderr: string };

export type Cluster = {
  server: ApiServer;
  proxy: TcpProxy;
  dir: string;
  kubeconfig: string;
  /** The kubeconfig (text) that reaches the server through the proxy. */
  operatorKubeconfig: string;
  admin: HttpKubeClient;
  kubectl(args: string[], input?: string): Promise<RunResult>;
  addNode(name: string, labels?: Record<string, string>): Promise<void>;
  deleteNode(name: string): Promise<void>;
  /** What the agent on `node` does each report: a merge patch of its whole entry on /status. */
  report(xdpCounter: string, node: string, entry: Partial<NodeStatus>): Promise<KubeObject>;
  /**
   * What the DaemonSet controller and the kubelet do for the agent on `node`: its pod, owned by the
   * XdpCounter's DaemonSet (which must exist), with condition Ready `ready`. Created once, then updated.
   */
  agentPod(xdpCounter: string, node: string, ready?: boolean): Promise<void>;
  getXdpCounter(name: string): Promise<KubeObject | undefined>;
  /** Requests the operator made (its User-Agent) that wrote something. */
  operatorWrites(): { method: string; url: string }[];
  stop(): Promise<void>;
};

export async function startCluster(options: { historySize?: number } = {}): Promise<Cluster> {
  const { kubectl } = ensureTools();
  const server = await startApiServer({
    crds: [CRD_PATH],
    bookmarkIntervalMs: 200,
    ...(options.historySize ? { historySize: options.historySize } : {}),
    logUnknown: () => {},
  });
  const proxy = await startTcpProxy(Number(new URL(server.url).port));
  const dir = mkdtempSync(join(tmpdir(), "xdp-operator-e2e-"));
  const kubeconfig = server.writeKubeconfig(join(dir, "kubeconfig"));
  const proxied = new URL(server.url);
  proxied.port = String(proxy.port);
  const operatorKubeconfig = server.kubeconfigFor().replace(server.url, proxied.origin);
  writeFileSync(join(dir, "operator-kubeconfig"), operatorKubeconfig);
  const admin = new HttpKubeClient(await loadKubeConfig(server.kubeconfigFor()), {
    userAgent: "xdp-counter-e2e",
  });
  await admin.create("/api/v1/namespaces", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: NAMESPACE },
  });

  const run = (args: string[], input?: string) =>
    new Promise<RunResult>((resolve) => {
      const child = execFile(
        kubectl,
        ["--kubeconfig", kubeconfig, ...args],
        { env: { ...process.env, HOME: dir } },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });

  return {
    server,
    proxy,
    dir,
    kubeconfig,
    operatorKubeconfig,
    admin,
    kubectl: run,
    async addNode(name, labels = {}) {
      await admin.create(nodesPath(), { apiVersion: "v1", kind: "Node", metadata: { name, labels } });
    },
    async deleteNode(name) {
      const res = await run(["delete", "node", name]);
      if (res.code !== 0) throw new Error(res.stderr);
    },
    report(xdpCounter, node, entry) {
      const full: NodeStatus = {
        phase: "Counting",
        reportedAt: new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace(".000Z", "Z"),
        interfaces: [],
        packets: {},
        bytes: {},
        ...entry,
      };
      return admin.patch(xdpCountersPath(xdpCounter, "status"), nodeEntryPatch(node, full), "merge", {
        fieldManager: "xdp-counter-agent",
      });
    },
    async agentPod(xdpCounter, node, ready = true) {
      const ds = await admin.get(daemonSetsPath(NAMESPACE, daemonSetName(xdpCounter)));
      if (!ds) throw new Error(`no DaemonSet for ${xdpCounter} yet`);
      const pods = `/api/v1/namespaces/${NAMESPACE}/pods`;
      const name = `${ds.metadata.name}-${node}`;
      if (!(await admin.get(`${pods}/${name}`))) {
        const owner = { name: ds.metadata.name, uid: ds.metadata.uid ?? "" };
        await admin.create(
          pods,
          agentPodManifest(xdpCounter, owner, node, operatorEnv.XDP_COUNTER_AGENT_IMAGE),
        );
      }
      await admin.patch(`${pods}/${name}/status`, agentPodStatus(ready), "merge");
    },
    getXdpCounter: (name) => admin.get(xdpCountersPath(name)),
    operatorWrites: () =>
      server.requests
        .filter((r) => r.userAgent.startsWith("xdp-counter-operator") && r.method !== "GET")
        .map((r) => ({ method: r.method, url: r.url })),
    async stop() {
      await proxy.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type InProcessOperator = {
  controller: Controller;
  events: InformerEvent[];
  stop(): Promise<void>;
};

/** The controller, in-process, talking to the API server through the proxy. */
export async function startController(
  cluster: Cluster,
  options: Partial<ControllerOptions> = {},
): Promise<InProcessOperator> {
  const config = parseOperatorConfig(operatorEnv);
  const client = new HttpKubeClient(await loadKubeConfig(cluster.operatorKubeconfig));
  const controller = new Controller({
    client,
    config,
    log: silentLogger,
    metrics: createMetrics(),
    informerBackoff: { baseMs: 50, maxMs: 500, jitter: 0.2 },
    queueBackoff: { baseMs: 20, maxMs: 1_000, jitter: 0.2 },
    ...options,
  });
  const events: InformerEvent[] = [];
  controller.onInformerEvent((event) => events.push(event));
  await controller.start();
  return { controller, events, stop: () => controller.stop() };
}

/** Polls `fn` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function xdpCounterYaml(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: "xdpcounter.dev/v1alpha1",
    kind: "XdpCounter",
    metadata: { name },
    spec,
  });
}
