// core/v1 Event and events.k8s.io/v1 Event are one resource in two shapes, as in the API server: stored in
// the core shape, converted on the way in and out of events.k8s.io/v1.
import { isObject, type KubeObject, type ResourceInfo } from "./types.ts";

export function isEventsV1(ri: ResourceInfo): boolean {
  return ri.group === "events.k8s.io" && ri.kind === "Event";
}

type Obj = Record<string, unknown>;

function move(from: Obj, fromKey: string, to: Obj, toKey: string): void {
  if (from[fromKey] !== undefined) to[toKey] = from[fromKey];
}

/** events.k8s.io/v1 → core/v1 (k8s.io/kubernetes pkg/apis/events/v1 conversion). */
export function toCoreEvent(obj: KubeObject): KubeObject {
  const e = obj as unknown as Obj;
  const out: Obj = { apiVersion: "v1", kind: "Event", metadata: obj.metadata };
  move(e, "regarding", out, "involvedObject");
  move(e, "related", out, "related");
  move(e, "note", out, "message");
  move(e, "reason", out, "reason");
  move(e, "type", out, "type");
  move(e, "action", out, "action");
  move(e, "eventTime", out, "eventTime");
  move(e, "reportingController", out, "reportingComponent");
  move(e, "reportingInstance", out, "reportingInstance");
  move(e, "deprecatedSource", out, "source");
  move(e, "deprecatedFirstTimestamp", out, "firstTimestamp");
  move(e, "deprecatedLastTimestamp", out, "lastTimestamp");
  move(e, "deprecatedCount", out, "count");
  if (isObject(e.series)) {
    const series: Obj = {};
    move(e.series, "count", series, "count");
    move(e.series, "lastObservedTime", series, "lastObservedTime");
    out.series = series;
  }
  return out as unknown as KubeObject;
}

/** core/v1 → events.k8s.io/v1. */
export function toEventsV1(obj: KubeObject): KubeObject {
  const e = obj as unknown as Obj;
  const out: Obj = { apiVersion: "events.k8s.io/v1", kind: "Event", metadata: obj.metadata };
  move(e, "involvedObject", out, "regarding");
  move(e, "related", out, "related");
  move(e, "message", out, "note");
  move(e, "reason", out, "reason");
  move(e, "type", out, "type");
  move(e, "action", out, "action");
  move(e, "eventTime", out, "eventTime");
  move(e, "reportingComponent", out, "reportingController");
  move(e, "reportingInstance", out, "reportingInstance");
  move(e, "source", out, "deprecatedSource");
  move(e, "firstTimestamp", out, "deprecatedFirstTimestamp");
  move(e, "lastTimestamp", out, "deprecatedLastTimestamp");
  move(e, "count", out, "deprecatedCount");
  if (isObject(e.series)) {
    const series: Obj = {};
    move(e.series, "count", series, "count");
    move(e.series, "lastObservedTime", series, "lastObservedTime");
    out.series = series;
  }
  return out as unknown as KubeObject;
}
