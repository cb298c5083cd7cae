// An in-memory fake of the few API calls reconcile makes (ReconcileReader and ReconcileWriter), for unit tests:
// the XdpCounters, the nodes, the one agent DaemonSet, the agents' ConfigMap, the agent pods and the reports in
// maps; merge patches applied with RFC 7386; resourceVersion and uid preconditions; an XdpCounter deleted once it
// is being deleted and has no finalizer left; a log of every write. And the Events reconcile emits, in memory.

import { XDPCOUNTER_LABEL, type XdpCounterReport } from "../api/v1alpha1/index.ts";
import type { EventRegarding, EventSink, OperatorEvent } from "../operator/controller/events.ts";
import type {
  ReconcileReader,
  ReconcileWriter,
  SpecsConfigMap,
} from "../operator/controller/reconcile-api.ts";
import { AGENT_NODE_LABEL, type DaemonSet } from "../operator/daemonset/index.ts";
import { type AgentPod, applyMergePatch, type Json, type JsonObject } from "../operator/status/index.ts";
import { RuntimeError, RuntimeErrorCode } from "../runtime/errors.ts";
import type { KubeObject } from "../runtime/kube/kube-types.ts";
import { nodesPath, reportsPath, xdpCountersPath } from "../runtime/kube/paths.ts";

export type FakeWrite =
  | { verb: "patch"; name: string; patch: JsonObject }
  | { verb: "patchStatus"; name: string; patch: JsonObject }
  | { verb: "applyDaemonSet"; name: string; body: DaemonSet }
  | { verb: "applyConfigMap"; name: string; body: SpecsConfigMap }
  | { verb: "labelNode"; name: string; value: string | null }
  | { verb: "deleteReport"; name: string; uid: string | undefined };

export type FakeVerb = FakeWrite["verb"];

/** The agent DaemonSet's name in the operator's default configuration. */
export const FAKE_AGENT_DAEMONSET = "xdp-counter-agent";

function apiStatus(statusCode: 404 | 409, reason: string, message: string, path: string): RuntimeError {
  return new RuntimeError(RuntimeErrorCode.ApiStatus, message, { statusCode, reason, path });
}

export class FakeCluster implements ReconcileReader, ReconcileWriter {
  xdpCounters = new Map<string, KubeObject>();
  nodes = new Map<string, KubeObject>();
  /** The one agent DaemonSet, once applied. */
  daemonSet: KubeObject | undefined;
  /** The agents' ConfigMap of specs, once applied. */
  configMap: KubeObject | undefined;
  /** Agent pods by node. */
  agentPods = new Map<string, AgentPod>();
  /** Reports by name. */
  reports = new Map<string, XdpCounterReport>();
  writes: FakeWrite[] = [];
  #version = 100;
  #uid = 0;

  #bump(): string {
    return String(++this.#version);
  }

  // ---- what users, the kubelet, the DaemonSet controller and the agents do ----

  addXdpCounter(
    obj: Omit<KubeObject, "metadata"> & { metadata: Partial<KubeObject["metadata"]> & { name: string } },
  ): KubeObject {
    const stored = structuredClone({
      apiVersion: "xdpcounter.dev/v1alpha1",
      kind: "XdpCounter",
      ...obj,
      metadata: {
        uid: `uid-${obj.metadata.name}`,
        generation: 1,
        ...obj.metadata,
        resourceVersion: this.#bump(),
      },
    }) as KubeObject;
    this.xdpCounters.set(stored.metadata.name, stored);
    return structuredClone(stored);
  }

  /** What `kubectl edit` of the spec does: a new spec, a new generation. */
  setSpec(name: string, spec: unknown): void {
    const obj = this.#mustXdpCounter(name);
    obj.spec = structuredClone(spec);
    obj.metadata.generation = (obj.metadata.generation ?? 0) + 1;
    obj.metadata.resourceVersion = this.#bump();
  }

  /** What kubectl delete does to an object with finalizers (and without: it is gone). */
  markDeleted(name: string, at = "2026-12-03T12:00:00Z"): void {
    const obj = this.#mustXdpCounter(name);
    if ((obj.metadata.finalizers ?? []).length === 0) {
      this.xdpCounters.delete(name);
      return;
    }
    obj.metadata.deletionTimestamp = at;
    obj.metadata.resourceVersion = this.#bump();
  }

  addNode(name: string, labels: Record<string, string> = {}, taints: unknown[] = []): void {
    this.nodes.set(name, {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name, labels: { ...labels }, resourceVersion: this.#bump() },
      spec: { taints },
    });
  }

  /** The node's labels (undefined for a missing node). */
  labelsOf(node: string): Record<string, string> | undefined {
    return this.nodes.get(node)?.metadata.labels;
  }

