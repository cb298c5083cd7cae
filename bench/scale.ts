// Part "scale": the control plane with many nodes, simulated. N nodes report into one XdpCounter on a real
// kube-apiserver and etcd (e2e/local/controlplane, the API server alone: no controllers, no kubelets), through
// the agent's own loop (agent/cluster/agent.ts: jitter, skip-when-unchanged: no heartbeat) and its own HTTP
// client, but with a synthetic counter source instead of BPF. The real operator runs as a child process
// against the same server, so its memory is its own. Measured: status writes per second (agents' and
// operator's), request bytes, the object's size, the time from a node's report to totals that include it, the
// operator's RSS, whether writes stop when the counters stop changing, and what etcd and the API server count
// meanwhile (their /metrics).
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Counters, zeroCounters } from "../agent/bpf/index.ts";
import { Agent, type CounterSource } from "../agent/cluster/agent.ts";
import { INTERVAL_JITTER } from "../agent/cluster/backoff.ts";
import { type ClusterApi, kubeClusterApi } from "../agent/cluster/cluster-api.ts";
import { KubeClient } from "../agent/cluster/kube-client.ts";
import { buildNodeEntry } from "../agent/cluster/node-entry.ts";
import type { InterfaceState } from "../agent/cluster/reconciler.ts";
import { type AgentConfig, CRD_PATH, type NodeEntryPatch, nodeEntryPatch } from "../api/v1alpha1/index.ts";
import { type ControlPlane, startControlPlane } from "../e2e/local/controlplane/index.ts";
import { daemonSetName } from "../operator/daemonset/index.ts";
import { silentLogger } from "../runtime/index.ts";
import { agentPodManifest, agentPodStatus } from "../testing/operator.ts";
import { type MetricsDelta, metricsDelta, readMetrics } from "./control-plane-metrics.ts";
import { type Machine, machine } from "./machine.ts";
import { round, roundSummary, type Summary, summarize } from "./stats.ts";

const XDPC = "/apis/xdpcounter.dev/v1alpha1/xdpcounters";
const NAMESPACE = "xdp-counter";
/** etcd's default request limit (--max-request-bytes): no larger object can be stored. */
export const ETCD_LIMIT_BYTES = 1_572_864;

/**
 * A node's counters without BPF: one interface whose counters start where a node counting for a few weeks
 * at some 10⁵ packets/s would be (13–15 digits), and grow at `pps` while changing. Frozen, they stay put.
 */
export class SyntheticCounters implements CounterSource {
  readonly ready = true;
  readonly nodeProblem = undefined;
  readonly #base: bigint;
  readonly #pps: number;
  #since = Date.now();
  #frozenAt: bigint | undefined;

  constructor(seed: number, pps: number) {
    this.#base = 100_000_000_000n + BigInt(seed) * 7_919_113n;
    this.#pps = pps;
  }

  packets(): bigint {
    return this.#frozenAt ?? this.#base + BigInt(Math.floor(((Date.now() - this.#since) * this.#pps) / 1000));
  }
  freeze(): void {
    this.#frozenAt = this.packets();
  }
  reconcile(): void {}
  setNodeProblem(): void {}
  cleanAll(): string[] {
    return [];
  }
  close(): void {}
  states(): InterfaceState[] {
    const counters: Counters = zeroCounters();
    const p = this.packets();
    counters.pass = { packets: p, bytes: p * 742n };
    counters.drop = { packets: p / 1000n, bytes: (p / 1000n) * 60n };
    return [{ name: "eth0", attached: true, mode: "native", counters, problem: undefined }];
  }
}

const silent = silentLogger;

/** A realistic cloud node name (long: status keys cost their length in every write and in the object). */
export const nodeName = (i: number): string =>
  `ip-10-${(i >> 16) & 255}-${(i >> 8) & 255}-${i & 255}.eu-west-1.compute.internal`;

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

