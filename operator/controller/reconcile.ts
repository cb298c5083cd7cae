// Reconcile one XdpCounter, level-triggered and idempotent (controller-runtime style):
//   gone → done; being deleted → agents in clean mode, finalizer removed once every node is Clean or gone;
//   else finalizer ensured, the counting DaemonSet applied from the spec alone and the cleanup DaemonSet for
//   deselected nodes applied or deleted (no write when up to date), then the status computed and written
//   once, as a merge patch, only if it changed.
// An XdpCounter the operator cannot use (its spec fails the schema) gets a condition, not a crash loop.
import {
  API_VERSION,
  ApiError,
  ApiErrorCode,
  type Condition,
  condition,
  type InvalidNodeEntry,
  KIND,
  readXdpCounter,
  type XdpCounter,
  type XdpCounterStatus,
  xdpCounterStatus,
} from "../../api/v1alpha1/index.ts";
import {
  cleanupDaemonSetName,
  daemonSetName,
  type RenderConfig,
  renderCleanupDaemonSet,
  renderDaemonSet,
} from "../daemonset/index.ts";
import { canRemoveFinalizer, FINALIZER, withFinalizer, withoutFinalizer } from "../finalizer/index.ts";
import {
  aggregateStatus,
  computeConditions,
  type JsonObject,
  listSome,
  type NodeInfo,
  type OperatorStatus,
  readyAgentNodes,
  retainedNodeNames,
  statusPatch,
  type Taint,
  toOperatorStatus,
} from "../status/index.ts";
import { isUpToDate, withDesiredHash } from "./desired-daemonset.ts";
import { ControllerError, isStatus } from "./errors.ts";
import type { EventRegarding, EventSink } from "./events.ts";
import type { KubeObject } from "./kube-types.ts";
import type { ReconcileReader, ReconcileWriter } from "./reconcile-api.ts";
import { xdpCountersPath } from "./resources.ts";
import { conditionEvents } from "./transitions.ts";

/** The finalizer the API server adds for `kubectl delete --cascade=foreground`. */
export const FOREGROUND_DELETION = "foregroundDeletion";

export type ReconcileDeps = {
  read: ReconcileReader;
  write: ReconcileWriter;
  config: RenderConfig;
  now: () => Date;
  /** Events on transitions (a DaemonSet written, a condition changed, the finalizer removed); never awaited. */
  events: EventSink;
};

export const ReconcileOutcome = {
  /** The XdpCounter does not exist (any more). */
  Gone: "Gone",
  /** Being deleted without our finalizer: nothing left to do. */
  Released: "Released",
  /** Being deleted: agents in clean mode, waiting for nodes to report Clean. */
  WaitingForClean: "WaitingForClean",
  /** Being deleted and every node is clean: finalizer removed. */
  FinalizerRemoved: "FinalizerRemoved",
  /** The spec fails the schema: condition InvalidSpec written, DaemonSet left as it was. */
  InvalidSpec: "InvalidSpec",
  /** The DaemonSet's name is taken by an object this XdpCounter does not own: left alone, retried later. */
  DaemonSetConflict: "DaemonSetConflict",
  Synced: "Synced",
} as const;
export type ReconcileOutcome = (typeof ReconcileOutcome)[keyof typeof ReconcileOutcome];

export type ReconcileResult = {
  outcome: ReconcileOutcome;
  /** Reconcile again after this long even without events. */
  requeueAfterMs?: number;
  waitingFor?: string[];
  wroteDaemonSet?: boolean;
  wroteStatus?: boolean;
};

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

export async function reconcile(name: string, deps: ReconcileDeps): Promise<ReconcileResult> {
  try {
    return await reconcileOnce(name, deps);
  } catch (error) {
    // Deleted between the read from the cache and our write: nothing left to do (its DELETED event follows).
    const path = error instanceof ControllerError ? error.path : undefined;
    if (isStatus(error, 404) && path?.startsWith(xdpCountersPath(name))) {
      return { outcome: ReconcileOutcome.Gone };
    }
    throw error;
  }
}

