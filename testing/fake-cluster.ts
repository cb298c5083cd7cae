// An in-memory fake of the few API calls reconcile makes, for unit tests: objects in maps, merge patches
// applied with RFC 7386, resourceVersion preconditions, and a log of every write; and the Events reconcile
// emits, recorded in memory.

import { ControllerError, ControllerErrorCode } from "../operator/controller/errors.ts";
import type { EventRegarding, EventSink, OperatorEvent } from "../operator/controller/events.ts";
import type { KubeObject } from "../operator/controller/kube-types.ts";
import type { ReconcileReader, ReconcileWriter } from "../operator/controller/reconcile-api.ts";
import type { DaemonSet } from "../operator/daemonset/index.ts";
import {
  type AgentPod,
  applyMergePatch,
  type Json,
  type JsonObject,
  ownerDaemonSet,
} from "../operator/status/index.ts";

export type FakeWrite =
  | { verb: "patch"; name: string; patch: JsonObject }
  | { verb: "patchStatus"; name: string; patch: JsonObject }
  | { verb: "apply"; name: string; body: DaemonSet }
  | { verb: "deleteDaemonSet"; name: string; uid: string };

export class FakeCluster implements ReconcileReader, ReconcileWriter {
  xdpCounters = new Map<string, KubeObject>();
  daemonSets = new Map<string, KubeObject>();
  nodes = new Map<string, KubeObject>();
  /** Agent pods by node; owned by the DaemonSet named in setAgentPod. */
  agentPods = new Map<string, AgentPod>();
  writes: FakeWrite[] = [];
  #version = 100;

  #bump(): string {
    return String(++this.#version);
  }

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
    return stored;
  }

  addNode(name: string, labels: Record<string, string> = {}, taints: unknown[] = []): void {
    this.nodes.set(name, { metadata: { name, labels, resourceVersion: this.#bump() }, spec: { taints } });
  }

  /** What the DaemonSet controller and the kubelet do: an agent pod of `daemonSet` on `node`, Ready or not. */
  setAgentPod(daemonSet: string, node: string, ready: boolean): void {
    this.agentPods.set(`${daemonSet}/${node}`, {
      metadata: {
        name: `${daemonSet}-${node}`,
        namespace: "xdp-counter",
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

  /** What an agent does: a merge patch on status.nodes.<node>. */
  agentReport(name: string, node: string, entry: JsonObject): void {
    const obj = this.#must(name);
    const status = applyMergePatch((obj.status ?? {}) as Json, { nodes: { [node]: entry } });
    this.xdpCounters.set(name, {
      ...obj,
      status,
      metadata: { ...obj.metadata, resourceVersion: this.#bump() },
    });
  }

  /** What kubectl delete does to an object with finalizers. */
  markDeleted(name: string): void {
    const obj = this.#must(name);
    obj.metadata = {
      ...obj.metadata,
      deletionTimestamp: "2026-11-25T12:00:00Z",
      resourceVersion: this.#bump(),
    };
  }

  #must(name: string): KubeObject {
    const obj = this.xdpCounters.get(name);
    if (!obj)
      throw new ControllerError(ControllerErrorCode.ApiStatus, `${name} not found`, {
        statusCode: 404,
        path: `/apis/xdpcounter.dev/v1alpha1/xdpcounters/${name}`,
      });
    return obj;
  }

  // ReconcileReader
  getXdpCounter(name: string): KubeObject | undefined {
    const obj = this.xdpCounters.get(name);
    return obj ? structuredClone(obj) : undefined;
  }
  getDaemonSet(name: string): KubeObject | undefined {
    return this.daemonSets.get(name);
  }
  listNodes(): KubeObject[] {
    return [...this.nodes.values()];
  }
  listAgentPods(daemonSet: string): AgentPod[] {
    return [...this.agentPods.values()].filter((pod) => ownerDaemonSet(pod) === daemonSet);
  }

  // ReconcileWriter
  async patchXdpCounter(name: string, patch: JsonObject): Promise<KubeObject> {
    this.writes.push({ verb: "patch", name, patch: structuredClone(patch) });
    const obj = this.#must(name);
    const meta = (patch.metadata ?? {}) as { resourceVersion?: string };
    if (meta.resourceVersion && meta.resourceVersion !== obj.metadata.resourceVersion) {
      throw new ControllerError(ControllerErrorCode.ApiStatus, "the object has been modified", {
        statusCode: 409,
        reason: "Conflict",
      });
    }
    const merged = applyMergePatch(obj as unknown as Json, {
      ...patch,
      status: null,
    }) as unknown as KubeObject;
    merged.status = obj.status;
    merged.metadata.resourceVersion = this.#bump();
    if (merged.metadata.deletionTimestamp && (merged.metadata.finalizers ?? []).length === 0) {
      this.xdpCounters.delete(name);
      for (const [dsName, ds] of this.daemonSets)
        if (ds.metadata.ownerReferences?.some((r) => r.uid === obj.metadata.uid))
          this.daemonSets.delete(dsName);
    } else {
      this.xdpCounters.set(name, merged);
    }
    return structuredClone(merged);
  }

  async patchXdpCounterStatus(name: string, patch: JsonObject): Promise<KubeObject> {
    this.writes.push({ verb: "patchStatus", name, patch: structuredClone(patch) });
    const obj = this.#must(name);
    const status = applyMergePatch((obj.status ?? {}) as Json, (patch.status ?? {}) as Json);
    const updated = { ...obj, status, metadata: { ...obj.metadata, resourceVersion: this.#bump() } };
    this.xdpCounters.set(name, updated);
    return structuredClone(updated);
  }

  async applyDaemonSet(ds: DaemonSet): Promise<KubeObject> {
    this.writes.push({ verb: "apply", name: ds.metadata.name, body: structuredClone(ds) });
    const uid = this.daemonSets.get(ds.metadata.name)?.metadata.uid ?? `uid-${ds.metadata.name}`;
    const stored = {
      ...structuredClone(ds),
      metadata: { ...structuredClone(ds.metadata), uid, resourceVersion: this.#bump() },
    };
    this.daemonSets.set(ds.metadata.name, stored as unknown as KubeObject);
    return stored as unknown as KubeObject;
  }

  async deleteDaemonSet(name: string, uid: string): Promise<void> {
    this.writes.push({ verb: "deleteDaemonSet", name, uid });
    const live = this.daemonSets.get(name);
    if (!live) return;
    if (live.metadata.uid !== uid) {
      throw new ControllerError(ControllerErrorCode.ApiStatus, "Precondition failed: UID", {
        statusCode: 409,
        reason: "Conflict",
      });
    }
    this.daemonSets.delete(name);
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