  /** What the DaemonSet controller and the kubelet do: an agent pod on `node`, Ready or not. */
  setAgentPod(node: string, ready: boolean, daemonSet = FAKE_AGENT_DAEMONSET): void {
    this.agentPods.set(node, {
      metadata: {
        name: `${daemonSet}-${node}`,
        namespace: "xdp",
        uid: `uid-pod-${node}`,
        resourceVersion: this.#bump(),
        ownerReferences: [
          {
            apiVersion: "apps/v1",
            kind: "DaemonSet",
            name: daemonSet,
            uid: `uid-${daemonSet}`,
            controller: true,
          },
        ],
      },
      spec: { nodeName: node },
      status: { conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
    });
  }

  /** What an agent does: writes its node's report (server-side apply); the fake gives it a uid once. */
  putReport(report: XdpCounterReport): XdpCounterReport {
    const name = report.metadata.name;
    const uid = report.metadata.uid ?? this.reports.get(name)?.metadata.uid ?? `uid-report-${++this.#uid}`;
    const stored = structuredClone({
      ...report,
      metadata: {
        ...report.metadata,
        labels: { [XDPCOUNTER_LABEL]: report.xdpCounter.name, ...report.metadata.labels },
        uid,
        resourceVersion: this.#bump(),
      },
    });
    this.reports.set(name, stored);
    return structuredClone(stored);
  }

  /** What an agent does once it has detached and unpinned. */
  removeReport(name: string): void {
    this.reports.delete(name);
  }

  /** The writes so far by verb, then forgets them. */
  takeWrites(): FakeVerb[] {
    const verbs = this.writes.map((w) => w.verb);
    this.writes = [];
    return verbs;
  }

  /** A reader over this cluster with some answers replaced: a cache that lags behind the API server. */
  reader(overrides: Partial<ReconcileReader> = {}): ReconcileReader {
    return {
      getXdpCounter: (name) => this.getXdpCounter(name),
      listXdpCounters: () => this.listXdpCounters(),
      getDaemonSet: () => this.getDaemonSet(),
      getConfigMap: () => this.getConfigMap(),
      listNodes: () => this.listNodes(),
      listAgentPods: () => this.listAgentPods(),
      listReports: (xdpCounter) => this.listReports(xdpCounter),
      ...overrides,
    };
  }

  /** A writer to this cluster with some calls replaced: to fail one of them, say. */
  writer(overrides: Partial<ReconcileWriter> = {}): ReconcileWriter {
    return {
      patchXdpCounter: (name, patch) => this.patchXdpCounter(name, patch),
      patchXdpCounterStatus: (name, patch) => this.patchXdpCounterStatus(name, patch),
      applyDaemonSet: (ds) => this.applyDaemonSet(ds),
      applyConfigMap: (cm) => this.applyConfigMap(cm),
      labelNode: (node, value) => this.labelNode(node, value),
      deleteReport: (name, uid) => this.deleteReport(name, uid),
      ...overrides,
    };
  }

  #mustXdpCounter(name: string, subresource?: "status"): KubeObject {
    const obj = this.xdpCounters.get(name);
    if (!obj) {
      throw apiStatus(404, "NotFound", `xdpcounters "${name}" not found`, xdpCountersPath(name, subresource));
    }
    return obj;
  }

