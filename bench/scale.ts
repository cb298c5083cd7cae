// Part "scale": the real control plane with many nodes, simulated by kwok (docs/adr/0021, 0022, 0027). A fresh
// control plane (e2e/local/controlplane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, all
// 1.37) and kwok (e2e/kwok) playing the kubelets of N fake Nodes: it keeps them Ready, renews their Leases and
// sets the pods the real DaemonSet controller and scheduler put on them Running and Ready. The real operator runs
// as a child process: it labels the nodes, writes the agents' ConfigMap and the agent DaemonSet, and sums the
// reports into each XdpCounter's status. On each node the agent's own code (agent/cluster/node-agent.ts:
// NodeAgent, in this one process, one KubeClient as each agent has one) runs with synthetic counters instead
// of BPF: it watches the agents' ConfigMap and its Node and writes one XdpCounterReport per XdpCounter, under
// the node's budget of report writes.
// Measured: API requests per second by verb and resource (the product's apart from kwok's simulated kubelets),
// request bytes per report write, etcd's database size and the bytes put per compaction window, the CPU and
// RSS of every component, the operator's status writes (at most one per interval, none idle), the size of one
// report and of the XdpCounter, the time from a node's report to totals that include it, exact totals, and
// the watch events the agents receive (none while no spec changes).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parse as parseYaml } from "yaml";
import { type Counters, zeroCounters } from "../agent/bpf/index.ts";
import { INTERVAL_JITTER } from "../agent/cluster/backoff.ts";
import type { CounterSource } from "../agent/cluster/counter-unit.ts";
import { NodeAgent } from "../agent/cluster/node-agent.ts";
import type { InterfaceState } from "../agent/cluster/reconciler.ts";
import {
  type AgentConfig,
  API_VERSION,
  CRD_PATH,
  GROUP,
  PLURAL,
  REPORT_CRD_PATH,
  REPORT_PLURAL,
} from "../api/v1alpha1/index.ts";
import { fakeNodeManifest, type Kwok, startKwok } from "../e2e/kwok/index.ts";
import { type ControlPlane, startControlPlane } from "../e2e/local/controlplane/index.ts";
import { AGENT_NODE_LABEL } from "../operator/daemonset/index.ts";
import { silentLogger } from "../runtime/index.ts";
import {
  HttpKubeClient,
  type KubeClient,
  type KubeObject,
  loadKubeConfig,
  type PatchType,
  type Query,
  reportsPath,
  type WatchEvent,
} from "../runtime/kube/index.ts";
import {
  type MetricsDelta,
  metricsDelta,
  parseMetrics,
  readMetrics,
  retried,
} from "./control-plane-metrics.ts";
import { type Machine, machine } from "./machine.ts";
import {
  createMemoryCgroup,
  type MemoryCgroup,
  memoryQuantityBytes,
  removeStaleMemoryCgroups,
} from "./memory-cgroup.ts";
import { round, roundSummary, type Summary, summarize } from "./stats.ts";

const XDPC = `/apis/${API_VERSION}/${PLURAL}`;
const REPORTS = `/apis/${API_VERSION}/${REPORT_PLURAL}`;
const NAMESPACE = "xdp-counter";
/** The agents start at most 20 a second (see where they start). */
const AGENT_START_GAP_MS = 50;
/** The operator's defaults (operator/config/settings.ts): the agent DaemonSet and the agents' ConfigMap. */
const DAEMONSET = "xdp-counter-agent";
const SPECS = "xdp-counter-agent-specs";
const AGENT_SERVICE_ACCOUNT = "xdp-counter-agent";
/** etcd's default request limit (--max-request-bytes): no larger object can be stored. */
export const ETCD_LIMIT_BYTES = 1_572_864;

/**
 * A node's counters for one XdpCounter without BPF: one interface whose counters start where a node counting
 * for a few weeks at some 10⁵ packets/s would be (12–15 digits), and grow at `pps` while changing. Frozen, they
 * stay put.
 */
export class SyntheticCounters implements CounterSource {
  readonly ready = true;
  readonly nodeProblem = undefined;
  readonly #base: bigint;
  readonly #pps: number;
  readonly #iface: string;
  #since = Date.now();
  #frozenAt: bigint | undefined;

  constructor(seed: number, pps: number, iface = "eth0") {
    this.#base = 100_000_000_000n + BigInt(seed) * 7_919_113n;
    this.#pps = pps;
    this.#iface = iface;
  }

  packets(): bigint {
    return this.#frozenAt ?? this.#base + BigInt(Math.floor(((Date.now() - this.#since) * this.#pps) / 1000));
  }
  freeze(): void {
    this.#frozenAt = this.packets();
  }
  reconcile(): void {}
  setNodeProblem(): void {}
  setConfig(): void {}
  cleanAll(): string[] {
    return [];
  }
  close(): void {}
  states(): InterfaceState[] {
    const counters: Counters = zeroCounters();
    const p = this.packets();
    counters.pass = { packets: p, bytes: p * 742n };
    counters.drop = { packets: p / 1000n, bytes: (p / 1000n) * 60n };
    return [{ name: this.#iface, attached: true, mode: "native", counters, problem: undefined }];
  }
}

/** A realistic cloud node name (long: it is in every report's name, labels and owner reference). */
export const nodeName = (i: number): string =>
  `ip-10-${(i >> 16) & 255}-${(i >> 8) & 255}-${i & 255}.eu-west-1.compute.internal`;

/** The benchmark's XdpCounters: `scale-0`, `scale-1`, …; each on an interface of its own. */
export const xdpCounterName = (k: number): string => `scale-${k}`;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** The operator's V8 heap in use, from its own /metrics (prom-client's default metrics). */
async function operatorHeapUsed(port: number): Promise<number | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return undefined;
    return parseMetrics(await res.text()).find((s) => s.name === "nodejs_heap_size_used_bytes")?.value;
  } catch {
    return undefined;
  }
}

function rssKiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds a process has used (utime + stime), from /proc. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** Who uses the CPU in a run (2 vCPUs for all of them, and other workloads besides). */
/** Who uses the CPU and memory in a run (2 vCPUs for all of them, and other workloads besides). */
export const CPU_USERS = [
  "kube-apiserver",
  "etcd",
  "kube-controller-manager",
  "kube-scheduler",
  "kwok",
  "operator",
  "agents",
] as const;
export type CpuUser = (typeof CPU_USERS)[number];