async function reconcileOnce(name: string, deps: ReconcileDeps): Promise<ReconcileResult> {
  const raw = deps.read.getXdpCounter(name);
  if (!raw) return { outcome: ReconcileOutcome.Gone };
  let xdpc: XdpCounter;
  let invalidNodes: InvalidNodeEntry[];
  try {
    ({ object: xdpc, invalidNodes } = readXdpCounter(raw));
  } catch (error) {
    if (error instanceof ApiError && error.code === ApiErrorCode.InvalidXdpCounter) {
      return await reconcileInvalid(raw, error.message, deps);
    }
    throw error;
  }
  const deleting = Boolean(xdpc.metadata.deletionTimestamp);
  const finalizers = xdpc.metadata.finalizers ?? [];
  if (deleting && !finalizers.includes(FINALIZER)) return { outcome: ReconcileOutcome.Released };
  if (!deleting && !finalizers.includes(FINALIZER)) {
    const updated = await deps.write.patchXdpCounter(name, finalizerPatch(xdpc, withFinalizer(finalizers)));
    xdpc = { ...xdpc, metadata: { ...xdpc.metadata, ...pickMeta(updated) } };
  }

  // The counting DaemonSet from the spec alone (clean mode follows from deletionTimestamp); the cleanup
  // DaemonSet for the deselected nodes still holding our program and pins, only while there are any
  // (docs/adr/0012). Keeping the two apart keeps the counting agents' template, and so the agents, untouched
  // when nodes are deselected.
  const nodes = deps.read.listNodes().map(toNodeInfo);
  const retained = retainedNodeNames(xdpc.spec, xdpc.status?.nodes ?? {}, nodes);
  const desired = withDesiredHash(renderDaemonSet(xdpc, deps.config));
  const live = deps.read.getDaemonSet(desired.metadata.name);
  let wroteDaemonSet = false;
  // Foreground deletion: the garbage collector deletes the DaemonSets first and would delete new ones at
  // once, so wait until it is done (it drops foregroundDeletion), then bring the agents back in clean mode.
  const collecting = deleting && finalizers.includes(FOREGROUND_DELETION);
  const conflict = live ? daemonSetConflict(live, xdpc) : undefined;
  if (!collecting && !conflict && (!live || !isUpToDate(live, desired))) {
    await deps.write.applyDaemonSet(desired);
    wroteDaemonSet = true;
    const ds = `${desired.metadata.namespace}/${desired.metadata.name}`;
    deps.events.emit(
      regardingOf(xdpc),
      live
        ? {
            type: "Normal",
            reason: "DaemonSetUpdated",
            action: "Update",
            note: deleting
              ? `Updated DaemonSet ${ds}: the agents detach and unpin before removal.`
              : `Updated DaemonSet ${ds} for generation ${xdpc.metadata.generation ?? 0}.`,
          }
        : {
            type: "Normal",
            reason: "DaemonSetCreated",
            action: "Create",
            note: `Created DaemonSet ${ds} for the agents.`,
          },
    );
  }
  const cleanup = collecting ? {} : await reconcileCleanupDaemonSet(xdpc, retained, deps);
  wroteDaemonSet ||= cleanup.wrote === true;
  const conflicts = [conflict, cleanup.conflict].filter((c): c is string => c !== undefined);

  // Status, once, only if it changed.
  const now = deps.now();
  const readyAgents = readyAgentNodes(deps.read.listAgentPods(desired.metadata.name));
  const aggregate = aggregateStatus(xdpc, { nodes, readyAgents });
  const generation = xdpc.metadata.generation ?? 0;
  const conditions = computeConditions(
    xdpc.status?.conditions,
    {
      deleting,
      // While deleting, a missing DaemonSet is the collector's doing, not a fault.
      daemonSetFound: true,
      // While deleting, the old DaemonSet being collected is expected, not a conflict to report.
      ...(conflicts.length > 0 && !deleting ? { daemonSetConflict: conflicts.join(" ") } : {}),
      desiredNodes: aggregate.desiredNodes,
      readyNodes: aggregate.readyNodes,
      notReadyNodes: aggregate.notReadyNodes,
      nodeErrors: [
        ...aggregate.nodeErrors,
        ...invalidNodes.map((n) => ({ node: n.node, message: `invalid status entry: ${n.message}` })),
      ],
      interfaceErrors: aggregate.interfaceErrors,
    },
    generation,
    now,
  );
  const patch = statusPatch(xdpc.status, toOperatorStatus(aggregate, conditions, generation));
  let resourceVersion = xdpc.metadata.resourceVersion;
  if (patch) {
    const updated = await deps.write.patchXdpCounterStatus(name, patch);
    resourceVersion = updated.metadata.resourceVersion ?? resourceVersion;
    for (const event of conditionEvents(xdpc.status?.conditions, conditions))
      deps.events.emit(regardingOf(xdpc), event);
  }
  const wroteStatus = patch !== null;

  if (deleting) {
    const decision = canRemoveFinalizer(xdpc, nodes);
    if (!decision.removable) {
      return {
        outcome: ReconcileOutcome.WaitingForClean,
        waitingFor: decision.waitingFor,
        wroteDaemonSet,
        wroteStatus,
      };
    }
    await deps.write.patchXdpCounter(
      name,
      finalizerPatch({ metadata: { resourceVersion } }, withoutFinalizer(finalizers)),
    );
    deps.events.emit(regardingOf(xdpc), CLEANED_UP);
    return { outcome: ReconcileOutcome.FinalizerRemoved, wroteDaemonSet, wroteStatus };
  }
  if (conflicts.length > 0) {
    // Most often the DaemonSet of a deleted XdpCounter of the same name, which the collector removes soon.
    return {
      outcome: ReconcileOutcome.DaemonSetConflict,
      requeueAfterMs: 2_000,
      wroteDaemonSet,
      wroteStatus,
    };
  }
  // Nothing here ages: entries change only when agents write, readiness only with pod events.
  return { outcome: ReconcileOutcome.Synced, wroteDaemonSet, wroteStatus };
}