  #precondition(obj: KubeObject, patch: JsonObject, path: string): void {
    const wanted = (patch.metadata as { resourceVersion?: unknown } | undefined)?.resourceVersion;
    if (wanted !== undefined && wanted !== obj.metadata.resourceVersion) {
      throw apiStatus(
        409,
        "Conflict",
        `Operation cannot be fulfilled on xdpcounters "${obj.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
        path,
      );
    }
  }

  // ---- ReconcileReader ----

  getXdpCounter(name: string): KubeObject | undefined {
    const obj = this.xdpCounters.get(name);
    return obj ? structuredClone(obj) : undefined;
  }
  listXdpCounters(): KubeObject[] {
    return [...this.xdpCounters.values()].map((x) => structuredClone(x));
  }
  getDaemonSet(): KubeObject | undefined {
    return this.daemonSet ? structuredClone(this.daemonSet) : undefined;
  }
  getConfigMap(): KubeObject | undefined {
    return this.configMap ? structuredClone(this.configMap) : undefined;
  }
  listNodes(): KubeObject[] {
    return [...this.nodes.values()].map((n) => structuredClone(n));
  }
  listAgentPods(): AgentPod[] {
    return [...this.agentPods.values()].map((p) => structuredClone(p));
  }
  listReports(xdpCounter?: string): XdpCounterReport[] {
    return [...this.reports.values()]
      .filter((r) => xdpCounter === undefined || r.metadata.labels?.[XDPCOUNTER_LABEL] === xdpCounter)
      .map((r) => structuredClone(r));
  }

  // ---- ReconcileWriter ----

  async patchXdpCounter(name: string, patch: JsonObject): Promise<KubeObject> {
    this.writes.push({ verb: "patch", name, patch: structuredClone(patch) });
    const obj = this.#mustXdpCounter(name);
    this.#precondition(obj, patch, xdpCountersPath(name));
    // The main resource ignores status; uid, deletionTimestamp and generation are the server's.
    const { status: _ignored, ...rest } = patch;
    const merged = applyMergePatch(obj as unknown as Json, rest) as unknown as KubeObject;
    merged.status = obj.status;
    merged.metadata.uid = obj.metadata.uid;
    merged.metadata.deletionTimestamp = obj.metadata.deletionTimestamp;
    if (merged.metadata.deletionTimestamp === undefined) delete merged.metadata.deletionTimestamp;
    merged.metadata.generation = obj.metadata.generation;
    if (JSON.stringify(merged.spec) !== JSON.stringify(obj.spec))
      merged.metadata.generation = (obj.metadata.generation ?? 0) + 1;
    merged.metadata.resourceVersion = this.#bump();
    if (merged.metadata.deletionTimestamp && (merged.metadata.finalizers ?? []).length === 0) {
      this.xdpCounters.delete(name);
    } else {
      this.xdpCounters.set(name, merged);
    }
    return structuredClone(merged);
  }

  async patchXdpCounterStatus(name: string, patch: JsonObject): Promise<KubeObject> {
    this.writes.push({ verb: "patchStatus", name, patch: structuredClone(patch) });
    const obj = this.#mustXdpCounter(name, "status");
    this.#precondition(obj, patch, xdpCountersPath(name, "status"));
    // The status subresource takes status only.
    const status = applyMergePatch((obj.status ?? {}) as Json, (patch.status ?? {}) as Json);
    obj.status = status;
    obj.metadata.resourceVersion = this.#bump();
    return structuredClone(obj);
  }

  async applyDaemonSet(ds: DaemonSet): Promise<KubeObject> {
    this.writes.push({ verb: "applyDaemonSet", name: ds.metadata.name, body: structuredClone(ds) });
    const uid = this.daemonSet?.metadata.uid ?? `uid-${ds.metadata.name}`;
    const body = structuredClone(ds) as unknown as KubeObject;
    this.daemonSet = { ...body, metadata: { ...body.metadata, uid, resourceVersion: this.#bump() } };
    return structuredClone(this.daemonSet);
  }

  async applyConfigMap(cm: SpecsConfigMap): Promise<KubeObject> {
    this.writes.push({ verb: "applyConfigMap", name: cm.metadata.name, body: structuredClone(cm) });
    const uid = this.configMap?.metadata.uid ?? `uid-${cm.metadata.name}`;
    const body = structuredClone(cm) as unknown as KubeObject;
    this.configMap = { ...body, metadata: { ...body.metadata, uid, resourceVersion: this.#bump() } };
    return structuredClone(this.configMap);
  }

  async labelNode(node: string, value: string | null): Promise<void> {
    this.writes.push({ verb: "labelNode", name: node, value });
    const obj = this.nodes.get(node);
    if (!obj) throw apiStatus(404, "NotFound", `nodes "${node}" not found`, nodesPath(node));
    const labels = { ...obj.metadata.labels };
    if (value === null) delete labels[AGENT_NODE_LABEL];
    else labels[AGENT_NODE_LABEL] = value;
    obj.metadata.labels = labels;
    obj.metadata.resourceVersion = this.#bump();
  }

  async deleteReport(name: string, uid?: string): Promise<void> {
    this.writes.push({ verb: "deleteReport", name, uid });
    const live = this.reports.get(name);
    if (!live) return;
    if (uid !== undefined && live.metadata.uid !== uid) {
      throw apiStatus(
        409,
        "Conflict",
        `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${live.metadata.uid}`,
        reportsPath(name),
      );
    }
    this.reports.delete(name);
  }
}

/** Records Events in memory (unit tests). */
export class FakeEventSink implements EventSink {
  events: (OperatorEvent & { regarding: EventRegarding })[] = [];
  emit(regarding: EventRegarding, event: OperatorEvent): void {
    this.events.push({ ...event, regarding: structuredClone(regarding) });
  }
  /** `Type/Reason` of each Event so far, then forgets them. */
  take(): string[] {
    const out = this.events.map((e) => `${e.type}/${e.reason}`);
    this.events = [];
    return out;
  }
}
