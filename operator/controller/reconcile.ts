// Reconcile, level-triggered and idempotent (controller-runtime style), under two kinds of key:
//   AGENTS_KEY: what all XdpCounters share (docs/adr/0021): the one agent DaemonSet, the agents' ConfigMap of
//     specs, and the node label that places the agents (on every node some XdpCounter selects or that still
//     holds a report). Each written only when it differs.
//   an XdpCounter's name: its finalizer, its status summed from its nodes' reports (docs/adr/0022) and written
//     at most once per report interval and only when it changed, the deletion of its stale reports, and, once
//     it is being deleted and no report is left, the finalizer's removal.
// An XdpCounter the operator cannot use (its spec fails the schema) gets a condition, not a crash loop.
import {
  API_VERSION,
  type Condition,
  condition,
  countsOn,
  KIND,
  type NodeInfo,
  parseDuration,
  renderAgentSpecs,
  type Taint,
  type XdpCounter,
  type XdpCounterReport,
  type XdpCounterStatus,
  xdpCounter,
  xdpCounterStatus,
} from "../../api/v1alpha1/index.ts";
import { isStatus, RuntimeError } from "../../runtime/errors.ts";
import type { KubeObject } from "../../runtime/kube/kube-types.ts";
import { xdpCountersPath } from "../../runtime/kube/paths.ts";
import {
  AGENT_NODE_LABEL,
  AGENT_NODE_LABEL_VALUE,
  type Owner,
  type RenderConfig,
  renderAgentDaemonSet,
} from "../daemonset/index.ts";
import { canRemoveFinalizer, FINALIZER, withFinalizer, withoutFinalizer } from "../finalizer/index.ts";
import {
  aggregateReports,
  computeConditions,
  type JsonObject,
  type OperatorStatus,
  readyAgentNodes,
  statusPatch,
  toOperatorStatus,
} from "../status/index.ts";
import { isUpToDate, withDesiredHash } from "./desired-daemonset.ts";
import type { EventRegarding, EventSink } from "./events.ts";
import type { ReconcileReader, ReconcileWriter } from "./reconcile-api.ts";
import { conditionEvents } from "./transitions.ts";

/** The key of what all XdpCounters share; no XdpCounter can have this name (it has a space). */
export const AGENTS_KEY = " agents";

export type ReconcileDeps = {
  read: ReconcileReader;
  write: ReconcileWriter;
  config: RenderConfig;
  /** The operator's Deployment, owner of the DaemonSet and ConfigMap, when known. */
  owner?: Owner | undefined;
  now: () => Date;
  /** Events on transitions (the DaemonSet written, a condition changed, the finalizer removed); never awaited. */
  events: EventSink;
  /** When each XdpCounter's status was last written (ms), so it is written at most once per interval. */
  statusWrites: Map<string, number>;
  /**
   * The last valid spec this process handed the agents, by XdpCounter name (with its uid): what an invalid
   * edit keeps. The informer's copy of the ConfigMap may not show our own last write yet, so it is only the
   * fallback, for an XdpCounter that was invalid when this process started.
   */
  agentSpecs?: Map<string, { uid: string; entry: string }>;
};

export const ReconcileOutcome = {
  /** The XdpCounter does not exist (any more). */
  Gone: "Gone",
  /** Being deleted without our finalizer: nothing left to do. */
  Released: "Released",
  /** Being deleted: waiting for the nodes' agents to detach, unpin and delete their reports. */
  WaitingForClean: "WaitingForClean",
  /** Being deleted and no report is left: finalizer removed. */
  FinalizerRemoved: "FinalizerRemoved",
  /** The spec fails the schema: condition InvalidSpec written; its agents keep the last spec they had. */
  InvalidSpec: "InvalidSpec",
  /** The status changed, but was written less than an interval ago: written later. */
  Throttled: "Throttled",
  Synced: "Synced",
} as const;
export type ReconcileOutcome = (typeof ReconcileOutcome)[keyof typeof ReconcileOutcome];