/** etcd's default quota (--quota-backend-bytes): past it, etcd refuses every write of the cluster. */
export const ETCD_QUOTA_BYTES = 2 * 1024 ** 3;
/** The API server's default --etcd-compaction-interval: etcd keeps every revision this long. */
export const COMPACTION_WINDOW_MS = 300_000;
/** The kubelet's Lease renewals per node per second (every 10 s: a quarter of the 40 s lease). */
export const KUBELET_LEASE_WRITES_PER_NODE_PER_SECOND = 0.1;

const nearestRank = (values: number[], q: number): number | undefined => {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * q) - 1))];
};

/**
 * The time between two writes of one report: its interval, or longer when the node's budget of report writes
 * (docs/adr/0027) is shared by more reports than it allows at that interval.
 */
export function reportPeriodMs(
  intervalMs: number,
  xdpCounters: number,
  reportWritesPerMinute: number,
): number {
  return Math.max(intervalMs, Math.ceil((xdpCounters * 60_000) / reportWritesPerMinute));
}

/** The write requests of a window, per second, grouped by whose load they are. */
export interface ApiLoad {
  /** every request, per second, by "<verb> <resource>[/<subresource>]" (every answer code together) */
  requestsPerSecond: Record<string, number>;
  /** writes (not GET, LIST, WATCH) per second: the product's reports and status, and the rest by resource */
  writesPerSecond: {
    reports: number;
    xdpCounters: number;
    /** the operator's other writes (ConfigMap, DaemonSet, node labels, Events), from the audit log */
    operatorOther: number;
    /** what the simulated kubelets write: node Leases, Node status, pod status */
    leases: number;
    nodeStatus: number;
    podStatus: number;
    other: number;
  };
  /** the product's writes (reports, XdpCounter status, the operator's others) over the node Leases' renewals */
  productShareOfLeases: number;
  /** the same share against a kubelet's renewals (one per node every 10 s), as on a real cluster */
  productShareOfKubeletLeases: number;
  /** the API server's apiserver_request_body_size_bytes for report writes: bytes per write */
  reportRequestBytes: number | undefined;
  /** watch events the API server sent per second, by resource */
  watchEventsPerSecond: Record<string, number>;
}

export interface ScaleRun {
  nodes: number;
  xdpCounters: number;
  intervalMs: number;
  reportWritesPerMinute: number;
  /** reportPeriodMs: how often one report can be written under the node's budget */
  periodMs: number;
  changingSeconds: number;
  quietSeconds: number;
  setup: {
    controlPlaneStartMs: number;
    /** from the first Node created to every Node Ready (kwok) */
    nodesReadySeconds: number;
    /** from the operator's DaemonSet to every agent pod Ready (DaemonSet controller, scheduler, kwok) */
    agentPodsReadySeconds: number;
    /** the agents start evenly over this long: one period, or 20 a second when that is longer */
    agentsStartSeconds?: number;
    kwokHeartbeatSeconds: number;
    kwokLeaseDurationSeconds: number;
    nodeMonitorGracePeriodSeconds: number;
  };
  agents: {
    /** report writes (server-side applies answered 2xx) per second in the changing window */
    writesPerSecond: number;
    /** per node and XdpCounter per period (the bound: about 1) */
    writesPerReportPerPeriod: number;
    requestBytesPerSecond: number;
    /** JSON bytes of one apply's body */
    requestBytes: Summary;
    /** the shortest time between two writes of one report, in periods */
    minGapPeriods: number;
    failedWrites: number;
    /** why writes failed (error messages, digits replaced by N), and how many times */
    failureReasons: Record<string, number>;
    /** time from sending an apply to its answer, ms */
    answerMs: Summary;
    /** quiet window (counters frozen, after the last changes and the operator's last status write) */
    quietWrites: number;
    /** of them, writes whose counters changed */
    quietCountersChanged: number;
    /** applies the API server refused in the quiet window (retried with back-off) */
    quietFailedWrites: number;
    /** watch events (ADDED, MODIFIED, DELETED) the agents' informers received, by watched kind, whole run */
    watchEvents: { configMap: number; node: number };
    /** in the changing and quiet windows (no spec changes): ConfigMap events are the product's, Node events
     * the simulated kubelets' status heartbeats */
    steadyWatchEvents: { configMap: number; node: number };
    /** watches opened (each informer's first and every resumption) and lists, over the run */
    watchesOpened: number;
    lists: number;
  };
  operator: {
    /** status writes (PATCH xdpcounters/status by the operator, the audit log) in the changing window */
    statusWritesPerSecond: number;
    /** per XdpCounter per interval (the bound: 1) */
    statusWritesPerXdpCounterPerInterval: number;
    /** the shortest time between two status writes of one XdpCounter, in intervals */
    minStatusGapIntervals: number;
    quietStatusWrites: number;
    /** the operator's other writes in the run: the ConfigMap, Nodes (labels), the DaemonSet, reports, events */
    otherWrites: Record<string, number>;
    /** a node's report (its apply answered) to the first poll of the XdpCounter whose totals include it, ms */
    reportToTotalsMs: Summary | undefined;
    reportToTotalsP99Ms: number | undefined;
    /** reports with new counters whose values the totals never showed within the run */
    unresolved: number;
    pollMs: number;
  };
  objects: {
    /** one report as the API server returns it (managedFields included) */
    reportBytes: number;
    /** the XdpCounter as the API server returns it */
    xdpCounterBytes: number;
    /** its status alone */
    statusBytes: number;
    reports: number;
    /** every XdpCounter's totals equal the sum of the frozen counters */
    totalsExact: boolean;
    readyNodes: number[];
    reportingNodes: number[];
  };
  /** the changing window's requests, from the API server's /metrics */
  api: ApiLoad;
  etcd: {
    dbBytesBefore: number;
    dbBytesAfter: number;
    dbInUseBytesAfter: number;
    putsPerSecond: number;
    /** keys and values put per second (etcd_debugging_mvcc_total_put_size_in_bytes) */
    putBytesPerSecond: number;
    /** what one compaction window (5 minutes) of that history holds, and its share of the 2 GiB quota */
    putBytesPerCompactionWindow: number;
    shareOfQuotaPerCompactionWindow: number;
  };
  /** the changing window's /metrics deltas, whole */
  controlPlane: MetricsDelta & { version: string };
  /** CPU % of one core in the changing window, by process ("agents": the benchmark's own process) */
  cpuPct: Record<CpuUser, number>;
  /** RSS MiB sampled every second in the changing window, by process */
  rssMiB: Record<CpuUser, Summary | undefined>;
  /** the operator's V8 heap in use (its own nodejs_heap_size_used_bytes), MiB, sampled every 2 s in the window */
  operatorHeapUsedMiB?: Summary | undefined;
  /**
   * the memory limit the operator ran under (the chart's, in a cgroup of its own), its peak there, OOM kills;
   * absent from the runs made before it had one
   */
  operatorMemory?: { limitMiB: number; cgroupPeakMiB: number | undefined; oomKills: number };
  loadAvgAtStart: number;
  wallSeconds: number;
}

