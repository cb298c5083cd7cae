// Kubernetes Events about XdpCounters (events.k8s.io/v1), as client-go's event recorder writes them, so that
// `kubectl describe xdpcounter NAME` shows what the operator did and why:
// - an XdpCounter is cluster-scoped, so its Events go to namespace `default` (where kubectl, listing Events
//   of every namespace by involvedObject fields, finds them);
// - the same (object, type, reason, action, note) again within the series window updates the existing
//   Event's `series` (count, lastObservedTime) with a merge patch instead of creating a new Event;
// - writes per object are capped by a token bucket, so a flapping condition cannot flood the API server
//   (occurrences meanwhile are still counted, and the next allowed patch carries the count);
// - `emit` never waits and never throws: writes run in the background, one at a time, and a failure is a
//   log line, never a failed or slower reconcile.

import { isStatus, messageOf } from "../../runtime/errors.ts";
import type { Logger } from "../../runtime/index.ts";
import type { KubeClient } from "../../runtime/kube/kube-types.ts";
import { eventsPath } from "../../runtime/kube/paths.ts";

export const REPORTING_CONTROLLER = "xdpcounter.dev/operator";
/** Where Events about cluster-scoped objects go (client-go does the same). */
export const EVENTS_NAMESPACE = "default";
/** The API server refuses a longer note. */
export const MAX_NOTE_BYTES = 1024;

export type EventType = "Normal" | "Warning";

/** The object an Event is about (events.k8s.io/v1 `regarding`). */
export type EventRegarding = {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
};

export type OperatorEvent = {
  type: EventType;
  /** CamelCase: why (DaemonSetCreated, InvalidSpec, ...). */
  reason: string;
  /** CamelCase: what the operator did or was doing (Create, Reconcile, ...). */
  action: string;
  /** For a person; cut to 1 KiB. */
  note: string;
};

/** Where reconcile sends the Events it decides on. */
export type EventSink = {
  emit(regarding: EventRegarding, event: OperatorEvent): void;
};

export type EventRecorderOptions = {
  client: Pick<KubeClient, "create" | "patch">;
  /** This replica's identity (the pod name, as in the leader election Lease). */
  reportingInstance: string;
  log: Logger;
  namespace?: string;
  now?: () => Date;
  /** An occurrence within this long of the previous one joins its series (default 10 min). */
  seriesWindowMs?: number;
  /** Writes an object may make at once (default 25, as client-go)... */
  burst?: number;
  /** ...and one more every refillMs (default 5 min). */
  refillMs?: number;
  /** Writes waiting beyond this are dropped (default 100). */
  maxPending?: number;
};

type Series = {
  key: string;
  name: string;
  regarding: EventRegarding;
  event: OperatorEvent;
  eventTime: string;
  count: number;
  lastObserved: Date;
  /** The count the API server has. */
  written: number;
};

const MAX_CACHED = 4096;

/** MicroTime as the API server writes it: `2026-11-25T12:00:30.123000Z`. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/** Cuts `note` to at most MAX_NOTE_BYTES bytes of UTF-8, marking the cut. */
export function truncateNote(note: string): string {
  if (Buffer.byteLength(note) <= MAX_NOTE_BYTES) return note;
  let cut = note;
  while (Buffer.byteLength(`${cut}…`) > MAX_NOTE_BYTES) cut = cut.slice(0, Math.max(0, cut.length - 16));
  return `${cut}…`;
}

/** A token bucket: `burst` tokens, one back every `refillMs`. */
export class TokenBucket {
  #tokens: number;
  #last: number;
  readonly #burst: number;
  readonly #refillMs: number;

  constructor(burst: number, refillMs: number, nowMs: number) {
    this.#burst = burst;
    this.#refillMs = refillMs;
    this.#tokens = burst;
    this.#last = nowMs;
  }