/**
 * Applies the cleanup DaemonSet while some node is retained (no write when up to date), and deletes it, if it
 * is ours, once none is. While the XdpCounter is being deleted it stays as long as deselected nodes are
 * retained: the counting DaemonSet (in clean mode) covers the selected nodes only, and the finalizer waits
 * for both kinds (canRemoveFinalizer). A cleanup DaemonSet of another owner is left alone: a conflict while
 * we need the name, nothing otherwise.
 */
async function reconcileCleanupDaemonSet(
  xdpc: XdpCounter,
  retained: readonly string[],
  deps: ReconcileDeps,
): Promise<{ wrote?: boolean; conflict?: string }> {
  const name = cleanupDaemonSetName(xdpc.metadata.name);
  const live = deps.read.getDaemonSet(name);
  if (retained.length === 0) {
    if (!live || live.metadata.deletionTimestamp || !live.metadata.uid) return {};
    if (!isControlledBy(live, xdpc)) return {};
    await deps.write.deleteDaemonSet(name, live.metadata.uid);
    deps.events.emit(regardingOf(xdpc), {
      type: "Normal",
      reason: "CleanupDaemonSetDeleted",
      action: "Delete",
      note: `Deleted DaemonSet ${deps.config.namespace}/${name}: no deselected node is left to clean up.`,
    });
    return { wrote: true };
  }
  const conflict = live ? daemonSetConflict(live, xdpc) : undefined;
  if (conflict) return { conflict };
  const desired = withDesiredHash(renderCleanupDaemonSet(xdpc, deps.config, retained));
  if (live && isUpToDate(live, desired)) return {};
  await deps.write.applyDaemonSet(desired);
  if (!live) {
    deps.events.emit(regardingOf(xdpc), {
      type: "Normal",
      reason: "CleanupDaemonSetCreated",
      action: "Create",
      note: `Created DaemonSet ${desired.metadata.namespace}/${name} to detach and unpin on deselected nodes: ${listSome(retained)}.`,
    });
  }
  return { wrote: true };
}

function isControlledBy(live: KubeObject, xdpc: XdpCounter): boolean {
  return (
    live.metadata.ownerReferences?.some((ref) => ref.controller === true && ref.uid === xdpc.metadata.uid) ??
    false
  );
}

/** Why `live` is not ours to write, when it is not: another owner, or being deleted. */
function daemonSetConflict(live: KubeObject, xdpc: XdpCounter): string | undefined {
  const name = `${live.metadata.namespace}/${live.metadata.name}`;
  const controller = live.metadata.ownerReferences?.find((ref) => ref.controller === true);
  if (!controller || controller.uid !== xdpc.metadata.uid) {
    const owner = controller
      ? `${controller.kind} ${controller.name} (uid ${controller.uid})`
      : "no controller";
    return `DaemonSet ${name} exists but belongs to ${owner}; it is left alone. Delete it, or rename this XdpCounter.`;
  }
  if (live.metadata.deletionTimestamp) {
    return `DaemonSet ${name} is being deleted; the operator recreates it once it is gone.`;
  }
  return undefined;
}

function pickMeta(obj: KubeObject): { resourceVersion?: string; finalizers?: string[] } {
  const out: { resourceVersion?: string; finalizers?: string[] } = {};
  if (obj.metadata.resourceVersion) out.resourceVersion = obj.metadata.resourceVersion;
  if (obj.metadata.finalizers) out.finalizers = obj.metadata.finalizers;
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * An XdpCounter whose spec the schema refuses (the API server checks patterns and enums, but not every zod
 * refinement, and a CRD may be older than the operator): write condition InvalidSpec naming the fields, keep
 * the DaemonSet as it was, and still let a deletion finish.
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
      daemonSetFound: deps.read.getDaemonSet(daemonSetName(name)) !== undefined,
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
  delete (next as { nodes?: unknown }).nodes;
  const patch = statusPatch(prev, next);
  let resourceVersion = raw.metadata.resourceVersion;
  if (patch) {
    const updated = await deps.write.patchXdpCounterStatus(name, patch);
    resourceVersion = updated.metadata.resourceVersion ?? resourceVersion;
    for (const event of conditionEvents(prevConditions, conditions))
      deps.events.emit(regardingOf(raw), event);
  }
  if (deleting && finalizers.includes(FINALIZER)) {
    // Without a usable spec no clean-mode DaemonSet can be rendered: wait for entries that are not Clean on
    // nodes that still exist, as canRemoveFinalizer would with every node selected.
    const existing = new Set(deps.read.listNodes().map((n) => n.metadata.name));
    const entries = isRecord(raw.status) && isRecord(raw.status.nodes) ? raw.status.nodes : {};
    const waitingFor = Object.entries(entries)
      .filter(([node, entry]) => existing.has(node) && !(isRecord(entry) && entry.phase === "Clean"))
      .map(([node]) => node)
      .sort();
    if (waitingFor.length > 0) {
      return { outcome: ReconcileOutcome.WaitingForClean, waitingFor, wroteStatus: patch !== null };
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
