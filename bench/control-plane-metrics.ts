// What the control plane says of itself: etcd's and kube-apiserver's /metrics (Prometheus text), read
// before and after a run. etcd's client URL serves /metrics over plain HTTP on loopback; the API server's
// needs a user allowed to GET /metrics (the admin).
import type { ControlPlane } from "../e2e/local/controlplane/index.ts";

/** The etcd series read: the database's size on disk, its live part, and the puts it applied. */
export const ETCD_SERIES = [
  "etcd_mvcc_db_total_size_in_bytes",
  "etcd_mvcc_db_total_size_in_use_in_bytes",
  "etcd_mvcc_put_total",
] as const;
export type EtcdSeries = (typeof ETCD_SERIES)[number];

export interface ControlPlaneMetrics {
  etcd: Record<EtcdSeries, number>;
  /** apiserver_request_total summed by "<verb> <resource>[/<subresource>] <code>" */
  requests: Record<string, number>;
}

export interface MetricsDelta {
  /** etcd's series before and after, and the difference */
  etcdBefore: Record<EtcdSeries, number>;
  etcdAfter: Record<EtcdSeries, number>;
  etcd: Record<EtcdSeries, number>;
  /** requests answered in between, by "<verb> <resource>[/<subresource>] <code>" (zero deltas left out) */
  requests: Record<string, number>;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments and malformed lines skipped). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] as string] = l[2] as string;
    out.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

export async function readMetrics(cp: ControlPlane): Promise<ControlPlaneMetrics> {
  const etcdRes = await fetch(`${cp.etcdUrl}/metrics`);
  if (!etcdRes.ok) throw new Error(`GET ${cp.etcdUrl}/metrics: ${etcdRes.status}`);
  const etcdSamples = parseMetrics(await etcdRes.text());
  const etcd = Object.fromEntries(
    ETCD_SERIES.map((s) => [s, etcdSamples.find((x) => x.name === s)?.value ?? Number.NaN]),
  ) as Record<EtcdSeries, number>;
  const api = await cp.client.call("GET", "/metrics");
  if (api.status !== 200) throw new Error(`GET /metrics: ${api.status} ${api.text.slice(0, 200)}`);
  const requests: Record<string, number> = {};
  for (const s of parseMetrics(api.text)) {
    if (s.name !== "apiserver_request_total") continue;
    const { verb, resource, subresource, code } = s.labels;
    const key = `${verb} ${resource || "-"}${subresource ? `/${subresource}` : ""} ${code}`;
    requests[key] = (requests[key] ?? 0) + s.value;
  }
  return { etcd, requests };
}

export function metricsDelta(before: ControlPlaneMetrics, after: ControlPlaneMetrics): MetricsDelta {
  const etcd = Object.fromEntries(ETCD_SERIES.map((s) => [s, after.etcd[s] - before.etcd[s]])) as Record<
    EtcdSeries,
    number
  >;
  const requests: Record<string, number> = {};
  for (const [k, v] of Object.entries(after.requests)) {
    const d = v - (before.requests[k] ?? 0);
    if (d > 0) requests[k] = d;
  }
  return { etcdBefore: before.etcd, etcdAfter: after.etcd, etcd, requests };
}
