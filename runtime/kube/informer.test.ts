import assert from "node:assert/strict";
import { test } from "node:test";
import { RuntimeError, RuntimeErrorCode } from "../errors.ts";
import { Informer, type InformerEvent } from "./informer.ts";
import type { KubeClient, KubeObject, ListResult, Query, WatchEvent } from "./kube-types.ts";

const obj = (name: string, rv: string): KubeObject => ({ metadata: { name, resourceVersion: rv } });

type WatchScript = (onEvent: (e: WatchEvent) => void, onOpen: () => void) => Promise<void>;

/** A client whose lists and watches follow a script, and which records the queries it got. */
function scripted(lists: ListResult[], watches: WatchScript[]) {
  const watchQueries: Query[] = [];
  let listCalls = 0;
  const client: KubeClient = {
    get: async () => undefined,
    delete: async () => undefined,
    list: async () => {
      const next = lists[Math.min(listCalls, lists.length - 1)];
      listCalls++;
      assert.ok(next);
      return structuredClone(next);
    },
    watch: async (_path, query, onEvent, signal, onOpen) => {
      watchQueries.push(query);
      const script = watches.shift();
      if (!script) {
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
        return;
      }
      await script(onEvent, () => onOpen?.());
    },
    create: async () => {
      throw new Error("unused");
    },
    replace: async () => {
      throw new Error("unused");
    },
    patch: async () => {
      throw new Error("unused");
    },
  };
  return { client, watchQueries, listCalls: () => listCalls };
}

function track(informer: Informer) {
  const events: InformerEvent[] = [];
  const calls: string[] = [];
  informer.onEvent((e) => events.push(e));
  informer.addHandlers({
    onAdd: (o) => calls.push(`add ${o.metadata.name}`),
    onUpdate: (_old, o) => calls.push(`update ${o.metadata.name}`),
    onDelete: (o) => calls.push(`delete ${o.metadata.name}`),
  });
  return { events, calls };
}

const fast = { baseMs: 1, maxMs: 5, jitter: 0 };

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

test("lists, then watches from the list's resourceVersion, resuming from the last event or bookmark", async () => {
  const { client, watchQueries } = scripted(
    [{ items: [obj("a", "5")], resourceVersion: "10" }],
    [
      async (emit, open) => {
        open();
        emit({ type: "ADDED", object: obj("b", "11") });
        emit({ type: "MODIFIED", object: obj("a", "12") });
        emit({ type: "BOOKMARK", object: obj("", "15") });
      },
      async (emit, open) => {
        open();
        emit({ type: "DELETED", object: obj("b", "16") });
      },
    ],
  );
  const informer = new Informer({ name: "things", client, path: "/x", backoff: fast, labelSelector: "k=v" });
  const { events, calls } = track(informer);
  informer.start();
  await informer.waitForSync();
  await until(() => watchQueries.length === 3, "third watch");
  await informer.stop();
  assert.deepEqual(calls, ["add a", "add b", "update a", "delete b"]);
  assert.deepEqual(
    watchQueries.map((q) => [q.resourceVersion, q.allowWatchBookmarks, q.labelSelector]),
    [
      ["10", true, "k=v"],
      ["15", true, "k=v"],
      ["16", true, "k=v"],
    ],
  );
  assert.deepEqual(
    events.map((e) => e.type),
    ["relist", "connect", "bookmark", "connect"],
  );
  assert.deepEqual(
    informer.list().map((o) => o.metadata.name),
    ["a"],
  );
});

test("410 Gone lists afresh: objects deleted meanwhile are reported deleted", async () => {
  const { client, listCalls } = scripted(
    [
      { items: [obj("a", "5"), obj("b", "6")], resourceVersion: "10" },
      { items: [obj("a", "30")], resourceVersion: "31" },
    ],
    [
      async (emit, open) => {
        open();
        emit({
          type: "ERROR",
          object: {
            code: 410,
            reason: "Expired",
            message: "too old resource version",
          } as unknown as KubeObject,
        });
      },
    ],
  );
  const informer = new Informer({ name: "things", client, path: "/x", backoff: fast });
  const { events, calls } = track(informer);
  informer.start();
  await until(() => events.some((e) => e.type === "relist" && e.reason === "gone"), "relist after gone");
  await informer.stop();
  assert.equal(listCalls(), 2);
  assert.deepEqual(calls, ["add a", "add b", "update a", "delete b"]);
  assert.ok(events.some((e) => e.type === "gone"));
  assert.equal(informer.resourceVersion, "31");
});

