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

/** The fields of an Event by their events.k8s.io/v1 name and their core/v1 name. */
const FIELDS: readonly (readonly [v1: string, core: string])[] = [
  ["regarding", "involvedObject"],
  ["related", "related"],
  ["note", "message"],
  ["reason", "reason"],
  ["type", "type"],
  ["action", "action"],
  ["eventTime", "eventTime"],
  ["reportingController", "reportingComponent"],
  ["reportingInstance", "reportingInstance"],
  ["deprecatedSource", "source"],
  ["deprecatedFirstTimestamp", "firstTimestamp"],
  ["deprecatedLastTimestamp", "lastTimestamp"],
  ["deprecatedCount", "count"],
];

function convert(obj: KubeObject, apiVersion: string, toCore: boolean): KubeObject {
  const e = obj as unknown as Obj;
  const out: Obj = { apiVersion, kind: "Event", metadata: obj.metadata };
  for (const [v1, core] of FIELDS) {
    if (toCore) move(e, v1, out, core);
    else move(e, core, out, v1);
  }
  // series has the same shape in both
  if (isObject(e.series)) {
    const series: Obj = {};
    move(e.series, "count", series, "count");
    move(e.series, "lastObservedTime", series, "lastObservedTime");
    out.series = series;
  }
  return out as unknown as KubeObject;
}

/** events.k8s.io/v1 → core/v1 (k8s.io/kubernetes pkg/apis/events/v1 conversion). */
export function toCoreEvent(obj: KubeObject): KubeObject {
  return convert(obj, "v1", true);
}

/** core/v1 → events.k8s.io/v1. */
export function toEventsV1(obj: KubeObject): KubeObject {
  return convert(obj, "events.k8s.io/v1", false);
}
