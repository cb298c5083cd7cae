// The real control plane for the operator's integration tests, shared by a test file as envtest's is: etcd
// and kube-apiserver, with the controller manager running two controllers only, the garbage collector (owner
// references are honoured: a deleted Node takes its reports) and the ServiceAccount controller (each
// namespace's `default`, which pods need): no DaemonSet controller, scheduler or kubelet touches the pods. Both
// CRDs (XdpCounter, XdpCounterReport) are installed by the real kubectl; a TCP proxy stands in front of the API
// server for the operator (to break its watches); an admin client; the operator's controller runs in-process.
// No agents run: tests create Nodes as objects, write XdpCounterReports themselves as an agent would (server-side
// apply, field manager xdp-counter-agent, owned by the Node; docs/adr/0022), delete them as an agent does once
// it has cleaned up, and make the agent pods Ready or not as the DaemonSet controller and the kubelet would (the
// pod of the one agent DaemonSet, then its /status).
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  API_VERSION,
  CRD_PATH,
  GROUP,
  PLURAL,
  REPORT_CRD_PATH,
  REPORT_KIND,
  reportName,
  XDPCOUNTER_LABEL,
  type XdpCounterReportInput,
} from "../../api/v1alpha1/index.ts";
import { type OperatorConfig, parseOperatorConfig } from "../../operator/config/index.ts";
import { Controller, type ControllerOptions, createMetrics } from "../../operator/controller/index.ts";
import { AGENT_NODE_LABEL } from "../../operator/daemonset/index.ts";
import { type RunningOperator, startOperator } from "../../operator/run-operator.ts";
import { silentLogger } from "../../runtime/index.ts";
import {
  configMapsPath,
  daemonSetsPath,
  HttpKubeClient,
  type InformerEvent,
  type KubeObject,
  loadKubeConfig,
  nodesPath,
  reportsPath,
  xdpCountersPath,
} from "../../runtime/kube/index.ts";
import { agentPodManifest, agentPodStatus } from "../../testing/operator.ts";
import { type ControlPlane, startControlPlane } from "../local/controlplane/index.ts";
import { kubeconfigText } from "../local/controlplane/kubeconfig.ts";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";

export const NAMESPACE = "xdp-counter";
export const operatorEnv = {
  XDP_COUNTER_NAMESPACE: NAMESPACE,
  XDP_COUNTER_AGENT_IMAGE: "xdp-counter:e2e",
};
/** The operator's configuration in these tests: the agent DaemonSet's and ConfigMap's names among it. */
export const operatorConfig: OperatorConfig = parseOperatorConfig(operatorEnv);
export const AGENT_DAEMONSET = operatorConfig.agentDaemonSet;
export const AGENT_SPECS = operatorConfig.agentSpecs;

/** What an agent writes in a report, beyond what the harness fills in (node, XdpCounter, generation, time). */
export type ReportContent = Partial<
  Pick<XdpCounterReportInput, "phase" | "error" | "interfaces" | "packets" | "bytes" | "rates" | "generation">
>;

export type RunResult = { code: number; stdout: string; stderr: string };

/** A request the API server answered, from its audit log. */
export type Request = { method: string; url: string; user: string; userAgent: string; status: number };