test("a broken watch reconnects after a backoff; too many failures in a row give up", async () => {
  const broken: WatchScript = async () => {
    throw new RuntimeError(RuntimeErrorCode.Connection, "connection reset");
  };
  const { client } = scripted([{ items: [], resourceVersion: "1" }], [broken, broken, broken, broken]);
  const informer = new Informer({ name: "things", client, path: "/x", backoff: fast, maxFailures: 3 });
  const { events } = track(informer);
  informer.start();
  await until(() => informer.gaveUp, "give-up");
  await informer.stop();
  const types = events.map((e) => e.type);
  assert.deepEqual(types, ["relist", "disconnect", "disconnect", "give-up"]);
  assert.deepEqual(
    events.filter((e) => e.type === "disconnect").map((e) => e.attempt),
    [1, 2],
  );
});

test("a failed first list is retried, and resync re-delivers cached objects", async () => {
  let calls = 0;
  const { client } = scripted([{ items: [obj("a", "1")], resourceVersion: "1" }], []);
  const flaky: KubeClient = {
    ...client,
    list: async (path, query) => {
      calls++;
      if (calls === 1) throw new RuntimeError(RuntimeErrorCode.Connection, "refused");
      return client.list(path, query);
    },
  };
  const informer = new Informer({ name: "things", client: flaky, path: "/x", backoff: fast, resyncMs: 20 });
  const { events, calls: handled } = track(informer);
  informer.start();
  await informer.waitForSync();
  await until(() => events.some((e) => e.type === "resync"), "a resync");
  await informer.stop();
  assert.equal(events[0]?.type, "disconnect");
  assert.ok(handled.includes("update a"), "resync re-delivers");
});

test("a transform shapes what is cached and what handlers see, on lists and on watch events", async () => {
  const big = (name: string, rv: string): KubeObject => ({
    ...obj(name, rv),
    spec: { huge: "x".repeat(100) },
  });
  const { client } = scripted(
    [{ items: [big("a", "5")], resourceVersion: "10" }],
    [
      async (onEvent, onOpen) => {
        onOpen();
        onEvent({ type: "ADDED", object: big("b", "11") });
        onEvent({ type: "DELETED", object: big("a", "12") });
      },
    ],
  );
  const informer = new Informer({
    name: "t",
    client,
    path: "/x",
    transform: (o) => ({ metadata: o.metadata }),
  });
  const seen: KubeObject[] = [];
  informer.addHandlers({ onAdd: (o) => seen.push(o), onDelete: (o) => seen.push(o) });
  informer.start();
  await until(() => seen.length === 3, "three events");
  assert.ok(seen.every((o) => o.spec === undefined));
  assert.deepEqual(informer.list(), [{ metadata: { name: "b", resourceVersion: "11" } }]);
  await informer.stop();
});

test("a list is read in pages of pageSize, each transformed, and handlers run once the last page is in", async () => {
  const all = ["a", "b", "c", "d", "e"].map((name, i) => ({
    metadata: { name, resourceVersion: String(10 + i) },
    status: { large: "x".repeat(100) },
  }));
  const queries: Query[] = [];
  const client: KubeClient = {
    get: async () => undefined,
    delete: async () => undefined,
    list: async (_path, query = {}) => {
      queries.push(query);
      const from = Number(query.continue ?? 0);
      const to = Math.min(all.length, from + Number(query.limit));
      return {
        items: structuredClone(all.slice(from, to)),
        resourceVersion: "20",
        ...(to < all.length ? { continue: String(to) } : {}),
      };
    },
    watch: async (_path, _query, _onEvent, signal) => {
      if (signal.aborted) return;
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
    },
    create: async () => {
      throw new Error("unused");
    },
    replace: async () => {
      throw new Error("unused");
    },
    patch: async () => {
      throw new Error("unused");
    },
  };
  const informer = new Informer({
    name: "paged",
    client,
    path: "/api/v1/nodes",
    labelSelector: "a=b",
    pageSize: 2,
    transform: (o) => ({ metadata: o.metadata }),
  });
  const seenAtAdd: number[] = [];
  informer.addHandlers({ onAdd: () => seenAtAdd.push(queries.length) });
  informer.start();
  await informer.waitForSync();
  await informer.stop();
  assert.deepEqual(queries, [
    { labelSelector: "a=b", limit: 2 },
    { labelSelector: "a=b", limit: 2, continue: "2" },
    { labelSelector: "a=b", limit: 2, continue: "4" },
  ]);
  assert.deepEqual(
    informer.list().map((o) => [o.metadata.name, o.status]),
    ["a", "b", "c", "d", "e"].map((n) => [n, undefined]),
    "every page's objects, transformed",
  );
  assert.deepEqual(seenAtAdd, [3, 3, 3, 3, 3], "no handler before the last page");
  assert.equal(informer.resourceVersion, "20");
});