export interface ScaleResult {
  part: "scale";
  quick: boolean;
  machine: Machine;
  method: {
    plan: ScalePlan[];
    pollMs: number;
    jitter: number;
    ppsPerNode: number;
    kwok: KwokTuning;
  };
  runs: ScaleRun[];
}

/** What the benchmark reads of the API server's answers. */
type Json = {
  metadata: { uid: string; generation: number; labels?: Record<string, string> };
  status?: {
    desiredNodes?: number;
    readyNodes?: number;
    reportingNodes?: number;
    totals?: { packets?: { pass?: string } };
  };
  items?: Json[];
  data?: Record<string, string>;
  message?: string;
};

interface WriteRecord {
  t: number;
  report: string;
  bytes: number;
  countersChanged: boolean;
}

/**
 * The agents' client, counting: every report apply (body bytes, answer time, the counters it carries), and every
 * watch event the informers receive, by kind.
 */
class CountingClient implements KubeClient {
  readonly #inner: KubeClient;
  readonly writes: WriteRecord[] = [];
  readonly answerMs: number[] = [];
  readonly failures = new Map<string, number>();
  /** when each failed apply was answered */
  readonly failedAt: number[] = [];
  readonly events: { t: number; kind: "configMap" | "node"; type: string }[] = [];
  watchesOpened = 0;
  lists = 0;
  /** last pass packets written per report, and the running sum per XdpCounter */
  readonly #last = new Map<string, bigint>();
  readonly sums = new Map<string, bigint>();
  /** reports written at least twice: created, then counting (an agent's first two writes follow each other) */
  readonly countingReports = new Set<string>();
  readonly pending = new Map<string, { t: number; sum: bigint }[]>();
  /** per report: applies answered, applies failed, the last failure, when the last apply was sent */
  readonly #attempts = new Map<
    string,
    { ok: number; failed: number; lastError?: string; lastSentMs: number }
  >();

  constructor(inner: KubeClient) {
    this.#inner = inner;
  }
  get(path: string): Promise<KubeObject | undefined> {
    return this.#inner.get(path);
  }
  list(path: string, query?: Query) {
    this.lists++;
    return this.#inner.list(path, query);
  }
  watch(
    path: string,
    query: Query,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
    onOpen?: () => void,
  ): Promise<void> {
    this.watchesOpened++;
    const kind = path.includes("/configmaps") ? "configMap" : "node";
    return this.#inner.watch(
      path,
      query,
      (event) => {
        if (event.type === "ADDED" || event.type === "MODIFIED" || event.type === "DELETED")
          this.events.push({ t: Date.now(), kind, type: event.type });
        onEvent(event);
      },
      signal,
      onOpen,
    );
  }
  create(path: string, body: unknown) {
    return this.#inner.create(path, body);
  }
  replace(path: string, body: unknown) {
    return this.#inner.replace(path, body);
  }
  delete(path: string, options?: Parameters<KubeClient["delete"]>[1]) {
    return this.#inner.delete(path, options);
  }
  /** What the reports not yet written twice did: never sent, answered once, failing (and how), and since when. */
  whyNotCounting(names: readonly string[], nowMs: number): string {
    const missing = names.filter((n) => !this.countingReports.has(n));
    const never = missing.filter((n) => !this.#attempts.has(n)).length;
    const seen = missing.flatMap((n) => {
      const a = this.#attempts.get(n);
      return a ? [a] : [];
    });
    const once = seen.filter((a) => a.ok > 0);
    const idleS = once.map((a) => (nowMs - a.lastSentMs) / 1000).sort((x, y) => x - y);
    const failing = seen.filter((a) => a.failed > 0);
    const errors = new Map<string, number>();
    for (const a of failing) {
      const why = (a.lastError ?? "").replace(/\d+/g, "N").slice(0, 160);
      errors.set(why, (errors.get(why) ?? 0) + 1);
    }
    const top = [...errors].sort((x, y) => y[1] - x[1]).slice(0, 3);
    return (
      `of the ${missing.length} missing: ${never} never sent, ${once.length} answered once ` +
      `(last sent ${idleS.length > 0 ? `${round(idleS[Math.floor(idleS.length / 2)] ?? 0, 0)} s ago, median; ${round(idleS[idleS.length - 1] ?? 0, 0)} s at most` : "-"}), ` +
      `${failing.length} with failed applies${top.length > 0 ? ` (${top.map(([w, c]) => `${c}× ${w}`).join("; ")})` : ""}`
    );
  }

  async patch(path: string, body: unknown, type: PatchType, query?: Query): Promise<KubeObject> {
    if (!path.startsWith(reportsPath()) || type !== "apply")
      return this.#inner.patch(path, body, type, query);
    const report = body as {
      metadata: { name: string };
      xdpCounter: { name: string };
      packets: { pass?: string };
    };
    const bytes = Buffer.byteLength(JSON.stringify(body));
    const sent = performance.now();
    const attempt = this.#attempts.get(report.metadata.name) ?? { ok: 0, failed: 0, lastSentMs: 0 };
    attempt.lastSentMs = Date.now();
    this.#attempts.set(report.metadata.name, attempt);
    try {
      const out = await this.#inner.patch(path, body, type, query);
      attempt.ok++;
      this.answerMs.push(performance.now() - sent);
      const name = report.metadata.name;
      const xdpc = report.xdpCounter.name;
      const p = BigInt(report.packets.pass ?? 0);
      const before = this.#last.get(name);
      const countersChanged = before !== p;
      this.writes.push({ t: Date.now(), report: name, bytes, countersChanged });
      if (before !== undefined) this.countingReports.add(name);
      if (countersChanged) {
        const sum = (this.sums.get(xdpc) ?? 0n) + p - (before ?? 0n);
        this.sums.set(xdpc, sum);
        this.#last.set(name, p);
        const queue = this.pending.get(xdpc) ?? [];
        queue.push({ t: Date.now(), sum });
        this.pending.set(xdpc, queue);
      }
      return out;
    } catch (err) {
      this.failedAt.push(Date.now());
      attempt.failed++;
      attempt.lastError = String((err as Error).message).slice(0, 200);
      const why = String((err as Error).message)
        .replace(/\d+/g, "N")
        .slice(0, 400);
      this.failures.set(why, (this.failures.get(why) ?? 0) + 1);
      throw err;
    }
  }
}