export type Cluster = {
  controlPlane: ControlPlane;
  proxy: TcpProxy;
  dir: string;
  kubeconfig: string;
  /** The kubeconfig (text) that reaches the server through the proxy, as the admin. */
  operatorKubeconfig: string;
  admin: HttpKubeClient;
  kubectl(args: string[], input?: string): Promise<RunResult>;
  addNode(name: string, labels?: Record<string, string>): Promise<void>;
  deleteNode(name: string): Promise<void>;
  /** The Node's labels (undefined when it does not exist). */
  nodeLabels(name: string): Promise<Record<string, string> | undefined>;
  /** Whether the Node carries the operator's agent label (xdpcounter.dev/agent=true). */
  hasAgentLabel(name: string): Promise<boolean>;
  /**
   * What the agent on `node` does each report: a server-side apply of its whole XdpCounterReport for
   * `xdpCounter` (field manager xdp-counter-agent), owned by the Node, with the XdpCounter's uid and generation.
   */
  report(xdpCounter: string, node: string, content?: ReportContent): Promise<KubeObject>;
  /** What the agent on `node` does once it has detached and unpinned: deletes its report. */
  deleteReport(xdpCounter: string, node: string): Promise<void>;
  /** The reports of one XdpCounter (by its label), or all of them. */
  reports(xdpCounter?: string): Promise<KubeObject[]>;
  /**
   * What the DaemonSet controller and the kubelet do for the agent on `node`: its pod, owned by the one agent
   * DaemonSet (which must exist), with condition Ready `ready`. Created once, then updated.
   */
  agentPod(node: string, ready?: boolean): Promise<void>;
  /** The one agent DaemonSet, if it exists. */
  daemonSet(): Promise<KubeObject | undefined>;
  /** The agents' ConfigMap's data, parsed (undefined when the ConfigMap does not exist). */
  agentSpecs(): Promise<Record<string, Record<string, unknown>> | undefined>;
  getXdpCounter(name: string): Promise<KubeObject | undefined>;
  /**
   * A ServiceAccount's kubeconfig (text) with a token from the TokenRequest API, through the proxy (which
   * stop() closes first, so no open watch holds up the API server's stop).
   */
  serviceAccountKubeconfig(namespace: string, name: string): Promise<string>;
  /**
   * Replaces the CRD by an older one, without the CEL rule on spec.reportInterval (1s to 1h), so that what
   * only the operator's own validation refuses reaches the operator; the returned function puts the CRD back.
   */
  withOlderCrd(): Promise<() => Promise<void>>;
  /** Every request the API server answered so far (its audit log). */
  requests(): Request[];
  /** Requests the operator made (its User-Agent) that wrote something. */
  operatorWrites(): { method: string; url: string }[];
  /**
   * Compacts etcd's history up to now, as the API server does every 5 minutes: a watch that resumes from an
   * older resourceVersion, where the API server's watch cache does not serve it, ends with 410 Gone.
   */
  compact(): Promise<void>;
  /** Status writes (PATCH on /status) of the operator for one XdpCounter, from the audit log. */
  statusWrites(xdpCounter: string): number;
  /**
   * Removes what tests made, so the next test of the file starts from an empty cluster: XdpCounters (their
   * finalizers dropped: no operator runs), reports, the DaemonSet, the ConfigMap, pods and Nodes. Call it with
   * no operator running.
   */
  reset(): Promise<void>;
  stop(): Promise<void>;
};

const METHODS: Record<string, string> = {
  create: "POST",
  update: "PUT",
  patch: "PATCH",
  delete: "DELETE",
  deletecollection: "DELETE",
  get: "GET",
  list: "GET",
  watch: "GET",
};

