// An informer of one resource: list, then watch from the list's resourceVersion, keeping a cache and telling
// handlers what was added, updated and deleted. It asks for bookmarks (so a resume starts from a recent
// resourceVersion), resumes a broken watch after a backoff, lists afresh when the server says 410 Gone,
// re-delivers every cached object to the handlers each resync period, and reports what happens as named
// events (connect, relist, bookmark, disconnect, gone, resync, give-up) for logs and tests.

import { messageOf, RuntimeError, RuntimeErrorCode } from "../errors.ts";
import { type BackoffOptions, backoffDelay } from "./backoff.ts";
import { type KubeClient, type KubeObject, objectKey, type Query, type WatchEvent } from "./kube-types.ts";

export type InformerEventName =
  | "connect"
  | "relist"
  | "bookmark"
  | "disconnect"
  | "gone"
  | "resync"
  | "give-up";

export type InformerEvent = {
  informer: string;
  type: InformerEventName;
  resourceVersion?: string;
  /** relist: why (initial, gone, error); disconnect and give-up: what broke. */
  reason?: string;
  /** relist: how many objects the list returned. */
  items?: number;
  /** disconnect: how many failures in a row, and the delay before the next try. */
  attempt?: number;
  delayMs?: number;
};

/** The log level of an informer event: give-up an error, a broken or expired watch a warning, a (re)connect
 * or relist info, the rest (bookmarks, resyncs) debug. */
export function informerEventLevel(type: InformerEventName): "error" | "warn" | "info" | "debug" {
  if (type === "give-up") return "error";
  if (type === "disconnect" || type === "gone") return "warn";
  if (type === "connect" || type === "relist") return "info";
  return "debug";
}

export type InformerHandlers = {
  onAdd?(obj: KubeObject): void;
  onUpdate?(old: KubeObject, obj: KubeObject): void;
  onDelete?(obj: KubeObject): void;
};

export type InformerOptions = {
  name: string;
  client: KubeClient;
  /** The collection path, e.g. /api/v1/nodes. */
  path: string;
  labelSelector?: string;
  /** e.g. metadata.name=node-1: one object, watched without the events of its siblings */
  fieldSelector?: string;
  /** How often every cached object is re-delivered to onUpdate (0: never). */
  resyncMs?: number;
  /** The server-side timeout asked for each watch, in seconds; a new watch resumes after it. */
  watchTimeoutSeconds?: number;
  backoff?: BackoffOptions;
  /** Failures in a row (list or watch) after which the informer stops and reports give-up. */
  maxFailures?: number;
  /**
   * What to keep of each object (applied before caching and before handlers see it): a cache of thousands
   * of objects of which a few fields matter should hold only those fields.
   */
  transform?: (obj: KubeObject) => KubeObject;
  /**
   * Objects per page of a list (`limit`, then `continue`), each transformed before the next is read: a list
   * of thousands of Nodes is tens of megabytes at once. Default 500, as client-go's reflector pages.
   */
  pageSize?: number;
};

const DEFAULT_PAGE_SIZE = 500;

const DEFAULT_INFORMER_BACKOFF: BackoffOptions = { baseMs: 200, maxMs: 30_000, jitter: 0.2 };

export class Informer {
  readonly name: string;
  #options: InformerOptions;
  #cache = new Map<string, KubeObject>();
  #handlers: InformerHandlers[] = [];
  #listeners: ((event: InformerEvent) => void)[] = [];
  #resourceVersion = "";
  #synced = false;
  #syncWaiters: (() => void)[] = [];
  #abort = new AbortController();
  #running: Promise<void> | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;
  #gaveUp = false;

  constructor(options: InformerOptions) {
    this.name = options.name;
    this.#options = options;
  }

  addHandlers(handlers: InformerHandlers): void {
    this.#handlers.push(handlers);
  }

  onEvent(listener: (event: InformerEvent) => void): void {
    this.#listeners.push(listener);
  }

  get hasSynced(): boolean {
    return this.#synced;
  }

