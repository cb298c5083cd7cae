// Watch streams: newline-delimited JSON events over a chunked response, resumable from a resourceVersion,
// with bookmarks, timeouts, selectors and 410 Gone for versions that left the history window.
import type { ServerResponse } from "node:http";
import type { Api, ListOptions } from "./api.ts";
import { ApiError } from "./errors.ts";
import type { StoreEvent } from "./store.ts";
import { toTable } from "./table.ts";
import { apiVersionOf, type KubeObject, type ResourceInfo, storageKey } from "./types.ts";

export interface WatchRequest {
  ri: ResourceInfo;
  namespace: string | undefined;
  list: ListOptions;
  resourceVersion: string | undefined;
  allowBookmarks: boolean;
  sendInitialEvents: boolean;
  timeoutSeconds: number | undefined;
  asTable: boolean;
}

export interface WatchSettings {
  bookmarkIntervalMs: number;
}

/** Open watches, so the server can end them all when it stops. */
export class Watches {
  #open = new Map<() => void, string>();

  /** Registers a watch of a storage key; returns the function that forgets it. */
  add(key: string, close: () => void): () => void {
    this.#open.set(close, key);
    return () => this.#open.delete(close);
  }

  /** Ends the watches of a resource that is no longer served (its CRD was deleted). */
  closeKey(key: string): void {
    for (const [close, k] of [...this.#open]) if (k === key) close();
  }

  closeAll(): void {
    for (const close of [...this.#open.keys()]) close();
  }
}

export function serveWatch(
  api: Api,
  req: WatchRequest,
  res: ServerResponse,
  settings: WatchSettings,
  watches: Watches,
): void {
  const { ri, namespace } = req;
  const key = storageKey(ri);
  res.writeHead(200, {
    "Content-Type": "application/json",
    "Transfer-Encoding": "chunked",
    "Cache-Control": "no-cache",
  });
  res.flushHeaders();

  const send = (type: string, object: unknown) => {
    if (!res.writableEnded) res.write(`${JSON.stringify({ type, object })}\n`);
  };
  /** An object's event: its JSON as served is made once per change, for every watcher and the write's answer. */
  const sendObject = (type: string, obj: KubeObject) => {
    if (res.writableEnded) return;
    if (!req.asTable) {
      res.write(`{"type":${JSON.stringify(type)},"object":${api.presentedJson(ri, obj)}}\n`);
      return;
    }
    const presented = api.present(ri, structuredClone(obj));
    send(
      type,
      toTable(ri, [presented], "Metadata", {
        resourceVersion: presented.metadata.resourceVersion,
      }),
    );
  };
  const inScope = (obj: KubeObject) =>
    !ri.namespaced || namespace === undefined || obj.metadata.namespace === namespace;
  const matches = (obj: KubeObject | undefined) =>
    obj !== undefined &&
    inScope(obj) &&
    // field selectors read the served shape (events.k8s.io Events differ from the stored core ones)
    api.matches(req.list.fields.length ? api.present(ri, structuredClone(obj)) : obj, req.list);

  const deliver = (e: StoreEvent) => {
    if (e.key !== key) return;
    const now = matches(e.object);
    const before = e.previous ? matches(e.previous) : false;
    if (e.type === "ADDED") {
      if (now) sendObject("ADDED", e.object);
    } else if (e.type === "DELETED") {
      if (before || now) sendObject("DELETED", e.object);
    } else if (now && before) sendObject("MODIFIED", e.object);
    else if (now) sendObject("ADDED", e.object);
    else if (before) sendObject("DELETED", e.object);
  };

  const bookmark = (annotations?: Record<string, string>) =>
    send("BOOKMARK", {
      kind: ri.kind,
      apiVersion: apiVersionOf(ri),
      metadata: {
        resourceVersion: String(api.store.resourceVersion),
        ...(annotations ? { annotations } : {}),
      },
    });

  let unsubscribe = () => {};
  let timer: NodeJS.Timeout | undefined;
  let bookmarks: NodeJS.Timeout | undefined;
  const close = () => {
    unsubscribe();
    if (timer) clearTimeout(timer);
    if (bookmarks) clearInterval(bookmarks);
    forget();
    if (!res.writableEnded) res.end();
  };
  const forget = watches.add(key, close);
  res.on("close", close);

  try {
    api.checkFieldSelector(ri, req.list.fields);
  } catch (err) {
    if (err instanceof ApiError) send("ERROR", err.toStatus());
    close();
    return;
  }

  const rv = req.resourceVersion;
  if (rv === undefined || rv === "" || rv === "0" || req.sendInitialEvents) {
    for (const obj of api.store.list(key, ri.namespaced ? namespace : undefined))
      if (matches(obj)) sendObject("ADDED", obj);
    if (req.sendInitialEvents && req.allowBookmarks) bookmark({ "k8s.io/initial-events-end": "true" });
  } else {
    const from = Number(rv);
    const history = Number.isFinite(from) ? api.store.since(from) : undefined;
    if (!history) {
      const gone = new ApiError("Gone", `too old resource version: ${rv} (${api.store.oldestResumable + 1})`);
      send("ERROR", gone.toStatus());
      close();
      return;
    }
    for (const e of history) deliver(e);
  }
  unsubscribe = api.store.subscribe(deliver);
  if (req.allowBookmarks) bookmarks = setInterval(() => bookmark(), settings.bookmarkIntervalMs);
  if (req.timeoutSeconds !== undefined && req.timeoutSeconds > 0)
    timer = setTimeout(close, req.timeoutSeconds * 1000);
}