export type ReconcileResult = {
  outcome: ReconcileOutcome;
  /** Reconcile again after this long even without events. */
  requeueAfterMs?: number;
  waitingFor?: string[];
  wroteDaemonSet?: boolean;
  wroteSpecs?: boolean;
  labelledNodes?: number;
  wroteStatus?: boolean;
  deletedReports?: number;
};

/** Node label writes in flight at once. */
export const LABEL_CONCURRENCY = 8;

/**
 * Runs `fn` on every item, at most `limit` at a time; rejects with the first error once the calls started
 * have settled (a failed write fails the reconcile, which is retried).
 */
export async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>) {
  let next = 0;
  let failed: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failed) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw failed.error;
}

export function toNodeInfo(node: KubeObject): NodeInfo {
  const spec = (node.spec ?? {}) as { taints?: Taint[] };
  const info: NodeInfo = { name: node.metadata.name };
  if (node.metadata.labels) info.labels = node.metadata.labels;
  if (spec.taints) info.taints = spec.taints;
  return info;
}

function regardingOf(obj: KubeObject | XdpCounter): EventRegarding {
  const { name, uid, resourceVersion } = obj.metadata;
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name,
    ...(uid ? { uid } : {}),
    ...(resourceVersion ? { resourceVersion } : {}),
  };
}

const CLEANED_UP = {
  type: "Normal",
  reason: "CleanedUp",
  action: "RemoveFinalizer",
  note: "Every node has detached and unpinned; finalizer removed.",
} as const;

function finalizerPatch(obj: { metadata: { resourceVersion?: string } }, finalizers: string[]): JsonObject {
  // A merge patch replaces the finalizers list whole; the resourceVersion makes it a precondition, so a
  // finalizer someone else added meanwhile is never lost (the write fails with 409 and is retried).
  const metadata: JsonObject = { finalizers };
  if (obj.metadata.resourceVersion) metadata.resourceVersion = obj.metadata.resourceVersion;
  return { metadata };
}

export async function reconcile(key: string, deps: ReconcileDeps): Promise<ReconcileResult> {
  if (key === AGENTS_KEY) return reconcileAgents(deps);
  try {
    return await reconcileXdpCounter(key, deps);
  } catch (error) {
    // Deleted between the read from the cache and our write: nothing left to do (its DELETED event follows).
    const path = error instanceof RuntimeError ? error.path : undefined;
    if (isStatus(error, 404) && path?.startsWith(xdpCountersPath(key))) {
      return { outcome: ReconcileOutcome.Gone };
    }
    throw error;
  }
}

/** The XdpCounters the agents must know: usable specs, while they exist and until our finalizer goes. */
function usableXdpCounters(read: ReconcileReader): XdpCounter[] {
  const out: XdpCounter[] = [];
  for (const raw of read.listXdpCounters()) {
    const parsed = xdpCounter.safeParse(raw);
    if (!parsed.success || !parsed.data.metadata.uid) continue;
    const x = parsed.data;
    if (x.metadata.deletionTimestamp && !(x.metadata.finalizers ?? []).includes(FINALIZER)) continue;
    out.push(x);
  }
  return out;
}

