// Part "scale": the control plane with many nodes, simulated (docs/adr/0021, 0022). N nodes, each the node's
// own agent (agent/cluster/node-agent.ts: NodeAgent, in this one process, one KubeClient as each agent has one)
// with synthetic counters instead of BPF, watch the agents' ConfigMap and their Node and write one
// XdpCounterReport per XdpCounter by server-side apply into a real kube-apiserver and etcd
// (e2e/local/controlplane, the API server alone: no controllers, no kubelets). The real operator runs as a child
// process against the same server, so its memory is its own: it labels the nodes, writes the agents' ConfigMap and
// the agent DaemonSet, and sums the reports into each XdpCounter's status. The bench plays the kubelets and the
// DaemonSet controller: the Node objects (Ready) and the agent pods (Ready).
// Measured: report writes per second and bytes per write, the operator's status writes (at most one per
// interval, none idle), the size of one report and of the XdpCounter, the time from a node's report to totals
// that include it, exact totals, the operator's RSS, the watch events the agents receive (none while no spec
// changes), and what etcd and the API server count meanwhile (their /metrics).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Counters, zeroCounters } from "../agent/bpf/index.ts";
import { INTERVAL_JITTER } from "../agent/cluster/backoff.ts";
import type { CounterSource } from "../agent/cluster/counter-unit.ts";
import { NodeAgent } from "../agent/cluster/node-agent.ts";
import type { InterfaceState } from "../agent/cluster/reconciler.ts";
import { type AgentConfig, CRD_PATH, REPORT_CRD_PATH } from "../api/v1alpha1/index.ts";
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
import { agentPodManifest, agentPodStatus } from "../testing/operator.ts";
import { type MetricsDelta, metricsDelta, readMetrics } from "./control-plane-metrics.ts";
import { type Machine, machine } from "./machine.ts";
import { round, roundSummary, type Summary, summarize } from "./stats.ts";

const XDPC = "/apis/xdpcounter.dev/v1alpha1/xdpcounters";
const REPORTS = "/apis/xdpcounter.dev/v1alpha1/xdpcounterreports";
const NAMESPACE = "xdp-counter";
/** The operator's defaults (operator/config/settings.ts): the agent DaemonSet and the agents' ConfigMap. */
const DAEMONSET = "xdp-counter-agent";
const SPECS = "xdp-counter-agent-specs";
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
export type CpuUser = "kube-apiserver" | "etcd" | "operator" | "agents";

const nearestRank = (values: number[], q: number): number | undefined => {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * q) - 1))];
};

export interface ScaleRun {
  nodes: number;
  xdpCounters: number;
  intervalMs: number;
  /** intervals measured while every node's counters change, and with them frozen */
  changingIntervals: number;
  quietIntervals: number;
  agents: {
    /** report writes (server-side applies answered 2xx) per second in the changing window */
    writesPerSecond: number;
    /** per node and XdpCounter per interval (the bound: 1 / (1 − jitter)) */
    writesPerReportPerInterval: number;
    requestBytesPerSecond: number;
    /** JSON bytes of one apply's body */
    requestBytes: Summary;
    /** the shortest time between two writes of one report, in intervals (the bound: ≥ 1 − jitter) */
    minGapIntervals: number;
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
    quietWritesPerReportPerInterval: number;
    /** watch events (ADDED, MODIFIED, DELETED) the agents' informers received, by watched kind */
    watchEvents: { configMap: number; node: number };
    quietWatchEvents: { configMap: number; node: number };
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
    rssMiB: Summary;
    /** a node's report (its apply answered) to the first poll of the XdpCounter whose totals include it, ms */
    reportToTotalsMs: Summary | undefined;
    reportToTotalsP95Ms: number | undefined;
    reportToTotalsP99Ms: number | undefined;
    /** reports with new counters whose values the totals never showed within the run */
    unresolved: number;
    pollMs: number;
  };
  objects: {
    /** one report as the API server returns it (managedFields included), and as one XdpCounter's reports list it */
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
  /** etcd's and the API server's /metrics from the agents' start to their stop */
  controlPlane: MetricsDelta & { version: string; startMs: number };
  /**
   * CPU % of one core in the changing window, by process ("agents": the benchmark's own process, which runs
   * every NodeAgent); and the machine's 1-minute load average when the agents started
   */
  cpuPct: Record<CpuUser, number>;
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
  readonly pending = new Map<string, { t: number; sum: bigint }[]>();

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
    try {
      const out = await this.#inner.patch(path, body, type, query);
      this.answerMs.push(performance.now() - sent);
      const name = report.metadata.name;
      const xdpc = report.xdpCounter.name;
      const p = BigInt(report.packets.pass ?? 0);
      const before = this.#last.get(name);
      const countersChanged = before !== p;
      this.writes.push({ t: Date.now(), report: name, bytes, countersChanged });
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
      const why = String((err as Error).message)
        .replace(/\d+/g, "N")
        .slice(0, 400);
      this.failures.set(why, (this.failures.get(why) ?? 0) + 1);
      throw err;
    }
  }
}