export interface ScaleRun {
  nodes: number;
  intervalMs: number;
  /** intervals measured while every node's counters change, and with them frozen */
  changingIntervals: number;
  quietIntervals: number;
  agents: {
    /** writes per second in the changing window, and per node per interval */
    writesPerSecond: number;
    writesPerNodePerInterval: number;
    requestBytesPerSecond: number;
    /** JSON bytes of one agent's request body */
    requestBytes: Summary;
    /** the shortest time between two writes of one node, in intervals (the bound: ≥ 1 − jitter) */
    minGapIntervals: number;
    maxWritesOfOneNode: number;
    failedWrites: number;
    /** why writes failed (error messages, digits replaced by N), and how many times */
    failureReasons: Record<string, number>;
    /** time from sending an agent's PATCH to its answer, ms (successful writes) */
    answerMs: Summary;
    /** quiet window (counters frozen, after one interval for the last changes to land) */
    quietWrites: number;
    quietChangedWrites: number;
    quietWritesPerNodePerInterval: number;
  };
  operator: {
    writesPerSecond: number;
    quietWrites: number;
    rssMiB: Summary;
    /** a node's report (its PATCH answered) to the first poll of the object whose totals include it, ms */
    reportToTotalsMs: Summary | undefined;
    /** the 95th percentile of the same (nearest rank) */
    reportToTotalsP95Ms: number | undefined;
    /** reports whose values the totals never showed within the run */
    unresolved: number;
    pollMs: number;
  };
  object: {
    bytes: number;
    nodeEntries: number;
    bytesPerNode: number;
    fractionOfEtcdLimit: number;
    /** the operator's totals equal the sum of the frozen counters */
    totalsExact: boolean;
    /** status.readyNodes at the end (every node has a Ready agent pod and a Counting entry); older results lack it */
    readyNodes?: number;
    /** entries the reporters did not get written in the run, written by the bench afterwards (100 per patch) */
    filledByBench: number;
    /** the API server refused the object at this many entries (etcd keeps requests under 1.5 MiB) */
    refused: { afterNodes: number; status: number; message: string } | undefined;
  };
  /**
   * etcd's and the API server's /metrics from the reporters' start to their stop (the bench's own fill-in
   * after the run left out); older results, from the test API server, lack it
   */
  controlPlane?: MetricsDelta & { version: string; startMs: number };
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
    /** Results written before agents stopped sending heartbeats (docs/adr/0016) carry it; newer ones do not. */
    heartbeatIntervals?: number;
    ppsPerNode: number;
  };
  runs: ScaleRun[];
  targets: { objectUnderLimitAt1000: { bytes: number; limit: number; met: boolean } | null };
}

/** What the benchmark reads of the API server's answers. */
type Json = {
  metadata: { uid: string; generation: number };
  status?: {
    desiredNodes?: number;
    readyNodes?: number;
    nodes?: Record<string, unknown>;
    totals?: { packets?: { pass?: string } };
  };
  message?: string;
};

interface WriteRecord {
  t: number;
  node: string;
  bytes: number;
  changed: boolean;
}