/** The DaemonSet, the agents' ConfigMap and the node labels, each written only when it differs. */
async function reconcileAgents(deps: ReconcileDeps): Promise<ReconcileResult> {
  const { read, write, config } = deps;
  // Specs the schema refuses stay as the agents last had them: an invalid edit must not detach anything.
  const usable = usableXdpCounters(read);
  const invalid = read
    .listXdpCounters()
    .filter((raw) => !usable.some((x) => x.metadata.name === raw.metadata.name))
    // released by us (deleted, our finalizer gone): no longer the agents' business
    .filter((raw) => !raw.metadata.deletionTimestamp || (raw.metadata.finalizers ?? []).includes(FINALIZER));
  const live = read.getConfigMap();
  const liveData = (live as { data?: Record<string, string> } | undefined)?.data ?? {};
  const data = renderAgentSpecs(usable);
  const remembered = deps.agentSpecs;
  if (remembered) {
    const uids = new Map(read.listXdpCounters().map((raw) => [raw.metadata.name, raw.metadata.uid]));
    for (const [name, kept] of remembered) if (uids.get(name) !== kept.uid) remembered.delete(name);
    for (const x of usable) {
      const entry = data[x.metadata.name];
      if (entry !== undefined) remembered.set(x.metadata.name, { uid: x.metadata.uid as string, entry });
    }
  }
  for (const raw of invalid) {
    const kept = remembered?.get(raw.metadata.name)?.entry ?? liveData[raw.metadata.name];
    if (kept === undefined) continue;
    const deleting = raw.metadata.deletionTimestamp && (raw.metadata.finalizers ?? []).includes(FINALIZER);
    // being deleted: the agents still clean up with the last spec they had
    data[raw.metadata.name] = deleting ? withCleanMode(kept) : kept;
  }
  let wroteSpecs = false;
  if (!live || !sameData(liveData, data)) {
    await write.applyConfigMap({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: config.agentSpecs,
        namespace: config.namespace,
        labels: {
          "app.kubernetes.io/name": "xdp-counter",
          "app.kubernetes.io/managed-by": "xdp-counter-operator",
        },
        ...(deps.owner ? { ownerReferences: [{ ...deps.owner, controller: true }] } : {}),
      },
      data,
    });
    wroteSpecs = true;
  }

  const desired = withDesiredHash(renderAgentDaemonSet(config, deps.owner));
  const ds = read.getDaemonSet();
  let wroteDaemonSet = false;
  // A DaemonSet the API refuses (e.g. a change the operator may not make) must not hold up the node labels:
  // they place the agents that keep counting. Its error is raised once the labels are done, and retried.
  let daemonSetError: unknown;
  if (!ds || !isUpToDate(ds, desired)) {
    try {
      await write.applyDaemonSet(desired);
      wroteDaemonSet = true;
    } catch (error) {
      daemonSetError = error;
    }
  }

  // Agents go where some XdpCounter selects the node, and stay where a report says they still clean up.
  const nodes = read.listNodes();
  const infos = nodes.map(toNodeInfo);
  // Reports of XdpCounters that no longer exist (deleted before their agents could clean up, or whose agents are
  // gone): nothing would ever delete them, and they would keep their nodes' agents. The agents clean such pins
  // up by themselves (they have no spec any more).
  const uids = new Set(read.listXdpCounters().map((raw) => raw.metadata.uid));
  let deletedReports = 0;
  for (const report of read.listReports()) {
    if (uids.has(report.xdpCounter.uid)) continue;
    await write.deleteReport(report.metadata.name, report.metadata.uid);
    deletedReports++;
  }
  const reports = read.listReports().filter((r) => uids.has(r.xdpCounter.uid));
  const wanted = new Set(reports.map((r) => r.nodeName));
  for (const x of usable) {
    if (x.metadata.deletionTimestamp) continue;
    const counting = new Set(
      reports.filter((r) => r.xdpCounter.uid === x.metadata.uid).map((r) => r.nodeName),
    );
    for (const node of infos) if (countsOn(x.spec, node, counting.has(node.name))) wanted.add(node.name);
  }
  const relabel = nodes.filter(
    (node) =>
      (node.metadata.labels?.[AGENT_NODE_LABEL] === AGENT_NODE_LABEL_VALUE) !==
      wanted.has(node.metadata.name),
  );
  // A few at a time: one after the other, a new cluster of 5,000 nodes took minutes to label; all at once
  // would be a burst the API server's priority and fairness queues for this client.
  await eachLimited(relabel, LABEL_CONCURRENCY, (node) =>
    write.labelNode(node.metadata.name, wanted.has(node.metadata.name) ? AGENT_NODE_LABEL_VALUE : null),
  );
  const labelledNodes = relabel.length;
  if (daemonSetError !== undefined) throw daemonSetError;
  return { outcome: ReconcileOutcome.Synced, wroteDaemonSet, wroteSpecs, labelledNodes, deletedReports };
}

