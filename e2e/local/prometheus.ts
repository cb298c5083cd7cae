// A real Prometheus (e2e/prometheus's build) scraping the local cluster, started on request: it runs on the
// host, which routes to every node and pod, and discovers its targets from the real API server with
// `kubernetes_sd_configs`, as a ServiceAccount of its own with the RBAC a real Prometheus is given
// (kube-prometheus' prometheus-k8s role: read nodes, services, endpoints, endpoint slices and pods). Its scrape
// jobs are made from a ServiceMonitor (the chart's, rendered) the way the Prometheus Operator makes them: one job
// per endpoint, keeping the endpoints of the Services the selector matches, in the namespaces it names, whose
// port has the endpoint's name; `job` is the Service's name. Alert rules, when given, are evaluated too.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { prometheusBinary } from "../prometheus/binaries.ts";
import { freePorts } from "./controlplane/ports.ts";
import type { Cluster } from "./node/index.ts";
import { Daemon } from "./process.ts";
import { until } from "./wait.ts";

/** The parts of a monitoring.coreos.com/v1 ServiceMonitor this translation reads. */
export interface ServiceMonitor {
  metadata: { name: string; namespace: string };
  spec: {
    selector: { matchLabels?: Record<string, string> };
    namespaceSelector?: { matchNames?: string[] };
    endpoints: {
      port: string;
      path?: string;
      interval?: string;
      scrapeTimeout?: string;
      honorLabels?: boolean;
    }[];
  };
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: "pending" | "firing";
}

export interface PromTarget {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: "up" | "down" | "unknown";
  lastError: string;
}

export interface Prometheus {
  url: string;
  /** An instant query (now, or at `time`, seconds since the epoch); throws with Prometheus' error. */
  query(expr: string, time?: number): Promise<PromSample[]>;
  alerts(): Promise<PromAlert[]>;
  targets(): Promise<PromTarget[]>;
  stop(): Promise<void>;
}

const PROMETHEUS_NAMESPACE = "monitoring";
const PROMETHEUS_SA = "prometheus";

/** What a Prometheus needs of the API to discover targets (kube-prometheus' prometheus-k8s, cluster-wide). */
function rbac(): string {
  const meta = (kind: string, extra: Record<string, unknown> = {}) => ({
    apiVersion: kind === "ServiceAccount" ? "v1" : "rbac.authorization.k8s.io/v1",
    kind,
    metadata: { name: "xdp-counter-test-prometheus", ...extra },
  });
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: PROMETHEUS_NAMESPACE } },
    { ...meta("ServiceAccount"), metadata: { name: PROMETHEUS_SA, namespace: PROMETHEUS_NAMESPACE } },
    {
      ...meta("ClusterRole"),
      rules: [
        {
          apiGroups: [""],
          resources: ["nodes", "nodes/metrics", "services", "endpoints", "pods"],
          verbs: ["get", "list", "watch"],
        },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
        { nonResourceURLs: ["/metrics"], verbs: ["get"] },
      ],
    },
    {
      ...meta("ClusterRoleBinding"),
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: "xdp-counter-test-prometheus",
      },
      subjects: [{ kind: "ServiceAccount", name: PROMETHEUS_SA, namespace: PROMETHEUS_NAMESPACE }],
    },
  ]
    .map((doc) => stringify(doc))
    .join("---\n");
}

/** A label name as Prometheus' discovery writes it: anything but [a-zA-Z0-9_] becomes `_`. */
const sanitize = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, "_");

