// What the control plane says of itself: etcd's and kube-apiserver's /metrics (Prometheus text), read
// before and after a run. etcd's client URL serves /metrics over plain HTTP on loopback; the API server's
// needs a user allowed to GET /metrics (the admin).
import type { ControlPlane } from "../e2e/local/controlplane/index.ts";

/**
 * The etcd series read: the database's size on disk, its live part, the puts it applied and the bytes of their
 * keys and values (what the history holds until the API server compacts it).
 */
export const ETCD_SERIES = [
  "etcd_mvcc_db_total_size_in_bytes",
  "etcd_mvcc_db_total_size_in_use_in_bytes",
  "etcd_mvcc_put_total",
  "etcd_debugging_mvcc_total_put_size_in_bytes",
] as const;
export type EtcdSeries = (typeof ETCD_SERIES)[number];

/** A histogram's sum and count. */
export interface SumCount {
  sum: number;
  count: number;
}

export interface ControlPlaneMetrics {
  etcd: Record<EtcdSeries, number>;
  /** apiserver_request_total summed by "<verb> <resource>[/<subresource>] <code>" */
  requests: Record<string, number>;
  /** apiserver_request_body_size_bytes by "<verb> <resource>": the bytes clients sent */
  requestBytes: Record<string, SumCount>;
  /** apiserver_watch_events_sizes by resource: the watch events the API server sent, and their bytes */
  watchEvents: Record<string, SumCount>;
}

export interface MetricsDelta {
  /** etcd's series before and after, and the difference */
  etcdBefore: Record<EtcdSeries, number>;
  etcdAfter: Record<EtcdSeries, number>;
  etcd: Record<EtcdSeries, number>;
  /** requests answered in between, by "<verb> <resource>[/<subresource>] <code>" (zero deltas left out) */
  requests: Record<string, number>;
  /** request body bytes in between, by "<verb> <resource>" */
  requestBytes: Record<string, SumCount>;
  /** watch events sent in between, by resource */
  watchEvents: Record<string, SumCount>;
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

/**
 * `read`, again after a refused connection or an error status: an API server saturated by thousands of
 * nodes drops a connection now and then (its TLS handshake times out), and one lost scrape would end the run.
 */
export async function retried<T>(what: string, read: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await read();
    } catch (err) {
      if (i >= attempts) throw new Error(`${what}, ${attempts} times: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 1000 * i));
    }
  }
}

export async function readMetrics(cp: ControlPlane): Promise<ControlPlaneMetrics> {
  const etcdText = await retried(`GET ${cp.etcdUrl}/metrics`, async () => {
    const res = await fetch(`${cp.etcdUrl}/metrics`);
    if (!res.ok) throw new Error(`status ${res.status}`);
    return res.text();
  });
  const etcdSamples = parseMetrics(etcdText);
  const etcd = Object.fromEntries(
    ETCD_SERIES.map((s) => [s, etcdSamples.find((x) => x.name === s)?.value ?? Number.NaN]),
  ) as Record<EtcdSeries, number>;
  const api = await retried("GET /metrics", async () => {
    const res = await cp.client.call("GET", "/metrics");
    if (res.status !== 200) throw new Error(`status ${res.status} ${res.text.slice(0, 200)}`);
    return res;
  });
  const requests: Record<string, number> = {};
  const requestBytes: Record<string, SumCount> = {};
  const watchEvents: Record<string, SumCount> = {};
  const add = (into: Record<string, SumCount>, key: string, part: "sum" | "count", value: number) => {
    const entry = into[key] ?? { sum: 0, count: 0 };
    entry[part] += value;
    into[key] = entry;
  };
  for (const s of parseMetrics(api.text)) {
    const { verb, resource, subresource, code } = s.labels;
    if (s.name === "apiserver_request_total") {
      const key = `${verb} ${resource || "-"}${subresource ? `/${subresource}` : ""} ${code}`;
      requests[key] = (requests[key] ?? 0) + s.value;
    } else if (s.name === "apiserver_request_body_size_bytes_sum")
      add(requestBytes, `${verb} ${resource || "-"}`, "sum", s.value);
    else if (s.name === "apiserver_request_body_size_bytes_count")
      add(requestBytes, `${verb} ${resource || "-"}`, "count", s.value);
    else if (s.name === "apiserver_watch_events_sizes_sum") add(watchEvents, resource || "-", "sum", s.value);
    else if (s.name === "apiserver_watch_events_sizes_count")
      add(watchEvents, resource || "-", "count", s.value);
  }
  return { etcd, requests, requestBytes, watchEvents };
}

function deltaSumCount(
  before: Record<string, SumCount>,
  after: Record<string, SumCount>,
): Record<string, SumCount> {
  const out: Record<string, SumCount> = {};
  for (const [k, v] of Object.entries(after)) {
    const count = v.count - (before[k]?.count ?? 0);
    if (count > 0) out[k] = { sum: v.sum - (before[k]?.sum ?? 0), count };
  }
  return out;
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
  return {
    etcdBefore: before.etcd,
    etcdAfter: after.etcd,
    etcd,
    requests,
    requestBytes: deltaSumCount(before.requestBytes, after.requestBytes),
    watchEvents: deltaSumCount(before.watchEvents, after.watchEvents),
  };
}