export async function runScaleOnce(o: {
  nodes: number;
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
    cp = await startControlPlane({ components: "apiserver", crds: [CRD_PATH], audit: true });
    const control = cp;
    const { kubeconfig } = control;
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
    const name = `scale-${process.pid}`;
    const created = await must("POST", XDPC, {
      apiVersion: "xdpcounter.dev/v1alpha1",
      kind: "XdpCounter",
      metadata: { name },
      spec: { interfaces: ["eth0"], reportInterval: `${intervalMs / 1000}s` },
    });

    // The operator, as a process of its own.
    const port = await freePort();
    operator = spawn(process.execPath, [join(import.meta.dirname, "..", "operator", "main.ts")], {
      stdio: ["ignore", "ignore", "pipe"],
      env: {
        PATH: process.env.PATH ?? "",
        KUBECONFIG: kubeconfig,
        XDP_COUNTER_NAMESPACE: NAMESPACE,
        XDP_COUNTER_AGENT_IMAGE: "xdp-counter:bench",
        XDP_COUNTER_PORT: String(port),
        XDP_COUNTER_LOG_LEVEL: "warn",
      },
    });
    let operatorErr = "";
    operator.stderr?.on("data", (d: Buffer) => {
      operatorErr = (operatorErr + d.toString()).slice(-4000);
    });
    const opPid = operator.pid as number;
    const rss: number[] = [];
    sampler = setInterval(() => {
      const k = rssKiB(opPid);
      if (k !== undefined) rss.push(k / 1024);
    }, 1000);
    const get = async (): Promise<Json> => must("GET", `${XDPC}/${name}`);
    // Wait for the operator's first reconcile (desiredNodes set).
    for (let i = 0; ; i++) {
      const obj = await get();
      if (obj.status?.desiredNodes === nodes) break;
      if (operator.exitCode !== null) throw new Error(`the operator exited: ${operatorErr}`);
      if (i > 600) throw new Error(`the operator did not reconcile within 60 s: ${operatorErr}`);
      await sleep(100);
    }
    // The agent pods, Ready, as the DaemonSet controller and the kubelets would make them: the operator counts
    // a node as ready while its pod is (docs/adr/0016), and caches these pods.
    const dsName = daemonSetName(name);
    let ds: Json | undefined;
    for (let i = 0; !ds; i++) {
      const res = await call("GET", `/apis/apps/v1/namespaces/${NAMESPACE}/daemonsets/${dsName}`);
      if (res.status === 200) ds = res.body as Json;
      else if (i > 600) throw new Error(`the operator did not create DaemonSet ${dsName} within 60 s`);
      else await sleep(100);
    }
    const podsPath = `/api/v1/namespaces/${NAMESPACE}/pods`;
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(
        names.slice(i, i + 50).map(async (node) => {
          const pod = `${dsName}-${node}`;
          const owner = { name: dsName, uid: ds.metadata.uid };
          await must("POST", podsPath, agentPodManifest(name, owner, node, "xdp-counter:bench"));
          await must(
            "PATCH",
            `${podsPath}/${pod}/status`,
            agentPodStatus(true),
            "application/merge-patch+json",
          );
        }),
      );
    }
    o.log(
      `scale: ${nodes} nodes, operator pid ${opPid} reconciled, ${nodes} agent pods Ready; starting reporters`,
    );

    // The reporters: the agent's loop and HTTP client (one client, as each agent has one), synthetic counters.
    const client = await KubeClient.fromEnvironment({ env: { ...process.env, KUBECONFIG: kubeconfig } });
    const inner = kubeClusterApi(client);
    const writes: WriteRecord[] = [];
    let failed = 0;
    const reasons = new Map<string, number>();
    // Time the server takes to answer one agent write (the PATCH, measured around the agent's client).
    const answerMs: number[] = [];
    const lastWritten = new Map<string, bigint>();
    // Running sum of what the nodes have written: a write is in the totals once totals ≥ the sum after it.
    let sum = 0n;
    const pending: { t: number; sum: bigint }[] = [];
    const api: ClusterApi = {
      ...inner,
      async patchNodeEntry(x: string, patch: NodeEntryPatch) {
        const [node, entry] = Object.entries(patch.status.nodes)[0] as [
          string,
          // the patch sends null for actions that counted 0 (api/v1alpha1/node-patch.ts)
          { packets: { pass: string | null } },
        ];
        const bytes = Buffer.byteLength(JSON.stringify(patch));
        try {
          const sent = performance.now();
          const r = await inner.patchNodeEntry(x, patch);
          answerMs.push(performance.now() - sent);
          const p = BigInt(entry.packets.pass ?? 0);
          const before = lastWritten.get(node);
          writes.push({ t: Date.now(), node, bytes, changed: before !== p });
          sum += p - (before ?? 0n);
          lastWritten.set(node, p);
          pending.push({ t: Date.now(), sum });
          return r;
        } catch (err) {
          failed++;
          const why = String((err as Error).message)
            .replace(/\d+/g, "N")
            .slice(0, 160);
          reasons.set(why, (reasons.get(why) ?? 0) + 1);
          throw err;
        }
      },
      xdpCounterExists: async () => true,
      nodeInternalIps: async () => [],
    };
    const sources = names.map((_, i) => new SyntheticCounters(i, o.pps));
    const metricsBefore = await readMetrics(control);
    const t0 = Date.now();
    names.forEach((node, i) => {
      const config: AgentConfig = {
        xdpCounter: name,
        uid: created.metadata.uid,
        generation: created.metadata.generation,
        mode: "count",
        interfaces: ["eth0"],
        attachMode: "auto",
        action: "pass",
        reportIntervalMs: intervalMs,
        nodeName: node,
      };
      const agent = new Agent({
        config,
        api,
        log: silent,
        pinRoot: join(dir, "no-pins"),
        pollMs: 3_600_000,
        listInterfaces: async () => ({ interfaces: [], primary: undefined }),
        source: sources[i],
      });
      // Started evenly over one interval, as agents of a DaemonSet rolled out over time would be.
      runs.push(
        sleep(Math.floor((i * intervalMs) / nodes), undefined, { signal: stop.signal })
          .then(() => agent.run(stop.signal))
          .catch(() => undefined),
      );
    });

    // Poll the object: latency of reports into totals.
    const latencies: number[] = [];
    const poller = (async () => {
      while (polling) {
        await sleep(o.pollMs);
        const obj = await get().catch(() => undefined);
        const total = obj?.status?.totals?.packets?.pass;
        if (total === undefined) continue;
        const now = Date.now();
        const t = BigInt(total);
        while (pending.length > 0 && (pending[0]?.sum ?? 0n) <= t) {
          latencies.push(now - (pending.shift()?.t ?? now));
        }
      }
    })();

    const at = (k: number): number => t0 + k * intervalMs;
    const wait = async (until: number): Promise<void> => {
      const ms = until - Date.now();
      if (ms > 0) await sleep(ms, undefined, { signal: o.signal }).catch(() => undefined);
      if (o.signal?.aborted) throw new Error("interrupted");
    };
    // Changing window: after every reporter started (1 interval), for changingIntervals.
    const w1 = [at(1), at(1 + o.changingIntervals)] as const;
    await wait(w1[1]);
    for (const s of sources) s.freeze();
    // Each node's next report (within 1 + jitter intervals) writes the frozen value; then quiet.
    const w2 = [w1[1] + (1 + INTERVAL_JITTER) * intervalMs + 500, 0] as [number, number];
    w2[1] = w2[0] + o.quietIntervals * intervalMs;
    await wait(w2[1]);
    polling = false;
    await poller;
    stop.abort();
    await Promise.all(runs);
    clearInterval(sampler);
    const metrics = metricsDelta(metricsBefore, await readMetrics(control));
    // Nodes whose reports never landed (the server could not keep up): their entries are written now, 100
    // nodes per merge patch, from the same entry builder, so the object's size at N nodes is measured, or
    // the API server's refusal of it.
    const reported = new Set(Object.keys((await get()).status?.nodes ?? {}));
    const missing = names.map((n, i) => [n, i] as const).filter(([n]) => !reported.has(n));
    let filled = 0;
    let refused: { afterNodes: number; status: number; message: string } | undefined;
    for (let k = 0; k < missing.length && !refused; k += 100) {
      const nodesPatch: Record<string, unknown> = {};
      for (const [n, i] of missing.slice(k, k + 100)) {
        const entry = buildNodeEntry({
          states: sources[i]?.states() ?? [],
          generation: created.metadata.generation,
          now: new Date(),
        });
        Object.assign(nodesPatch, nodeEntryPatch(n, entry).status.nodes);
      }
      const res = await call(
        "PATCH",
        `${XDPC}/${name}/status`,
        { status: { nodes: nodesPatch } },
        "application/merge-patch+json",
      );
      if (res.status >= 300) {
        refused = {
          afterNodes: reported.size + filled,
          status: res.status,
          message: String((res.body as Json | undefined)?.message ?? res.text).slice(0, 300),
        };
      } else filled += Object.keys(nodesPatch).length;
    }
    if (filled > 0) await sleep(2000);
    const final = await get();
    // The operator's writes of the XdpCounter (its status, its finalizer), as the API server answered them.
    const operatorWrites = control
      .auditEvents()
      .filter(
        (e) =>
          e.userAgent?.startsWith("xdp-counter-operator") &&
          e.objectRef?.resource === "xdpcounters" &&
          !["get", "list", "watch"].includes(e.verb),
      )
      .map((e) => Date.parse((e as { stageTimestamp?: string }).stageTimestamp ?? ""));

    const inW = (t: number, w: readonly [number, number]): boolean => t >= w[0] && t < w[1];
    const w1s = (w1[1] - w1[0]) / 1000;
    const changing = writes.filter((w) => inW(w.t, w1));
    const quiet = writes.filter((w) => inW(w.t, w2));
    const byNode = new Map<string, number[]>();
    for (const w of writes) byNode.set(w.node, [...(byNode.get(w.node) ?? []), w.t]);
    let minGap = Number.POSITIVE_INFINITY;
    let maxOne = 0;
    for (const ts of byNode.values()) {
      for (let i = 1; i < ts.length; i++) minGap = Math.min(minGap, (ts[i] ?? 0) - (ts[i - 1] ?? 0));
      maxOne = Math.max(maxOne, ts.filter((t) => inW(t, w1)).length);
    }
    const objBytes = Buffer.byteLength(JSON.stringify(final));
    const entries = Object.keys(final.status?.nodes ?? {}).length;
    const expected = sources.reduce((a, s) => a + s.packets(), 0n);
    const totalsExact = final.status?.totals?.packets?.pass === String(expected);
    const result: ScaleRun = {
      nodes,
      intervalMs,
      changingIntervals: o.changingIntervals,
      quietIntervals: o.quietIntervals,
      agents: {
        writesPerSecond: round(changing.length / w1s),
        writesPerNodePerInterval: round(changing.length / nodes / o.changingIntervals, 3),
        requestBytesPerSecond: Math.round(changing.reduce((a, w) => a + w.bytes, 0) / w1s),
        requestBytes: roundSummary(summarize(changing.length ? changing.map((w) => w.bytes) : [0]), 0),
        minGapIntervals: round(Number.isFinite(minGap) ? minGap / intervalMs : 0, 3),
        maxWritesOfOneNode: maxOne,
        failedWrites: failed,
        failureReasons: Object.fromEntries(reasons),
        answerMs: roundSummary(summarize(answerMs.length ? answerMs : [0]), 1),
        quietWrites: quiet.length,
        quietChangedWrites: quiet.filter((w) => w.changed).length,
        quietWritesPerNodePerInterval: round(quiet.length / nodes / o.quietIntervals, 3),
      },
      operator: {
        writesPerSecond: round(operatorWrites.filter((t) => inW(t, w1)).length / w1s, 3),
        quietWrites: operatorWrites.filter((t) => inW(t, w2)).length,
        rssMiB: roundSummary(summarize(rss.length ? rss : [0]), 1),
        reportToTotalsMs: latencies.length ? roundSummary(summarize(latencies), 0) : undefined,
        reportToTotalsP95Ms: latencies.length
          ? latencies.sort((a, b) => a - b)[
              Math.min(latencies.length - 1, Math.ceil(latencies.length * 0.95) - 1)
            ]
          : undefined,
        unresolved: pending.length,
        pollMs: o.pollMs,
      },
      object: {
        bytes: objBytes,
        nodeEntries: entries,
        bytesPerNode: Math.round(objBytes / Math.max(1, entries)),
        fractionOfEtcdLimit: round(objBytes / ETCD_LIMIT_BYTES, 3),
        totalsExact,
        readyNodes: final.status?.readyNodes ?? 0,
        filledByBench: filled,
        refused,
      },
      controlPlane: { version: control.version, startMs: Math.round(control.startMs), ...metrics },
      wallSeconds: round((Date.now() - started) / 1000, 1),
    };
    o.log(
      `scale: ${nodes} nodes: ${result.agents.writesPerSecond} agent writes/s, object ${objBytes} B, operator RSS ${result.operator.rssMiB.median} MiB`,
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
        pps: o.pps,
        pollMs: o.pollMs,
        log: o.log,
        signal: o.signal,
      }),
    );
  }
  const at1000 = runs.find((r) => r.nodes === 1000);
  return {
    part: "scale",
    quick: o.quick,
    machine: machine(),
    method: {
      plan: [...o.plan],
      pollMs: o.pollMs,
      jitter: INTERVAL_JITTER,
      ppsPerNode: o.pps,
    },
    runs,
    targets: {
      objectUnderLimitAt1000: at1000
        ? {
            bytes: at1000.object.bytes,
            limit: ETCD_LIMIT_BYTES,
            met: at1000.object.bytes < ETCD_LIMIT_BYTES / 2,
          }
        : null,
    },
  };
}