/** The scrape jobs the Prometheus Operator makes of a ServiceMonitor (its endpoint-slice role). */
export function scrapeConfigs(
  sm: ServiceMonitor,
  access: { apiServer: string; caFile: string; tokenFile: string },
): Record<string, unknown>[] {
  const namespaces = sm.spec.namespaceSelector?.matchNames ?? [sm.metadata.namespace];
  return sm.spec.endpoints.map((endpoint, i) => ({
    job_name: `serviceMonitor/${sm.metadata.namespace}/${sm.metadata.name}/${i}`,
    honor_labels: endpoint.honorLabels ?? false,
    metrics_path: endpoint.path ?? "/metrics",
    ...(endpoint.interval ? { scrape_interval: endpoint.interval } : {}),
    ...(endpoint.scrapeTimeout ? { scrape_timeout: endpoint.scrapeTimeout } : {}),
    kubernetes_sd_configs: [
      {
        role: "endpointslice",
        api_server: access.apiServer,
        tls_config: { ca_file: access.caFile },
        authorization: { credentials_file: access.tokenFile },
        namespaces: { names: namespaces },
      },
    ],
    relabel_configs: [
      ...Object.entries(sm.spec.selector.matchLabels ?? {}).map(([key, value]) => ({
        action: "keep",
        source_labels: [
          `__meta_kubernetes_service_label_${sanitize(key)}`,
          `__meta_kubernetes_service_labelpresent_${sanitize(key)}`,
        ],
        regex: `(${value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")});true`,
      })),
      { action: "keep", source_labels: ["__meta_kubernetes_endpointslice_port_name"], regex: endpoint.port },
      { source_labels: ["__meta_kubernetes_namespace"], target_label: "namespace" },
      { source_labels: ["__meta_kubernetes_service_name"], target_label: "service" },
      { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
      { source_labels: ["__meta_kubernetes_pod_container_name"], target_label: "container" },
      { source_labels: ["__meta_kubernetes_service_name"], target_label: "job" },
      { target_label: "endpoint", replacement: endpoint.port },
    ],
  }));
}

async function api<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== "success") throw new Error(`${url}: ${body.error ?? res.status}`);
  return body.data;
}

/**
 * Starts Prometheus on a free loopback port with the ServiceMonitor's jobs (and `rules`: Prometheus rule
 * groups), and waits until it is ready. The ServiceAccount, its token and its RBAC are created first.
 */
export async function startPrometheus(
  c: Cluster,
  opts: {
    serviceMonitor: ServiceMonitor;
    rules?: unknown[];
    scrapeInterval?: string;
    evaluationInterval?: string;
  },
): Promise<Prometheus> {
  const applied = await c.kubectl(["apply", "-f", "-"], { input: rbac() });
  if (applied.code !== 0) throw new Error(`prometheus RBAC: ${applied.stderr}`);
  const token = await c.kubectl([
    "create",
    "token",
    PROMETHEUS_SA,
    "-n",
    PROMETHEUS_NAMESPACE,
    "--duration=2h",
  ]);
  if (token.code !== 0) throw new Error(`prometheus token: ${token.stderr}`);
  const dir = join(c.dir, "prometheus");
  mkdirSync(join(dir, "data"), { recursive: true });
  const tokenFile = join(dir, "token");
  const caFile = join(dir, "ca.crt");
  writeFileSync(tokenFile, token.stdout.trim(), { mode: 0o600 });
  writeFileSync(caFile, c.controlPlane.caPem);
  const config: Record<string, unknown> = {
    global: {
      scrape_interval: opts.scrapeInterval ?? "5s",
      evaluation_interval: opts.evaluationInterval ?? "5s",
    },
    scrape_configs: scrapeConfigs(opts.serviceMonitor, { apiServer: c.controlPlane.url, caFile, tokenFile }),
  };
  if (opts.rules) {
    writeFileSync(join(dir, "rules.yaml"), stringify({ groups: opts.rules }));
    config.rule_files = [join(dir, "rules.yaml")];
  }
  writeFileSync(join(dir, "prometheus.yaml"), stringify(config));
  const [port] = await freePorts(1);
  const url = `http://127.0.0.1:${port}`;
  const daemon = new Daemon(
    "prometheus",
    [
      prometheusBinary("prometheus"),
      `--config.file=${join(dir, "prometheus.yaml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { dir, env: process.env },
  );
  try {
    await until(
      "Prometheus ready",
      async () => {
        if (daemon.exit)
          throw new Error(`prometheus exited (${JSON.stringify(daemon.exit)}); see ${daemon.logPath}`);
        return (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok;
      },
      30_000,
      200,
    );
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  return {
    url,
    query: async (expr, time) =>
      (
        await api<{ result: PromSample[] }>(
          `${url}/api/v1/query?query=${encodeURIComponent(expr)}${time === undefined ? "" : `&time=${time}`}`,
        )
      ).result,
    alerts: async () => (await api<{ alerts: PromAlert[] }>(`${url}/api/v1/alerts`)).alerts,
    targets: async () =>
      (await api<{ activeTargets: PromTarget[] }>(`${url}/api/v1/targets?state=active`)).activeTargets,
    stop: () => daemon.stop(),
  };
}