  take(nowMs: number): boolean {
    const regained = (nowMs - this.#last) / this.#refillMs;
    if (regained > 0) {
      this.#tokens = Math.min(this.#burst, this.#tokens + regained);
      this.#last = nowMs;
    }
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

export class EventRecorder implements EventSink {
  readonly #options: Required<Omit<EventRecorderOptions, "client" | "log" | "reportingInstance">>;
  readonly #client: EventRecorderOptions["client"];
  readonly #log: Logger;
  readonly #instance: string;
  readonly #series = new Map<string, Series>();
  readonly #buckets = new Map<string, TokenBucket>();
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;
  #sequence = 0;

  constructor(options: EventRecorderOptions) {
    this.#client = options.client;
    this.#log = options.log;
    this.#instance = options.reportingInstance;
    this.#options = {
      namespace: options.namespace ?? EVENTS_NAMESPACE,
      now: options.now ?? (() => new Date()),
      seriesWindowMs: options.seriesWindowMs ?? 600_000,
      burst: options.burst ?? 25,
      refillMs: options.refillMs ?? 300_000,
      maxPending: options.maxPending ?? 100,
    };
  }

  emit(regarding: EventRegarding, input: OperatorEvent): void {
    try {
      this.#emit(regarding, { ...input, note: truncateNote(input.note) });
    } catch (error) {
      this.#log.warn("event not recorded", { reason: input.reason, error: messageOf(error) });
    }
  }

  /** Resolves once every write queued so far has finished (tests, shutdown). */
  flush(): Promise<void> {
    return this.#tail;
  }

  #emit(regarding: EventRegarding, event: OperatorEvent): void {
    const now = this.#options.now();
    const object = regarding.uid ?? `${regarding.kind}/${regarding.namespace ?? ""}/${regarding.name}`;
    const key = JSON.stringify([object, event.type, event.reason, event.action, event.note]);
    const previous = this.#series.get(key);
    const fields = { xdpcounter: regarding.name, reason: event.reason };
    if (previous && now.getTime() - previous.lastObserved.getTime() <= this.#options.seriesWindowMs) {
      previous.count += 1;
      previous.lastObserved = now;
      this.#touch(key, previous);
      if (!this.#allow(object, now)) {
        this.#log.debug("event rate-limited; counted in its series", { ...fields, count: previous.count });
        return;
      }
      this.#enqueue(() => this.#writeSeries(previous), fields);
      return;
    }
    if (!this.#allow(object, now)) {
      this.#log.debug("event rate-limited; dropped", fields);
      return;
    }
    const series: Series = {
      key,
      name: this.#eventName(regarding.name, now),
      regarding,
      event,
      eventTime: microTime(now),
      count: 1,
      lastObserved: now,
      written: 0,
    };
    this.#touch(key, series);
    this.#enqueue(() => this.#create(series), fields);
  }

  #allow(object: string, now: Date): boolean {
    let bucket = this.#buckets.get(object);
    if (!bucket) {
      bucket = new TokenBucket(this.#options.burst, this.#options.refillMs, now.getTime());
      this.#buckets.set(object, bucket);
      if (this.#buckets.size > MAX_CACHED) this.#buckets.delete(this.#buckets.keys().next().value as string);
    }
    return bucket.take(now.getTime());
  }

  /** Most recently used last; the oldest go beyond MAX_CACHED. */
  #touch(key: string, series: Series): void {
    this.#series.delete(key);
    this.#series.set(key, series);
    if (this.#series.size > MAX_CACHED) this.#series.delete(this.#series.keys().next().value as string);
  }

  #eventName(name: string, now: Date): string {
    // client-go: <name>.<unix nanoseconds in hex>; the sequence keeps two Events of one millisecond apart.
    const nanos = BigInt(now.getTime()) * 1_000_000n + BigInt(this.#sequence++ % 1_000_000);
    return `${name}.${nanos.toString(16)}`;
  }

  #enqueue(write: () => Promise<void>, fields: Record<string, unknown>): void {
    if (this.#pending >= this.#options.maxPending) {
      this.#log.warn("event dropped: too many event writes waiting", fields);
      return;
    }
    this.#pending++;
    this.#tail = this.#tail.then(async () => {
      try {
        await write();
      } catch (error) {
        this.#log.warn("event write failed", { ...fields, error: messageOf(error) });
      } finally {
        this.#pending--;
      }
    });
  }

  #body(series: Series): Record<string, unknown> {
    const { event } = series;
    return {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name: series.name, namespace: this.#options.namespace },
      eventTime: series.eventTime,
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: this.#instance,
      action: event.action,
      reason: event.reason,
      regarding: series.regarding,
      note: event.note,
      type: event.type,
      ...(series.count > 1 ? { series: this.#seriesField(series) } : {}),
    };
  }

  #seriesField(series: Series): { count: number; lastObservedTime: string } {
    return { count: series.count, lastObservedTime: microTime(series.lastObserved) };
  }

  async #create(series: Series): Promise<void> {
    const count = series.count;
    try {
      await this.#client.create(eventsPath(this.#options.namespace), this.#body(series));
      series.written = count;
    } catch (error) {
      // The next occurrence starts afresh.
      if (this.#series.get(series.key) === series) this.#series.delete(series.key);
      throw error;
    }
  }

  async #writeSeries(series: Series): Promise<void> {
    if (series.written === 0) {
      // Its create failed or has not been made: make it now, with the series so far.
      series.name = this.#eventName(series.regarding.name, series.lastObserved);
      await this.#create(series);
      return;
    }
    if (series.written >= series.count) return;
    const count = series.count;
    const path = eventsPath(this.#options.namespace, series.name);
    try {
      await this.#client.patch(path, { series: this.#seriesField(series) }, "merge");
      series.written = count;
    } catch (error) {
      // Deleted meanwhile (Events expire): create it again, with the count so far.
      if (!isStatus(error, 404)) throw error;
      series.name = this.#eventName(series.regarding.name, series.lastObserved);
      await this.#create(series);
    }
  }
}