export interface ScalePlan {
  nodes: number;
  /** XdpCounters, each selecting every node */
  xdpCounters: number;
  intervalMs: number;
  /** the nodes' budget of report writes (the chart's agent.reportWritesPerMinute; the product's default: 1) */
  reportWritesPerMinute: number;
  /** the changing window, at least this long and at least one report period (full runs: one compaction window) */
  changingMs: number;
  /** the quiet window, in report periods */
  quietPeriods: number;
}

/** kwok's kubelets for the run (docs: BENCHMARKS.md, "Control-plane scale"). */
export interface KwokTuning {
  heartbeatSeconds: number;
  leaseDurationSeconds: number;
  /** the controller manager's --node-monitor-grace-period: how late a Lease may be before a node is NotReady */
  nodeMonitorGracePeriodSeconds: number;
}

export const DEFAULT_KWOK_TUNING: KwokTuning = {
  // the kubelet's nodeStatusReportFrequency: an unchanged Node's status is written every 5 minutes
  heartbeatSeconds: 300,
  // a kubelet's: renewed every 10 s
  leaseDurationSeconds: 40,
  // raised from 50 s: on 2 vCPUs under a full load a renewal may be late without a node being gone
  nodeMonitorGracePeriodSeconds: 300,
};

/** The operator container's memory limit in the chart's default values: the limit it runs under here. */
export function chartOperatorMemoryLimitBytes(): number {
  const file = join(import.meta.dirname, "..", "charts", "xdp-counter", "values.yaml");
  const values = parseYaml(readFileSync(file, "utf8")) as {
    operator?: { resources?: { limits?: { memory?: string } } };
  };
  const limit = values.operator?.resources?.limits?.memory;
  if (!limit) throw new Error(`${file} sets no operator.resources.limits.memory`);
  return memoryQuantityBytes(limit);
}

const isRead = (verb: string): boolean => verb === "GET" || verb === "LIST" || verb === "WATCH";

/** The write requests of a window by whose load they are, from "<verb> <resource>[/<sub>] <code>" counts. */
export function apiLoad(
  delta: MetricsDelta,
  seconds: number,
  operatorOtherWrites: number,
  nodes: number,
): ApiLoad {
  const requestsPerSecond: Record<string, number> = {};
  const w = {
    reports: 0,
    xdpCounters: 0,
    operatorOther: 0,
    leases: 0,
    nodeStatus: 0,
    podStatus: 0,
    other: 0,
  };
  for (const [key, n] of Object.entries(delta.requests)) {
    const [verb = "", what = ""] = key.split(" ");
    requestsPerSecond[`${verb} ${what}`] = (requestsPerSecond[`${verb} ${what}`] ?? 0) + n / seconds;
    if (isRead(verb)) continue;
    const resource = what.split("/")[0];
    if (resource === "xdpcounterreports") w.reports += n;
    else if (resource === "xdpcounters") w.xdpCounters += n;
    else if (resource === "leases") w.leases += n;
    else if (what === "nodes/status") w.nodeStatus += n;
    else if (what === "pods/status") w.podStatus += n;
    else w.other += n;
  }
  w.operatorOther = Math.min(operatorOtherWrites, w.other);
  w.other -= w.operatorOther;
  const perSecond = Object.fromEntries(
    Object.entries(w).map(([k, v]) => [k, round(v / seconds, 2)]),
  ) as ApiLoad["writesPerSecond"];
  for (const k of Object.keys(requestsPerSecond)) requestsPerSecond[k] = round(requestsPerSecond[k] ?? 0, 2);
  const product = w.reports + w.xdpCounters + w.operatorOther;
  const applies = Object.entries(delta.requestBytes).filter(([k]) => k.endsWith(" xdpcounterreports"));
  const bytes = applies.reduce((a, [, v]) => a + v.sum, 0);
  const count = applies.reduce((a, [, v]) => a + v.count, 0);
  return {
    requestsPerSecond,
    writesPerSecond: perSecond,
    productShareOfLeases: w.leases > 0 ? round(product / w.leases, 3) : Number.NaN,
    productShareOfKubeletLeases: round(
      product / seconds / (nodes * KUBELET_LEASE_WRITES_PER_NODE_PER_SECOND),
      3,
    ),
    reportRequestBytes: count > 0 ? Math.round(bytes / count) : undefined,
    watchEventsPerSecond: Object.fromEntries(
      Object.entries(delta.watchEvents).map(([k, v]) => [k, round(v.count / seconds, 2)]),
    ),
  };
}