function withCleanMode(text: string): string {
  try {
    return JSON.stringify({ ...(JSON.parse(text) as object), mode: "clean" });
  } catch {
    return text;
  }
}

function sameData(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

async function reconcileXdpCounter(name: string, deps: ReconcileDeps): Promise<ReconcileResult> {
  const raw = deps.read.getXdpCounter(name);
  if (!raw) {
    deps.statusWrites.delete(name);
    return { outcome: ReconcileOutcome.Gone };
  }
  const parsed = xdpCounter.safeParse(raw);
  if (!parsed.success) {
    const message = parsed.error.issues
      .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
      .join("; ");
    return await reconcileInvalid(raw, message, deps);
  }
  let xdpc = parsed.data;
  const deleting = Boolean(xdpc.metadata.deletionTimestamp);
  const finalizers = xdpc.metadata.finalizers ?? [];
  if (deleting && !finalizers.includes(FINALIZER)) return { outcome: ReconcileOutcome.Released };
  if (!deleting && !finalizers.includes(FINALIZER)) {
    const updated = await deps.write.patchXdpCounter(name, finalizerPatch(xdpc, withFinalizer(finalizers)));
    xdpc = { ...xdpc, metadata: { ...xdpc.metadata, ...pickMeta(updated) } };
  }

  // The status is written at most once per interval (below). Until the next write is due no event can change
  // what is written, so the sums over every node's report wait for it too: at 5,000 nodes a report arrives
  // every few milliseconds, and summing them all again for each kept the operator's worker busy throughout.
  // A deletion is never held back.
  const now = deps.now();
  const intervalMs = parseDuration(xdpc.spec.reportInterval);
  const last = deps.statusWrites.get(name);
  const wait = last === undefined || deleting ? 0 : last + intervalMs - now.getTime();
  if (wait > 0) return { outcome: ReconcileOutcome.Throttled, requeueAfterMs: wait };

  const nodes = deps.read.listNodes().map(toNodeInfo);
  const reports = deps.read.listReports(name);
  const readyAgents = readyAgentNodes(deps.read.listAgentPods());
  const aggregate = aggregateReports(xdpc, reports, { nodes, readyAgents });
  let deletedReports = 0;
  for (const stale of aggregate.staleReports) {
    const report = reports.find((r) => r.metadata.name === stale);
    await deps.write.deleteReport(stale, report?.metadata.uid);
    deletedReports++;
  }

  const generation = xdpc.metadata.generation ?? 0;
  const conditions = computeConditions(
    xdpc.status?.conditions,
    {
      deleting,
      daemonSetFound: deps.read.getDaemonSet() !== undefined,
      desiredNodes: aggregate.desiredNodes,
      readyNodes: aggregate.readyNodes,
      notReadyNodes: aggregate.notReadyNodes,
      nodeErrors: aggregate.nodeErrors,
      interfaceErrors: aggregate.interfaceErrors,
    },
    generation,
    now,
  );
  const patch = statusPatch(xdpc.status, toOperatorStatus(aggregate, conditions, generation));
  let resourceVersion = xdpc.metadata.resourceVersion;
  let wroteStatus = false;
  if (patch) {
    // At most once per interval (checked above): the reports themselves change at most that often per node.
    const updated = await deps.write.patchXdpCounterStatus(name, patch);
    deps.statusWrites.set(name, now.getTime());
    resourceVersion = updated.metadata.resourceVersion ?? resourceVersion;
    wroteStatus = true;
    for (const event of conditionEvents(xdpc.status?.conditions, conditions))
      deps.events.emit(regardingOf(xdpc), event);
  }

  if (deleting) {
    const live = reports.filter((r) => !aggregate.staleReports.includes(r.metadata.name));
    const decision = canRemoveFinalizer(live.map((r) => r.nodeName));
    if (!decision.removable) {
      return {
        outcome: ReconcileOutcome.WaitingForClean,
        waitingFor: decision.waitingFor,
        wroteStatus,
        deletedReports,
      };
    }
    await deps.write.patchXdpCounter(
      name,
      finalizerPatch({ metadata: { resourceVersion } }, withoutFinalizer(finalizers)),
    );
    deps.statusWrites.delete(name);
    deps.events.emit(regardingOf(xdpc), CLEANED_UP);
    return { outcome: ReconcileOutcome.FinalizerRemoved, wroteStatus, deletedReports };
  }
  return { outcome: ReconcileOutcome.Synced, wroteStatus, deletedReports };
}

function pickMeta(obj: KubeObject): { resourceVersion?: string; finalizers?: string[] } {
  const out: { resourceVersion?: string; finalizers?: string[] } = {};
  if (obj.metadata.resourceVersion) out.resourceVersion = obj.metadata.resourceVersion;
  if (obj.metadata.finalizers) out.finalizers = obj.metadata.finalizers;
  return out;
}

/**
 * An XdpCounter whose spec the schema refuses (the API server checks patterns and enums, but not every zod
 * refinement, and a CRD may be older than the operator): write condition InvalidSpec naming the fields; its
 * agents keep the last spec they had; a deletion still finishes once its reports are gone.
 */
async function reconcileInvalid(
  raw: KubeObject,
  message: string,
  deps: ReconcileDeps,
): Promise<ReconcileResult> {
  const name = raw.metadata.name;
  const deleting = Boolean(raw.metadata.deletionTimestamp);
  const finalizers = raw.metadata.finalizers ?? [];
  const parsed = xdpCounterStatus.safeParse(raw.status ?? {});
  const prev: XdpCounterStatus | undefined = parsed.success ? parsed.data : undefined;
  const prevConditions = Array.isArray((raw.status as { conditions?: unknown } | undefined)?.conditions)
    ? ((raw.status as { conditions: unknown[] }).conditions.filter(
        (c) => condition.safeParse(c).success,
      ) as Condition[])
    : undefined;
  const generation = raw.metadata.generation ?? 0;
  const conditions = computeConditions(
    prevConditions,
    {
      specError: message,
      deleting,
      daemonSetFound: deps.read.getDaemonSet() !== undefined,
      desiredNodes: prev?.desiredNodes ?? 0,
      readyNodes: prev?.readyNodes ?? 0,
      notReadyNodes: [],
      nodeErrors: [],
      interfaceErrors: [],
    },
    generation,
    deps.now(),
  );
  const next: OperatorStatus = { ...prev, observedGeneration: generation, conditions };
  const patch = statusPatch(prev, next);
  let resourceVersion = raw.metadata.resourceVersion;
  if (patch) {
    const updated = await deps.write.patchXdpCounterStatus(name, patch);
    resourceVersion = updated.metadata.resourceVersion ?? resourceVersion;
    for (const event of conditionEvents(prevConditions, conditions))
      deps.events.emit(regardingOf(raw), event);
  }
  if (deleting && finalizers.includes(FINALIZER)) {
    const existing = new Set(deps.read.listNodes().map((n) => n.metadata.name));
    const left = deps.read
      .listReports(name)
      .filter((r: XdpCounterReport) => existing.has(r.nodeName) && r.xdpCounter.uid === raw.metadata.uid)
      .map((r) => r.nodeName);
    const decision = canRemoveFinalizer(left);
    if (!decision.removable) {
      return {
        outcome: ReconcileOutcome.WaitingForClean,
        waitingFor: decision.waitingFor,
        wroteStatus: patch !== null,
      };
    }
    await deps.write.patchXdpCounter(
      name,
      finalizerPatch({ metadata: { resourceVersion } }, withoutFinalizer(finalizers)),
    );
    deps.events.emit(regardingOf(raw), CLEANED_UP);
    return { outcome: ReconcileOutcome.FinalizerRemoved, wroteStatus: patch !== null };
  }
  return { outcome: ReconcileOutcome.InvalidSpec, wroteStatus: patch !== null };
}