export async function startCluster(options: { watchCacheOff?: string[] } = {}): Promise<Cluster> {
  const controlPlane = await startControlPlane({
    components: "apiserver",
    controllers: ["garbagecollector", "serviceaccount"],
    audit: true,
    crds: [CRD_PATH, REPORT_CRD_PATH],
    ...(options.watchCacheOff
      ? {
          extraFlags: {
            "kube-apiserver": [`--watch-cache-sizes=${options.watchCacheOff.map((r) => `${r}#0`).join(",")}`],
          },
        }
      : {}),
  });
  try {
    return await connect(controlPlane);
  } catch (err) {
    await controlPlane.stop();
    throw err;
  }
}

async function connect(controlPlane: ControlPlane): Promise<Cluster> {
  const url = new URL(controlPlane.url);
  const proxy = await startTcpProxy(Number(url.port));
  const dir = mkdtempSync(join(tmpdir(), "xdp-operator-e2e-"));
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(kubeconfig, readAdmin(controlPlane));
  const proxied = new URL(url);
  proxied.port = String(proxy.port);
  const operatorKubeconfig = readAdmin(controlPlane).replace(url.origin, proxied.origin);
  writeFileSync(join(dir, "operator-kubeconfig"), operatorKubeconfig);
  const admin = new HttpKubeClient(await loadKubeConfig(readAdmin(controlPlane)), {
    userAgent: "xdp-counter-e2e",
  });

  const run = (args: string[], input?: string) =>
    new Promise<RunResult>((resolve) => {
      const child = execFile(
        controlPlane.kubectl,
        ["--kubeconfig", kubeconfig, ...args],
        { env: { PATH: process.env.PATH ?? "", HOME: dir } },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });
  const must = async (args: string[], input?: string) => {
    const res = await run(args, input);
    if (res.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${res.stderr}`);
    return res;
  };

  await admin.create("/api/v1/namespaces", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: NAMESPACE },
  });
  // pods are admitted once their namespace's `default` ServiceAccount exists
  await must(["wait", "--for=create", "--timeout=30s", "-n", NAMESPACE, "serviceaccount/default"]);

  const requests = (): Request[] =>
    controlPlane.auditEvents().map((e) => ({
      method: METHODS[e.verb] ?? e.verb,
      url: e.requestURI,
      user: e.user.username,
      userAgent: e.userAgent ?? "",
      status: e.responseStatus?.code ?? 0,
    }));

  return {
    controlPlane,
    proxy,
    dir,
    kubeconfig,
    operatorKubeconfig,
    admin,
    kubectl: run,
    async addNode(name, labels = {}) {
      // the API server's TaintNodesByCondition admission taints a new Node not-ready; its kubelet then
      // reports Ready and the node lifecycle controller lifts the taint: both played here, as a node joins
      const node = await admin.create(nodesPath(), {
        apiVersion: "v1",
        kind: "Node",
        metadata: { name, labels },
      });
      const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      const ready = {
        type: "Ready",
        status: "True",
        reason: "KubeletReady",
        message: "kubelet is posting ready status",
      };
      await admin.patch(
        `${nodesPath()}/${name}/status`,
        { status: { conditions: [{ ...ready, lastHeartbeatTime: now, lastTransitionTime: now }] } },
        "merge",
      );
      const taints = ((node.spec as { taints?: { key: string }[] } | undefined)?.taints ?? []).filter(
        (taint) => taint.key !== "node.kubernetes.io/not-ready",
      );
      await admin.patch(
        `${nodesPath()}/${name}`,
        { spec: { taints: taints.length > 0 ? taints : null } },
        "merge",
      );
    },
    async deleteNode(name) {
      await must(["delete", "node", name]);
    },
    async nodeLabels(name) {
      return (await admin.get(nodesPath(name)))?.metadata.labels ?? undefined;
    },
    async hasAgentLabel(name) {
      return (await admin.get(nodesPath(name)))?.metadata.labels?.[AGENT_NODE_LABEL] === "true";
    },
    async report(xdpCounter, node, content = {}) {
      const xdpc = await admin.get(xdpCountersPath(xdpCounter));
      if (!xdpc?.metadata.uid) throw new Error(`no XdpCounter ${xdpCounter}`);
      const owner = await admin.get(nodesPath(node));
      if (!owner?.metadata.uid) throw new Error(`no Node ${node}`);
      // as agent/cluster/report.ts reportObject makes it
      const report = {
        apiVersion: API_VERSION,
        kind: REPORT_KIND,
        metadata: {
          name: reportName(xdpCounter, node),
          labels: { [XDPCOUNTER_LABEL]: xdpCounter },
          ownerReferences: [{ apiVersion: "v1", kind: "Node", name: node, uid: owner.metadata.uid }],
        },
        nodeName: node,
        xdpCounter: { name: xdpCounter, uid: xdpc.metadata.uid },
        generation: xdpc.metadata.generation ?? 1,
        phase: "Counting",
        reportedAt: new Date().toISOString(),
        interfaces: [],
        packets: {},
        bytes: {},
        ...content,
      };
      return admin.patch(reportsPath(report.metadata.name), report, "apply", {
        fieldManager: "xdp-counter-agent",
        force: true,
      });
    },
    async deleteReport(xdpCounter, node) {
      await admin.delete(reportsPath(reportName(xdpCounter, node)));
    },
    async reports(xdpCounter) {
      const query = xdpCounter ? { labelSelector: `${XDPCOUNTER_LABEL}=${xdpCounter}` } : {};
      return (await admin.list(reportsPath(), query)).items;
    },
    async agentPod(node, ready = true) {
      const ds = await admin.get(daemonSetsPath(NAMESPACE, AGENT_DAEMONSET));
      if (!ds) throw new Error("no agent DaemonSet yet");
      const pods = `/api/v1/namespaces/${NAMESPACE}/pods`;
      const name = `${ds.metadata.name}-${node}`;
      if (!(await admin.get(`${pods}/${name}`))) {
        const owner = { name: ds.metadata.name, uid: ds.metadata.uid ?? "" };
        await admin.create(pods, agentPodManifest(owner, node, operatorEnv.XDP_COUNTER_AGENT_IMAGE));
      }
      await admin.patch(`${pods}/${name}/status`, agentPodStatus(ready), "merge");
    },
    daemonSet: () => admin.get(daemonSetsPath(NAMESPACE, AGENT_DAEMONSET)),
    async agentSpecs() {
      const cm = await admin.get(configMapsPath(NAMESPACE, AGENT_SPECS));
      if (!cm) return undefined;
      const data = (cm as { data?: Record<string, string> }).data ?? {};
      return Object.fromEntries(
        Object.entries(data).map(([k, v]) => [k, JSON.parse(v) as Record<string, unknown>]),
      );
    },
    getXdpCounter: (name) => admin.get(xdpCountersPath(name)),
    async serviceAccountKubeconfig(namespace, name) {
      const res = await controlPlane.client.call(
        "POST",
        `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
        {
          body: {
            apiVersion: "authentication.k8s.io/v1",
            kind: "TokenRequest",
            spec: { expirationSeconds: 3600 },
          },
        },
      );
      const token = (res.body as { status?: { token?: string } }).status?.token;
      if (res.status !== 201 || !token) throw new Error(`TokenRequest for ${namespace}/${name}: ${res.text}`);
      return kubeconfigText(proxied.origin, controlPlane.caPem, { token }, `${namespace}-${name}`);
    },
    async withOlderCrd() {
      const rule = "/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/reportInterval";
      const patch = JSON.stringify([{ op: "remove", path: `${rule}/x-kubernetes-validations` }]);
      await must(["patch", "crd", `${PLURAL}.${GROUP}`, "--type=json", "-p", patch]);
      return async () => {
        await must(["apply", "-f", CRD_PATH]);
      };
    },
    requests,
    operatorWrites: () =>
      requests()
        .filter((r) => r.userAgent.startsWith("xdp-counter-operator") && r.method !== "GET")
        .map((r) => ({ method: r.method, url: r.url })),
    statusWrites: (xdpCounter) =>
      requests().filter(
        (r) =>
          r.userAgent.startsWith("xdp-counter-operator") &&
          r.method === "PATCH" &&
          r.url.split("?")[0] === xdpCountersPath(xdpCounter, "status"),
      ).length,
    async compact() {
      // the current revision of etcd: a list's resourceVersion, read from etcd itself (no resourceVersion)
      const revision = (await admin.list(nodesPath())).resourceVersion;
      const res = await fetch(`${controlPlane.etcdUrl}/v3/kv/compaction`, {
        method: "POST",
        body: JSON.stringify({ revision, physical: true }),
      });
      if (!res.ok) throw new Error(`etcd compaction at ${revision}: ${res.status} ${await res.text()}`);
    },
    async reset() {
      for (const xdpc of (await admin.list(xdpCountersPath())).items) {
        const path = xdpCountersPath(xdpc.metadata.name);
        await admin.patch(path, { metadata: { finalizers: null } }, "merge");
        await must(["delete", "xdpc", xdpc.metadata.name, "--ignore-not-found"]);
      }
      await must(["delete", "xdpcounterreports", "--all", "--wait=false"]);
      await must(["delete", "daemonsets", "--all", "-n", NAMESPACE, "--wait=false"]);
      await must(["delete", "configmaps", AGENT_SPECS, "-n", NAMESPACE, "--ignore-not-found"]);
      // no kubelet finishes a graceful deletion here
      await must(["delete", "pods", "--all", "-n", NAMESPACE, "--grace-period=0", "--force"]);
      await must(["delete", "nodes", "--all"]);
    },
    async stop() {
      await proxy.close();
      await controlPlane.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The admin's kubeconfig: the CA and the client certificate embedded. */
function readAdmin(controlPlane: ControlPlane): string {
  return readFileSync(controlPlane.kubeconfig, "utf8");
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
  const config = operatorConfig;
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

/** A port free on 127.0.0.1 now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The whole operator as `xdp-counter operator` starts it (startOperator: configuration from `env`, the owner
 * Deployment looked up, the controller, the HTTP server), in-process, through the proxy, without leader
 * election unless `env` asks for it, as the admin unless given another kubeconfig (text); its JSON log lines
 * are collected in `lines`.
 */
export async function startWholeOperator(
  cluster: Cluster,
  env: Record<string, string> = {},
  kubeconfig = cluster.operatorKubeconfig,
): Promise<{ operator: RunningOperator; lines: string[] }> {
  const lines: string[] = [];
  const operator = await startOperator({
    env: {
      ...operatorEnv,
      XDP_COUNTER_LEADER_ELECT: "false",
      XDP_COUNTER_PORT: String(await freePort()),
      ...env,
    },
    kubeconfig,
    host: "127.0.0.1",
    write: (line) => lines.push(line),
    controller: {
      informerBackoff: { baseMs: 50, maxMs: 500, jitter: 0.2 },
      queueBackoff: { baseMs: 20, maxMs: 1_000, jitter: 0.2 },
    },
  });
  return { operator, lines };
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

/**
 * An XdpCounter as `kubectl apply -f -` takes it. Its reportInterval is 10 s unless `spec` says otherwise: the
 * tests wait seconds, not the default minute, for the status writes it spaces.
 */
export function xdpCounterYaml(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: "xdpcounter.dev/v1alpha1",
    kind: "XdpCounter",
    metadata: { name },
    spec: { reportInterval: "10s", ...spec },
  });
}

/** kubectl apply of an XdpCounter, tried again until accepted (a CRD just changed takes a moment to apply). */
export async function applyOnceAccepted(
  cluster: Cluster,
  name: string,
  spec: Record<string, unknown>,
): Promise<void> {
  let last = "";
  await eventually(async () => {
    const res = await cluster.kubectl(["apply", "-f", "-"], xdpCounterYaml(name, spec));
    last = res.stderr;
    return res.code === 0;
  }, `kubectl apply of ${name} accepted`).catch((err: Error) => {
    throw new Error(`${err.message}: ${last}`);
  });
}