  get gaveUp(): boolean {
    return this.#gaveUp;
  }

  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  /** Resolves after the first list has filled the cache. */
  waitForSync(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  get(key: string): KubeObject | undefined {
    return this.#cache.get(key);
  }

  list(): KubeObject[] {
    return [...this.#cache.values()];
  }

  start(): void {
    if (this.#running) return;
    this.#running = this.#run();
    const resyncMs = this.#options.resyncMs ?? 0;
    if (resyncMs > 0) {
      this.#resyncTimer = setInterval(() => this.#resync(), resyncMs);
      this.#resyncTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    if (this.#resyncTimer) clearInterval(this.#resyncTimer);
    await this.#running;
  }

  #emit(event: Omit<InformerEvent, "informer">): void {
    for (const listener of this.#listeners) listener({ informer: this.name, ...event });
  }

  #resync(): void {
    if (!this.#synced) return;
    this.#emit({ type: "resync", resourceVersion: this.#resourceVersion });
    for (const obj of this.#cache.values()) for (const h of this.#handlers) h.onUpdate?.(obj, obj);
  }

  #selector(): Query {
    const { labelSelector, fieldSelector } = this.#options;
    return { ...(labelSelector ? { labelSelector } : {}), ...(fieldSelector ? { fieldSelector } : {}) };
  }

  async #list(reason: string): Promise<void> {
    const transform = this.#options.transform;
    const limit = this.#options.pageSize ?? DEFAULT_PAGE_SIZE;
    // every page before any handler runs: a list that fails halfway changes nothing
    const items: KubeObject[] = [];
    let resourceVersion = "";
    let next: string | undefined;
    do {
      const page = await this.#options.client.list(this.#options.path, {
        ...this.#selector(),
        limit,
        ...(next ? { continue: next } : {}),
      });
      for (const raw of page.items) items.push(transform ? transform(raw) : raw);
      resourceVersion = page.resourceVersion;
      next = page.continue;
    } while (next);
    const seen = new Set<string>();
    for (const item of items) {
      const key = objectKey(item.metadata);
      seen.add(key);
      this.#upsert(key, item);
    }
    for (const [key, old] of this.#cache) {
      if (!seen.has(key)) {
        this.#cache.delete(key);
        for (const h of this.#handlers) h.onDelete?.(old);
      }
    }
    this.#resourceVersion = resourceVersion;
    this.#emit({ type: "relist", reason, items: items.length, resourceVersion });
    if (!this.#synced) {
      this.#synced = true;
      for (const resolve of this.#syncWaiters.splice(0)) resolve();
    }
  }

  #upsert(key: string, obj: KubeObject): void {
    const old = this.#cache.get(key);
    this.#cache.set(key, obj);
    if (!old) for (const h of this.#handlers) h.onAdd?.(obj);
    else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion)
      for (const h of this.#handlers) h.onUpdate?.(old, obj);
  }

  #handle(event: WatchEvent): void {
    const transform = this.#options.transform;
    const obj =
      transform && (event.type === "ADDED" || event.type === "MODIFIED" || event.type === "DELETED")
        ? transform(event.object)
        : event.object;
    switch (event.type) {
      case "ADDED":
      case "MODIFIED":
        this.#upsert(objectKey(obj.metadata), obj);
        break;
      case "DELETED": {
        const key = objectKey(obj.metadata);
        const old = this.#cache.get(key);
        this.#cache.delete(key);
        for (const h of this.#handlers) h.onDelete?.(old ?? obj);
        break;
      }
      case "BOOKMARK":
        this.#emit({ type: "bookmark", resourceVersion: obj.metadata.resourceVersion ?? "" });
        break;
      case "ERROR": {
        const status = obj as unknown as { code?: number; message?: string; reason?: string };
        const code = status.code ?? 0;
        throw new RuntimeError(
          code === 410 ? RuntimeErrorCode.WatchExpired : RuntimeErrorCode.ApiStatus,
          `watch ${this.#options.path}: ${code} ${status.reason ?? ""}: ${status.message ?? ""}`,
          { statusCode: code, ...(status.reason ? { reason: status.reason } : {}) },
        );
      }
    }
    if (obj.metadata.resourceVersion) {
      this.#resourceVersion = obj.metadata.resourceVersion;
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.#abort.signal;
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done);
    });
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    const maxFailures = this.#options.maxFailures ?? Number.POSITIVE_INFINITY;
    const backoff = this.#options.backoff ?? DEFAULT_INFORMER_BACKOFF;
    let needList: string | undefined = "initial";
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.#list(needList);
          needList = undefined;
        }
        const timeout = this.#options.watchTimeoutSeconds ?? 300;
        const query: Query = {
          ...this.#selector(),
          resourceVersion: this.#resourceVersion,
          allowWatchBookmarks: true,
          // Spread reconnections of many informers over time, as client-go does.
          timeoutSeconds: Math.round(timeout * (1 + Math.random())),
        };
        const from = this.#resourceVersion;
        await this.#options.client.watch(
          this.#options.path,
          query,
          (event) => this.#handle(event),
          signal,
          () => {
            failures = 0;
            this.#emit({ type: "connect", resourceVersion: from });
          },
        );
        failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof RuntimeError && error.code === RuntimeErrorCode.WatchExpired) {
          // The resourceVersion fell out of the server's history: only a fresh list is consistent.
          this.#emit({ type: "gone", reason: messageOf(error), resourceVersion: this.#resourceVersion });
          needList = "gone";
          continue;
        }
        failures++;
        if (failures >= maxFailures) {
          this.#gaveUp = true;
          this.#emit({ type: "give-up", reason: messageOf(error), attempt: failures });
          return;
        }
        const delayMs = backoffDelay(failures, backoff);
        this.#emit({ type: "disconnect", reason: messageOf(error), attempt: failures, delayMs });
        if (!this.#synced) needList = "initial";
        await this.#sleep(delayMs);
      }
    }
  }
}