export async function runScaleOnce(
  plan: ScalePlan,
  o: {
    pps: number;
    pollMs: number;
    kwok?: KwokTuning;
    log: (text: string) => void;
    signal?: AbortSignal;
  },
): Promise<ScaleRun> {
  const started = Date.now();
  const { nodes, intervalMs, reportWritesPerMinute } = plan;
  const reportsCount = nodes * plan.xdpCounters;
  const operatorLimitBytes = chartOperatorMemoryLimitBytes();
  const tuning = o.kwok ?? DEFAULT_KWOK_TUNING;
  const periodMs = reportPeriodMs(intervalMs, plan.xdpCounters, reportWritesPerMinute);
  const changingMs = Math.ceil(Math.max(plan.changingMs, periodMs) / periodMs) * periodMs;
  const dir = mkdtempSync(join(tmpdir(), "xdp-counter-bench-scale-"));
  let cp: ControlPlane | undefined;
  let kwok: Kwok | undefined;
  let operator: ChildProcess | undefined;
  let memory: MemoryCgroup | undefined;
  const stop = new AbortController();
  const runs: Promise<void>[] = [];
  // Stopped in `finally` too, or an interrupted run would keep polling and sampling forever.
  let polling = true;
  let sampler: ReturnType<typeof setInterval> | undefined;
  try {
    // The whole control plane: the DaemonSet controller makes the agent pods, the scheduler binds them, the
    // node lifecycle controller watches the Leases. The audit log (Metadata) tells the operator's writes apart;
    // reads, what the controllers and simulated kubelets write and the agents' report writes are left out of it.
    cp = await startControlPlane({
      components: "all",
      crds: [CRD_PATH, REPORT_CRD_PATH],
      audit: true,
      auditRules: [
        { level: "None", verbs: ["get", "list", "watch"] },
        { level: "None", users: ["system:kube-controller-manager", "system:kube-scheduler"] },
        { level: "None", resources: [{ group: "coordination.k8s.io", resources: ["leases"] }] },
        { level: "None", resources: [{ group: "", resources: ["nodes/status", "pods/status"] }] },
        // the agents' report writes, counted from the API server's metrics; the operator only deletes reports
        {
          level: "None",
          verbs: ["create", "patch", "update"],
          resources: [{ group: GROUP, resources: [REPORT_PLURAL] }],
        },
      ],
      extraFlags: {
        "kube-controller-manager": [
          `--node-monitor-grace-period=${tuning.nodeMonitorGracePeriodSeconds}s`,
          // thousands of Nodes made at once: the node lifecycle controller lifts their not-ready taints at
          // its client's rate (20/s by default), which the whole setup waits for
          "--kube-api-qps=100",
          "--kube-api-burst=200",
        ],
      },
    });
    const control = cp;
    const { kubeconfig } = control;
    let operatorErr = "";
    const call = (method: string, path: string, body?: unknown, contentType?: string) => {
      const send = () =>
        control.client.call(method, path, {
          ...(body === undefined ? {} : { body }),
          ...(contentType ? { contentType } : {}),
        });
      // a read is asked again when a saturated API server drops its connection; a write is not (it may be done)
      return method === "GET" ? retried(`${method} ${path}`, send) : send();
    };
    const must = async (
      method: string,
      path: string,
      body?: unknown,
      contentType?: string,
    ): Promise<Json> => {
      const res = await call(method, path, body, contentType);
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text.slice(0, 500)}`);
      return res.body as Json;
    };
    const until = async <T>(
      what: string | (() => string),
      fn: () => Promise<T | undefined>,
      timeoutMs = 120_000,
    ) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = await fn();
        if (v !== undefined) return v;
        if (operator && operator.exitCode !== null) throw new Error(`the operator exited: ${operatorErr}`);
        if (kwok && !kwok.running) throw new Error(`kwok exited: ${kwok.logTail(20)}`);
        if (Date.now() > deadline)
          throw new Error(
            `${typeof what === "string" ? what : what()} within ${timeoutMs / 1000} s: ${operatorErr}`,
          );
        // a list of thousands of Nodes is megabytes: asked for at most every few seconds
        await sleep(Math.max(1000, nodes));
      }
    };
    // kwok's pid file in the control plane's folder: a benchmark SIGKILLed mid-run leaves kwok to the next
    // control plane's start, which ends every process of an abandoned folder (e2e/local/controlplane/state.ts)
    kwok = await startKwok({
      kubeconfig,
      stateDir: control.dir,
      heartbeatSeconds: tuning.heartbeatSeconds,
      leaseDurationSeconds: tuning.leaseDurationSeconds,
    });
    await must("POST", "/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: NAMESPACE },
    });
    // The agents' service account, as the chart makes it: the DaemonSet's pods are admitted once it exists.
    await must("POST", `/api/v1/namespaces/${NAMESPACE}/serviceaccounts`, {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: AGENT_SERVICE_ACCOUNT },
    });
    // The fake Nodes, made as nodes join; kwok makes them Ready and renews their Leases.
    const names = Array.from({ length: nodes }, (_, i) => nodeName(i + 1));
    const nodesFrom = Date.now();
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(
        names.slice(i, i + 50).map((name) => must("POST", "/api/v1/nodes", fakeNodeManifest(name))),
      );
    }
    // Ready, and without the not-ready taint the controller manager puts on a new Node until it sees it Ready:
    // an XdpCounter without tolerations does not select a tainted node, as the scheduler would not place on it.
    type N = { spec?: { taints?: unknown[] }; status?: { conditions?: { type: string; status: string }[] } };
    const readyNodes = async (): Promise<number> => {
      const list = await must("GET", "/api/v1/nodes");
      return (list.items ?? []).filter(
        (n) =>
          ((n as N).status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True") &&
          ((n as N).spec?.taints ?? []).length === 0,
      ).length;
    };
    await until(
      `${nodes} Nodes Ready and untainted`,
      async () => ((await readyNodes()) === nodes ? true : undefined),
      60_000 + nodes * 100,
    );
    const nodesReadySeconds = (Date.now() - nodesFrom) / 1000;
    const xdpcNames = Array.from({ length: plan.xdpCounters }, (_, k) => xdpCounterName(k));
    for (const [k, name] of xdpcNames.entries()) {
      await must("POST", XDPC, {
        apiVersion: "xdpcounter.dev/v1alpha1",
        kind: "XdpCounter",
        metadata: { name },
        spec: { interfaces: [`eth${k}`], reportInterval: `${intervalMs / 1000}s` },
      });
    }

    // The operator, as a process of its own.
    const port = await freePort();
    // Under the memory limit of its container in the chart, in a cgroup of its own: V8 sizes its heap from it.
    removeStaleMemoryCgroups();
    memory = createMemoryCgroup("operator", operatorLimitBytes);
    const [sh, ...argv] = memory.startIn([
      process.execPath,
      join(import.meta.dirname, "..", "operator", "main.ts"),
    ]);
    operator = spawn(sh as string, argv, {
      stdio: ["ignore", "ignore", "pipe"],
      env: {
        PATH: process.env.PATH ?? "",
        KUBECONFIG: kubeconfig,
        XDP_COUNTER_NAMESPACE: NAMESPACE,
        XDP_COUNTER_LEADER_ELECT: "false",
        XDP_COUNTER_AGENT_IMAGE: "xdp-counter:bench",
        XDP_COUNTER_PORT: String(port),
        XDP_COUNTER_LOG_LEVEL: "warn",
        XDP_COUNTER_AGENT_REPORT_WRITES_PER_MINUTE: String(reportWritesPerMinute),
      },
    });
    operator.stderr?.on("data", (d: Buffer) => {
      operatorErr = (operatorErr + d.toString()).slice(-4000);
    });
    const pids: Record<Exclude<CpuUser, "agents">, number> = {
      "kube-apiserver": control.pid("kube-apiserver"),
      etcd: control.pid("etcd"),
      "kube-controller-manager": control.pid("kube-controller-manager"),
      "kube-scheduler": control.pid("kube-scheduler"),
      kwok: kwok.pid,
      operator: operator.pid as number,
    };
    // The operator's DaemonSet, its ConfigMap with every spec, its label on every node.
    const podsFrom = Date.now();
    await until("the operator did not create its DaemonSet", async () => {
      const res = await call("GET", `/apis/apps/v1/namespaces/${NAMESPACE}/daemonsets/${DAEMONSET}`);
      return res.status === 200 ? true : undefined;
    });
    await until("the operator did not write every spec into its ConfigMap", async () => {
      const res = await call("GET", `/api/v1/namespaces/${NAMESPACE}/configmaps/${SPECS}`);
      const data = (res.body as Json | undefined)?.data ?? {};
      return res.status === 200 && Object.keys(data).length >= plan.xdpCounters ? true : undefined;
    });
    let lastProgress = Date.now();
    await until(
      "the operator did not label every node",
      async () => {
        // the nodes still without the label: a list that shrinks to nothing, not one of all 5,000 Nodes
        const list = await must(
          "GET",
          `/api/v1/nodes?labelSelector=${encodeURIComponent(`!${AGENT_NODE_LABEL}`)}`,
        );
        const labelled = nodes - (list.items ?? []).length;
        if (Date.now() - lastProgress >= 30_000) {
          lastProgress = Date.now();
          const rss = rssKiB(operator?.pid ?? 0);
          o.log(
            `scale: ${labelled} of ${nodes} nodes labelled for an agent` +
              (rss === undefined ? "" : ` (operator RSS ${Math.round(rss / 1024)} MiB)`),
          );
        }
        return labelled === nodes ? true : undefined;
      },
      // 5,000 nodes and three XdpCounters at a 10 s interval have taken 12 minutes and more on this machine's
      // 2 cores, with every agent pod being made, bound and set Running meanwhile
      120_000 + nodes * 240,
    );
    // The agent pods: made by the DaemonSet controller, bound by the scheduler, Running and Ready by kwok.
    await until(
      `${nodes} agent pods Ready`,
      async () => {
        const ds = await must("GET", `/apis/apps/v1/namespaces/${NAMESPACE}/daemonsets/${DAEMONSET}`);
        const st = (ds as { status?: { numberReady?: number } }).status;
        return st?.numberReady === nodes ? true : undefined;
      },
      120_000 + nodes * 100,
    );
    const agentPodsReadySeconds = (Date.now() - podsFrom) / 1000;
    const get = async (name: string): Promise<Json | undefined> => {
      const res = await call("GET", `${XDPC}/${name}`);
      return res.status === 200 ? (res.body as Json) : undefined;
    };
    for (const name of xdpcNames)
      await until(`the operator did not see ${nodes} nodes for ${name}`, async () =>
        (await get(name))?.status?.desiredNodes === nodes ? true : undefined,
      );
    o.log(
      `scale: ${nodes} nodes × ${plan.xdpCounters} XdpCounters, every node Ready in ${round(nodesReadySeconds, 1)} s, ` +
        `every agent pod in ${round(agentPodsReadySeconds, 1)} s; starting the agents over ${Math.round(Math.max(periodMs, nodes * AGENT_START_GAP_MS) / 1000)} s (a report every ${periodMs / 1000} s)`,
    );

    // The agents: NodeAgent each, one client as each agent has one, synthetic counters.
    const client = new CountingClient(
      new HttpKubeClient(await loadKubeConfig(readFileSync(kubeconfig, "utf8")), {
        userAgent: "xdp-counter-agent",
      }),
    );
    const sources: SyntheticCounters[] = [];
    const sourceOf = new Map<string, SyntheticCounters>();
    const cpuNow = (): Record<CpuUser, number> => ({
      ...(Object.fromEntries(
        Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid) ?? Number.NaN]),
      ) as Record<Exclude<CpuUser, "agents">, number>),
      agents: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    });
    const rss = new Map<CpuUser, number[]>(CPU_USERS.map((u) => [u, []]));
    const heapUsed: number[] = [];
    let ticks = 0;
    let sampling = false;
    sampler = setInterval(() => {
      if (!sampling) return;
      for (const [k, pid] of Object.entries(pids)) {
        const kib = rssKiB(pid);
        if (kib !== undefined) rss.get(k as CpuUser)?.push(kib / 1024);
      }
      rss.get("agents")?.push(process.memoryUsage().rss / 1024 ** 2);
      if (++ticks % 2 === 0) {
        void operatorHeapUsed(port).then((b) => {
          if (b !== undefined && sampling) heapUsed.push(b / 1024 ** 2);
        });
      }
    }, 1000);
    const loadAvgAtStart = loadavg()[0] ?? 0;
    const t0 = Date.now();
    const startSpreadMs = Math.max(periodMs, nodes * AGENT_START_GAP_MS);
    const agents: NodeAgent[] = [];
    const agentErrors: string[] = [];
    const reportNames = names.flatMap((node) => xdpcNames.map((x) => `${x}.${node}`));
    names.forEach((node, i) => {
      const agent = new NodeAgent({
        client,
        nodeName: node,
        namespace: NAMESPACE,
        specsName: SPECS,
        pinRoot: join(dir, "no-pins"),
        log: silentLogger,
        reportWritesPerMinute,
        listInterfaces: async () => ({ interfaces: [], primary: undefined }),
        source: (config: AgentConfig) => {
          const k = xdpcNames.indexOf(config.xdpCounter);
          const s = new SyntheticCounters(i * plan.xdpCounters + k, o.pps, config.interfaces[0] ?? "eth0");
          sources.push(s);
          sourceOf.set(`${config.xdpCounter}/${node}`, s);
          return s;
        },
      });
      // Started evenly over one period, or 20 a second when that is longer, as agents of a DaemonSet rolled out
      // over time would be: all in one process, 5,000 agents started in a minute opened some 10,000 TLS
      // connections (each agent's two watches, its lists and writes) faster than the process could complete
      // their handshakes, and most never got to count.
      agents.push(agent);
      runs.push(
        sleep(Math.floor((i * startSpreadMs) / nodes), undefined, { signal: stop.signal })
          .then(() => agent.run(stop.signal))
          .catch((error: unknown) => {
            if (!stop.signal.aborted)
              agentErrors.push(`${node}: ${String((error as Error)?.message ?? error)}`);
          }),
      );
    });

    // Poll the XdpCounters: latency of reports into totals.
    const latencies: number[] = [];
    const poller = (async () => {
      while (polling) {
        await sleep(o.pollMs);
        for (const name of xdpcNames) {
          const total = (await get(name).catch(() => undefined))?.status?.totals?.packets?.pass;
          if (total === undefined) continue;
          const now = Date.now();
          const t = BigInt(total);
          const queue = client.pending.get(name) ?? [];
          while (queue.length > 0 && (queue[0]?.sum ?? 0n) <= t) {
            latencies.push(now - (queue.shift()?.t ?? now));
          }
        }
      }
    })();

    const wait = async (until: number): Promise<void> => {
      const ms = until - Date.now();
      if (ms > 0) await sleep(ms, undefined, { signal: o.signal }).catch(() => undefined);
      if (o.signal?.aborted) throw new Error("interrupted");
    };
    // Changing window: after every agent started (spread over a period) and wrote its counters once. An agent's
    // first write creates its report and the next follows at once (a create spends none of the node's budget,
    // so a full bucket lets each report go at once), so the window starts after both, also when a saturated
    // API server answers them late. What the reports still missing did is told if they never come.
    await wait(t0 + startSpreadMs + 5000);
    let lastCounting = Date.now();
    await until(
      () =>
        `${client.countingReports.size} of ${reportsCount} reports written twice (created, then counting); ` +
        client.whyNotCounting(reportNames, Date.now()) +
        `; agents whose loop ended with an error: ${agentErrors.length}` +
        (agentErrors.length > 0 ? ` (first: ${agentErrors[0]})` : "") +
        `; agents whose loop has not turned for a minute: ${agents.filter((a) => !a.healthy()).length}`,
      async () => {
        if (Date.now() - lastCounting >= 30_000) {
          lastCounting = Date.now();
          o.log(`scale: ${client.countingReports.size} of ${reportsCount} reports written twice`);
        }
        return client.countingReports.size >= reportsCount ? true : undefined;
      },
      2 * (1 + INTERVAL_JITTER) * periodMs + 300_000,
    );
    const w1Start = Date.now() + 1000;
    const w1 = [w1Start, w1Start + changingMs] as const;
    await wait(w1[0]);
    const metricsStart = await readMetrics(control);
    const cpuStart = cpuNow();
    sampling = true;
    await wait(w1[1]);
    sampling = false;
    const cpuEnd = cpuNow();
    const metricsEnd = await readMetrics(control);
    for (const s of sources) s.freeze();
    // Each report's next write (within a period and its jitter) carries the frozen value, the one after it
    // rates of 0; the operator's status write follows within one more interval. Then quiet.
    // Without a quiet window only the frozen counters' writes and the status after them are waited for.
    const settle =
      (plan.quietPeriods > 0 ? 2 : 1) * (1 + INTERVAL_JITTER) * periodMs +
      (1 + INTERVAL_JITTER) * intervalMs +
      2000;
    const quietMs = plan.quietPeriods * periodMs;
    const w2 = [w1[1] + settle, w1[1] + settle + quietMs] as const;
    await wait(w2[1]);
    polling = false;
    await poller;
    stop.abort();
    await Promise.all(runs);
    clearInterval(sampler);

    const peak = memory.peakBytes();
    const oomKills = memory.oomKills();
    const finals = await Promise.all(xdpcNames.map((n) => get(n)));
    const reportList = await must("GET", REPORTS);
    const oneReport = await must("GET", `${REPORTS}/${xdpcNames[0]}.${names[0]}`);
    // The operator's writes, as the API server answered them.
    const isOperator = (e: { userAgent?: string; verb: string }) =>
      e.userAgent?.startsWith("xdp-counter-operator") === true && !["get", "list", "watch"].includes(e.verb);
    const audit = control.auditEvents().filter(isOperator);
    const answeredAt = (e: (typeof audit)[number]) =>
      Date.parse((e as { stageTimestamp?: string }).stageTimestamp ?? "");
    const isStatus = (e: (typeof audit)[number]) =>
      e.objectRef?.resource === "xdpcounters" && e.objectRef?.subresource === "status";
    const statusWrites = audit
      .filter(isStatus)
      .map((e) => ({ t: answeredAt(e), name: e.objectRef?.name ?? "" }));
    const otherWrites: Record<string, number> = {};
    for (const e of audit) {
      if (isStatus(e)) continue;
      const key = `${e.verb} ${e.objectRef?.resource ?? "-"}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ""}`;
      otherWrites[key] = (otherWrites[key] ?? 0) + 1;
    }
    const inW = (t: number, w: readonly [number, number]): boolean => t >= w[0] && t < w[1];
    const operatorOtherInWindow = audit.filter(
      (e) => !isStatus(e) && e.objectRef?.resource !== "xdpcounterreports" && inW(answeredAt(e), w1),
    ).length;
    const w1s = (w1[1] - w1[0]) / 1000;
    const changing = client.writes.filter((w) => inW(w.t, w1));
    const quiet = client.writes.filter((w) => inW(w.t, w2));
    const gaps = (items: { t: number; key: string }[], unitMs: number): number => {
      const byKey = new Map<string, number[]>();
      for (const x of items) byKey.set(x.key, [...(byKey.get(x.key) ?? []), x.t]);
      let min = Number.POSITIVE_INFINITY;
      for (const ts of byKey.values())
        for (let i = 1; i < ts.length; i++) min = Math.min(min, (ts[i] ?? 0) - (ts[i - 1] ?? 0));
      return Number.isFinite(min) ? min / unitMs : 0;
    };
    const watchEvents = (ws: (readonly [number, number])[]) => {
      const inside = ws.length ? client.events.filter((e) => ws.some((w) => inW(e.t, w))) : client.events;
      return {
        configMap: inside.filter((e) => e.kind === "configMap").length,
        node: inside.filter((e) => e.kind === "node").length,
      };
    };
    const totalsExact = xdpcNames.every((name, k) => {
      const expected = names.reduce((a, node) => a + (sourceOf.get(`${name}/${node}`)?.packets() ?? 0n), 0n);
      return finals[k]?.status?.totals?.packets?.pass === String(expected);
    });
    const window = metricsDelta(metricsStart, metricsEnd);
    const putBytesPerSecond = window.etcd.etcd_debugging_mvcc_total_put_size_in_bytes / w1s;
    const putBytesPerCompactionWindow = Math.round((putBytesPerSecond * COMPACTION_WINDOW_MS) / 1000);
    const first = finals[0];
    const result: ScaleRun = {
      nodes,
      xdpCounters: plan.xdpCounters,
      intervalMs,
      reportWritesPerMinute,
      periodMs,
      changingSeconds: w1s,
      quietSeconds: quietMs / 1000,
      setup: {
        controlPlaneStartMs: Math.round(control.startMs),
        nodesReadySeconds: round(nodesReadySeconds, 1),
        agentPodsReadySeconds: round(agentPodsReadySeconds, 1),
        agentsStartSeconds: round(startSpreadMs / 1000, 1),
        kwokHeartbeatSeconds: tuning.heartbeatSeconds,
        kwokLeaseDurationSeconds: tuning.leaseDurationSeconds,
        nodeMonitorGracePeriodSeconds: tuning.nodeMonitorGracePeriodSeconds,
      },
      agents: {
        writesPerSecond: round(changing.length / w1s, 2),
        writesPerReportPerPeriod: round(changing.length / reportsCount / (changingMs / periodMs), 3),
        requestBytesPerSecond: Math.round(changing.reduce((a, w) => a + w.bytes, 0) / w1s),
        requestBytes: roundSummary(summarize(changing.length ? changing.map((w) => w.bytes) : [0]), 0),
        minGapPeriods: round(
          gaps(
            client.writes.filter((w) => w.t >= w1[0]).map((w) => ({ t: w.t, key: w.report })),
            periodMs,
          ),
          3,
        ),
        failedWrites: [...client.failures.values()].reduce((a, n) => a + n, 0),
        failureReasons: Object.fromEntries(client.failures),
        answerMs: roundSummary(summarize(client.answerMs.length ? client.answerMs : [0]), 1),
        quietWrites: quiet.length,
        quietCountersChanged: quiet.filter((w) => w.countersChanged).length,
        quietFailedWrites: client.failedAt.filter((t) => inW(t, w2)).length,
        watchEvents: watchEvents([]),
        steadyWatchEvents: watchEvents([w1, w2]),
        watchesOpened: client.watchesOpened,
        lists: client.lists,
      },
      operator: {
        statusWritesPerSecond: round(statusWrites.filter((w) => inW(w.t, w1)).length / w1s, 3),
        statusWritesPerXdpCounterPerInterval: round(
          statusWrites.filter((w) => inW(w.t, w1)).length / plan.xdpCounters / (changingMs / intervalMs),
          3,
        ),
        minStatusGapIntervals: round(
          gaps(
            statusWrites.filter((w) => w.t >= t0).map((w) => ({ t: w.t, key: w.name })),
            intervalMs,
          ),
          3,
        ),
        quietStatusWrites: statusWrites.filter((w) => inW(w.t, w2)).length,
        otherWrites,
        reportToTotalsMs: latencies.length ? roundSummary(summarize(latencies), 0) : undefined,
        reportToTotalsP99Ms: nearestRank(latencies, 0.99),
        unresolved: [...client.pending.values()].reduce((a, q) => a + q.length, 0),
        pollMs: o.pollMs,
      },
      objects: {
        reportBytes: Buffer.byteLength(JSON.stringify(oneReport)),
        xdpCounterBytes: Buffer.byteLength(JSON.stringify(first)),
        statusBytes: Buffer.byteLength(JSON.stringify(first?.status ?? {})),
        reports: (reportList.items ?? []).length,
        totalsExact,
        readyNodes: finals.map((f) => f?.status?.readyNodes ?? 0),
        reportingNodes: finals.map((f) => f?.status?.reportingNodes ?? 0),
      },
      api: apiLoad(window, w1s, operatorOtherInWindow, nodes),
      etcd: {
        dbBytesBefore: window.etcdBefore.etcd_mvcc_db_total_size_in_bytes,
        dbBytesAfter: window.etcdAfter.etcd_mvcc_db_total_size_in_bytes,
        dbInUseBytesAfter: window.etcdAfter.etcd_mvcc_db_total_size_in_use_in_bytes,
        putsPerSecond: round(window.etcd.etcd_mvcc_put_total / w1s, 2),
        putBytesPerSecond: Math.round(putBytesPerSecond),
        putBytesPerCompactionWindow,
        shareOfQuotaPerCompactionWindow: round(putBytesPerCompactionWindow / ETCD_QUOTA_BYTES, 4),
      },
      controlPlane: { version: control.version, ...window },
      cpuPct: Object.fromEntries(
        CPU_USERS.map((k) => [k, round(((cpuEnd[k] - cpuStart[k]) / w1s) * 100, 1)]),
      ) as Record<CpuUser, number>,
      rssMiB: Object.fromEntries(
        CPU_USERS.map((k) => {
          const xs = rss.get(k) ?? [];
          return [k, xs.length ? roundSummary(summarize(xs), 1) : undefined];
        }),
      ) as Record<CpuUser, Summary | undefined>,
      operatorHeapUsedMiB: heapUsed.length ? roundSummary(summarize(heapUsed), 1) : undefined,
      operatorMemory: {
        limitMiB: round(operatorLimitBytes / 1024 ** 2, 1),
        cgroupPeakMiB: peak === undefined ? undefined : round(peak / 1024 ** 2, 1),
        oomKills,
      },
      loadAvgAtStart: round(loadAvgAtStart, 2),
      wallSeconds: round((Date.now() - started) / 1000, 1),
    };
    o.log(
      `scale: ${nodes} nodes × ${plan.xdpCounters} at ${intervalMs / 1000} s, ${reportWritesPerMinute}/min: ` +
        `${result.agents.writesPerSecond} report writes/s (${result.api.productShareOfLeases} of the Lease writes), ` +
        `etcd ${Math.round(putBytesPerCompactionWindow / 1024 ** 2)} MiB per compaction window, totals exact: ${totalsExact}, ` +
        `operator RSS ${result.rssMiB.operator?.median} MiB under its ${operatorLimitBytes / 1024 ** 2} MiB limit ` +
        `(heap in use ${result.operatorHeapUsedMiB?.median} MiB, OOM kills ${oomKills})`,
    );
    return result;
  } finally {
    polling = false;
    clearInterval(sampler);
    stop.abort();
    await Promise.all(runs);
    if (operator && operator.exitCode === null && operator.signalCode === null) {
      const op = operator;
      const exited = new Promise((r) => op.once("exit", r));
      op.kill("SIGTERM");
      await Promise.race([exited, sleep(5000)]);
      if (op.exitCode === null && op.signalCode === null) {
        op.kill("SIGKILL");
        await exited;
      }
    }
    try {
      memory?.remove();
    } catch (err) {
      o.log(`scale: the operator's memory cgroup ${memory?.path} stays: ${(err as Error).message}`);
    }
    // kwok first: its Nodes and pods go with the control plane's etcd
    await kwok?.stop();
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runScale(o: {
  plan: readonly ScalePlan[];
  pps: number;
  pollMs: number;
  quick: boolean;
  kwok?: KwokTuning;
  log: (text: string) => void;
  signal?: AbortSignal;
}): Promise<ScaleResult> {
  const runs: ScaleRun[] = [];
  for (const p of o.plan) {
    runs.push(
      await runScaleOnce(p, {
        pps: o.pps,
        pollMs: o.pollMs,
        ...(o.kwok ? { kwok: o.kwok } : {}),
        log: o.log,
        ...(o.signal ? { signal: o.signal } : {}),
      }),
    );
  }
  return {
    part: "scale",
    quick: o.quick,
    machine: machine(),
    method: {
      plan: [...o.plan],
      pollMs: o.pollMs,
      jitter: INTERVAL_JITTER,
      ppsPerNode: o.pps,
      kwok: o.kwok ?? DEFAULT_KWOK_TUNING,
    },
    runs,
  };
}