export async function runScaleOnce(o: {
  nodes: number;
  xdpCounters: number;
  intervalMs: number;
  changingIntervals: number;
  quietIntervals: number;
  pps: number;
  pollMs: number;
  log: (text: string) => void;
  signal?: AbortSignal;
}): Promise<ScaleRun> {
  const started = Date.now();
  const { nodes, intervalMs } = o;
  const dir = mkdtempSync(join(tmpdir(), "xdp-counter-bench-scale-"));
  let cp: ControlPlane | undefined;
  let operator: ChildProcess | undefined;
  const stop = new AbortController();
  const runs: Promise<void>[] = [];
  // Stopped in `finally` too, or an interrupted run would keep polling and sampling forever.
  let polling = true;
  let sampler: ReturnType<typeof setInterval> | undefined;
  try {
    // etcd and kube-apiserver only; the audit log (Metadata) tells the operator's writes apart
    cp = await startControlPlane({ components: "apiserver", crds: [CRD_PATH, REPORT_CRD_PATH], audit: true });
    const control = cp;
    const { kubeconfig } = control;
    let operatorErr = "";
    const call = (method: string, path: string, body?: unknown, contentType?: string) =>
      control.client.call(method, path, {
        ...(body === undefined ? {} : { body }),
        ...(contentType ? { contentType } : {}),
      });
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
    const until = async <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 120_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = await fn();
        if (v !== undefined) return v;
        if (operator && operator.exitCode !== null) throw new Error(`the operator exited: ${operatorErr}`);
        if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs / 1000} s: ${operatorErr}`);
        await sleep(200);
      }
    };
    await must("POST", "/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: NAMESPACE },
    });
    // pods are admitted once their namespace's `default` ServiceAccount exists (no controller makes it here)
    await must("POST", `/api/v1/namespaces/${NAMESPACE}/serviceaccounts`, {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "default" },
    });
    // Nodes as they join: the API server's TaintNodesByCondition admission taints a new Node not-ready, its
    // kubelet reports Ready and the node lifecycle controller lifts the taint (both played here).
    const names = Array.from({ length: nodes }, (_, i) => nodeName(i + 1));
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(
        names.slice(i, i + 50).map(async (name) => {
          await must("POST", "/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name } });
          await must(
            "PATCH",
            `/api/v1/nodes/${name}/status`,
            { status: { conditions: [{ type: "Ready", status: "True", reason: "KubeletReady" }] } },
            "application/merge-patch+json",
          );
          await must(
            "PATCH",
            `/api/v1/nodes/${name}`,
            { spec: { taints: null } },
            "application/merge-patch+json",
          );
        }),
      );
    }
    const xdpcNames = Array.from({ length: o.xdpCounters }, (_, k) => xdpCounterName(k));
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
    operator = spawn(process.execPath, [join(import.meta.dirname, "..", "operator", "main.ts")], {
      stdio: ["ignore", "ignore", "pipe"],
      env: {
        PATH: process.env.PATH ?? "",
        KUBECONFIG: kubeconfig,
        XDP_COUNTER_NAMESPACE: NAMESPACE,
        XDP_COUNTER_LEADER_ELECT: "false",
        XDP_COUNTER_AGENT_IMAGE: "xdp-counter:bench",
        XDP_COUNTER_PORT: String(port),
        XDP_COUNTER_LOG_LEVEL: "warn",
      },
    });
    operator.stderr?.on("data", (d: Buffer) => {
      operatorErr = (operatorErr + d.toString()).slice(-4000);
    });
    const opPid = operator.pid as number;
    const rss: number[] = [];
    sampler = setInterval(() => {
      const k = rssKiB(opPid);
      if (k !== undefined) rss.push(k / 1024);
    }, 1000);
    // The operator's DaemonSet, its ConfigMap with every spec, its label on every node.
    const ds = await until("the operator did not create its DaemonSet", async () => {
      const res = await call("GET", `/apis/apps/v1/namespaces/${NAMESPACE}/daemonsets/${DAEMONSET}`);
      return res.status === 200 ? (res.body as Json) : undefined;
    });
    await until("the operator did not write every spec into its ConfigMap", async () => {
      const res = await call("GET", `/api/v1/namespaces/${NAMESPACE}/configmaps/${SPECS}`);
      const data = (res.body as Json | undefined)?.data ?? {};
      return res.status === 200 && Object.keys(data).length >= o.xdpCounters ? true : undefined;
    });
    await until("the operator did not label every node", async () => {
      const list = await must(
        "GET",
        `/api/v1/nodes?labelSelector=${encodeURIComponent(`${AGENT_NODE_LABEL}=true`)}`,
      );
      return (list.items ?? []).length === nodes ? true : undefined;
    });
    // The agent pods, Ready, as the DaemonSet controller and the kubelets would make them: the operator counts
    // a node as ready while its pod is (docs/adr/0016).
    const podsPath = `/api/v1/namespaces/${NAMESPACE}/pods`;
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(
        names.slice(i, i + 50).map(async (node) => {
          await must(
            "POST",
            podsPath,
            agentPodManifest({ name: DAEMONSET, uid: ds.metadata.uid }, node, "xdp-counter:bench"),
          );
          await must(
            "PATCH",
            `${podsPath}/${DAEMONSET}-${node}/status`,
            agentPodStatus(true),
            "application/merge-patch+json",
          );
        }),
      );
    }
    const get = async (name: string): Promise<Json | undefined> => {
      const res = await call("GET", `${XDPC}/${name}`);
      return res.status === 200 ? (res.body as Json) : undefined;
    };
    for (const name of xdpcNames)
      await until(`the operator did not see ${nodes} nodes for ${name}`, async () =>
        (await get(name))?.status?.desiredNodes === nodes ? true : undefined,
      );
    o.log(
      `scale: ${nodes} nodes × ${o.xdpCounters} XdpCounters, operator pid ${opPid} ready, ${nodes} agent pods Ready; starting the agents`,
    );

    // The agents: NodeAgent each, one client as each agent has one, synthetic counters.
    const client = new CountingClient(
      new HttpKubeClient(await loadKubeConfig(readFileSync(kubeconfig, "utf8")), {
        userAgent: "xdp-counter-agent",
      }),
    );
    const sources: SyntheticCounters[] = [];
    const sourceOf = new Map<string, SyntheticCounters>();
    const metricsBefore = await readMetrics(control);
    const pids: Record<Exclude<CpuUser, "agents">, number> = {
      "kube-apiserver": control.pid("kube-apiserver"),
      etcd: control.pid("etcd"),
      operator: opPid,
    };
    const cpuNow = (): Record<CpuUser, number> => ({
      "kube-apiserver": cpuSeconds(pids["kube-apiserver"]) ?? Number.NaN,
      etcd: cpuSeconds(pids.etcd) ?? Number.NaN,
      operator: cpuSeconds(pids.operator) ?? Number.NaN,
      agents: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    });
    const loadAvgAtStart = loadavg()[0] ?? 0;
    const t0 = Date.now();
    names.forEach((node, i) => {
      const agent = new NodeAgent({
        client,
        nodeName: node,
        namespace: NAMESPACE,
        specsName: SPECS,
        pinRoot: join(dir, "no-pins"),
        log: silentLogger,
        listInterfaces: async () => ({ interfaces: [], primary: undefined }),
        source: (config: AgentConfig) => {
          const k = xdpcNames.indexOf(config.xdpCounter);
          const s = new SyntheticCounters(i * o.xdpCounters + k, o.pps, config.interfaces[0] ?? "eth0");
          sources.push(s);
          sourceOf.set(`${config.xdpCounter}/${node}`, s);
          return s;
        },
      });
      // Started evenly over one interval, as agents of a DaemonSet rolled out over time would be.
      runs.push(
        sleep(Math.floor((i * intervalMs) / nodes), undefined, { signal: stop.signal })
          .then(() => agent.run(stop.signal))
          .catch(() => undefined),
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

    const at = (k: number): number => t0 + k * intervalMs;
    const wait = async (until: number): Promise<void> => {
      const ms = until - Date.now();
      if (ms > 0) await sleep(ms, undefined, { signal: o.signal }).catch(() => undefined);
      if (o.signal?.aborted) throw new Error("interrupted");
    };
    // Changing window: after every agent started (1 interval, and 1 s for its first writes), for changingIntervals.
    const w1 = [at(1) + 1000, at(1 + o.changingIntervals) + 1000] as const;
    await wait(w1[0]);
    const cpuStart = cpuNow();
    await wait(w1[1]);
    const cpuEnd = cpuNow();
    for (const s of sources) s.freeze();
    // Each report's next write (within 1 + jitter intervals) carries the frozen value, the one after it rates of
    // 0; the operator's status write follows within one more interval. Then quiet.
    const settle = (3 * (1 + INTERVAL_JITTER) + 0.1) * intervalMs;
    const w2 = [w1[1] + settle, w1[1] + settle + o.quietIntervals * intervalMs] as const;
    await wait(w2[1]);
    polling = false;
    await poller;
    stop.abort();
    await Promise.all(runs);
    clearInterval(sampler);
    const metrics = metricsDelta(metricsBefore, await readMetrics(control));

    const finals = await Promise.all(xdpcNames.map((n) => get(n)));
    const reportList = await must("GET", REPORTS);
    const oneReport = await must("GET", `${REPORTS}/${xdpcNames[0]}.${names[0]}`);
    // The operator's writes, as the API server answered them.
    const audit = control
      .auditEvents()
      .filter(
        (e) => e.userAgent?.startsWith("xdp-counter-operator") && !["get", "list", "watch"].includes(e.verb),
      );
    const statusWrites = audit
      .filter((e) => e.objectRef?.resource === "xdpcounters" && e.objectRef?.subresource === "status")
      .map((e) => ({
        t: Date.parse((e as { stageTimestamp?: string }).stageTimestamp ?? ""),
        name: e.objectRef?.name ?? "",
      }));
    const otherWrites: Record<string, number> = {};
    for (const e of audit) {
      if (e.objectRef?.resource === "xdpcounters" && e.objectRef?.subresource === "status") continue;
      const key = `${e.verb} ${e.objectRef?.resource ?? "-"}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ""}`;
      otherWrites[key] = (otherWrites[key] ?? 0) + 1;
    }

    const inW = (t: number, w: readonly [number, number]): boolean => t >= w[0] && t < w[1];
    const w1s = (w1[1] - w1[0]) / 1000;
    const reportsCount = nodes * o.xdpCounters;
    const changing = client.writes.filter((w) => inW(w.t, w1));
    const quiet = client.writes.filter((w) => inW(w.t, w2));
    const gaps = (items: { t: number; key: string }[]): number => {
      const byKey = new Map<string, number[]>();
      for (const x of items) byKey.set(x.key, [...(byKey.get(x.key) ?? []), x.t]);
      let min = Number.POSITIVE_INFINITY;
      for (const ts of byKey.values())
        for (let i = 1; i < ts.length; i++) min = Math.min(min, (ts[i] ?? 0) - (ts[i - 1] ?? 0));
      return Number.isFinite(min) ? min / intervalMs : 0;
    };
    const events = (w?: readonly [number, number]) => {
      const inside = w ? client.events.filter((e) => inW(e.t, w)) : client.events;
      return {
        configMap: inside.filter((e) => e.kind === "configMap").length,
        node: inside.filter((e) => e.kind === "node").length,
      };
    };
    const totalsExact = xdpcNames.every((name, k) => {
      const expected = names.reduce((a, node) => a + (sourceOf.get(`${name}/${node}`)?.packets() ?? 0n), 0n);
      return finals[k]?.status?.totals?.packets?.pass === String(expected);
    });
    const first = finals[0];
    const result: ScaleRun = {
      nodes,
      xdpCounters: o.xdpCounters,
      intervalMs,
      changingIntervals: o.changingIntervals,
      quietIntervals: o.quietIntervals,
      agents: {
        writesPerSecond: round(changing.length / w1s),
        writesPerReportPerInterval: round(changing.length / reportsCount / o.changingIntervals, 3),
        requestBytesPerSecond: Math.round(changing.reduce((a, w) => a + w.bytes, 0) / w1s),
        requestBytes: roundSummary(summarize(changing.length ? changing.map((w) => w.bytes) : [0]), 0),
        minGapIntervals: round(
          gaps(client.writes.filter((w) => w.t >= w1[0]).map((w) => ({ t: w.t, key: w.report }))),
          3,
        ),
        failedWrites: [...client.failures.values()].reduce((a, n) => a + n, 0),
        failureReasons: Object.fromEntries(client.failures),
        answerMs: roundSummary(summarize(client.answerMs.length ? client.answerMs : [0]), 1),
        quietWrites: quiet.length,
        quietCountersChanged: quiet.filter((w) => w.countersChanged).length,
        quietFailedWrites: client.failedAt.filter((t) => inW(t, w2)).length,
        quietWritesPerReportPerInterval: round(quiet.length / reportsCount / o.quietIntervals, 3),
        watchEvents: events(),
        quietWatchEvents: events(w2),
        watchesOpened: client.watchesOpened,
        lists: client.lists,
      },
      operator: {
        statusWritesPerSecond: round(statusWrites.filter((w) => inW(w.t, w1)).length / w1s, 3),
        statusWritesPerXdpCounterPerInterval: round(
          statusWrites.filter((w) => inW(w.t, w1)).length / o.xdpCounters / o.changingIntervals,
          3,
        ),
        minStatusGapIntervals: round(
          gaps(statusWrites.filter((w) => w.t >= t0).map((w) => ({ t: w.t, key: w.name }))),
          3,
        ),
        quietStatusWrites: statusWrites.filter((w) => inW(w.t, w2)).length,
        otherWrites,
        rssMiB: roundSummary(summarize(rss.length ? rss : [0]), 1),
        reportToTotalsMs: latencies.length ? roundSummary(summarize(latencies), 0) : undefined,
        reportToTotalsP95Ms: nearestRank(latencies, 0.95),
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
      controlPlane: { version: control.version, startMs: Math.round(control.startMs), ...metrics },
      cpuPct: Object.fromEntries(
        (Object.keys(cpuStart) as CpuUser[]).map((k) => [
          k,
          round(((cpuEnd[k] - cpuStart[k]) / w1s) * 100, 1),
        ]),
      ) as Record<CpuUser, number>,
      loadAvgAtStart: round(loadAvgAtStart, 2),
      wallSeconds: round((Date.now() - started) / 1000, 1),
    };
    o.log(
      `scale: ${nodes} nodes × ${o.xdpCounters}: ${result.agents.writesPerSecond} report writes/s, ${result.operator.statusWritesPerSecond} status writes/s, report ${result.objects.reportBytes} B, XdpCounter ${result.objects.xdpCounterBytes} B, operator RSS ${result.operator.rssMiB.median} MiB`,
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
      if (op.exitCode === null && op.signalCode === null) op.kill("SIGKILL");
    }
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ScalePlan {
  nodes: number;
  /** XdpCounters, each selecting every node (older results lack it: one) */
  xdpCounters?: number;
  intervalMs: number;
  changingIntervals: number;
  quietIntervals: number;
}

export async function runScale(o: {
  plan: readonly ScalePlan[];
  pps: number;
  pollMs: number;
  quick: boolean;
  log: (text: string) => void;
  signal?: AbortSignal;
}): Promise<ScaleResult> {
  const runs: ScaleRun[] = [];
  for (const p of o.plan) {
    runs.push(
      await runScaleOnce({
        ...p,
        xdpCounters: p.xdpCounters ?? 1,
        pps: o.pps,
        pollMs: o.pollMs,
        log: o.log,
        signal: o.signal,
      }),
    );
  }
  return {
    part: "scale",
    quick: o.quick,
    machine: machine(),
    method: { plan: [...o.plan], pollMs: o.pollMs, jitter: INTERVAL_JITTER, ppsPerNode: o.pps },
    runs,
  };
}
