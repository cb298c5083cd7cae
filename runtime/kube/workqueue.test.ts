import assert from "node:assert/strict";
import { test } from "node:test";
import { WorkQueue } from "./workqueue.ts";

const noJitter = { baseMs: 10, maxMs: 1_000, jitter: 0 };

test("a key added many times is queued once", async () => {
  const depths: number[] = [];
  const q = new WorkQueue({ onDepth: (d) => depths.push(d) });
  q.add("a");
  q.add("b");
  q.add("a");
  assert.equal(q.depth, 2);
  assert.equal(await q.get(), "a");
  assert.equal(await q.get(), "b");
  assert.equal(q.depth, 0);
  assert.deepEqual(depths, [1, 2, 1, 0]);
});

test("a key is never handed out twice at once; added while processing, it comes back after done", async () => {
  const q = new WorkQueue();
  q.add("a");
  const key = await q.get();
  assert.equal(key, "a");
  q.add("a");
  q.add("a");
  assert.equal(q.depth, 0, "not queued while processing");
  let second: string | undefined;
  void q.get().then((k) => {
    second = k;
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(second, undefined);
  q.done("a");
  await new Promise((r) => setImmediate(r));
  assert.equal(second, "a", "handed out again, once");
  q.done("a");
  assert.equal(q.depth, 0);
});

test("a waiting worker gets the next key at once", async () => {
  const q = new WorkQueue();
  const next = q.get();
  q.add("x");
  assert.equal(await next, "x");
});

test("failures back off exponentially per key until forgotten", async () => {
  const q = new WorkQueue({ backoff: noJitter });
  assert.equal(q.addRateLimited("a"), 10);
  assert.equal(q.addRateLimited("a"), 20);
  assert.equal(q.addRateLimited("a"), 40);
  assert.equal(q.addRateLimited("b"), 10);
  assert.equal(q.failures("a"), 3);
  q.forget("a");
  assert.equal(q.addRateLimited("a"), 10);
  const started = Date.now();
  const first = await q.get();
  assert.ok(first === "a" || first === "b");
  assert.ok(Date.now() - started >= 8);
  q.shutDown();
});

test("addAfter queues later; the earliest pending delay wins", async () => {
  const q = new WorkQueue();
  q.addAfter("a", 200);
  q.addAfter("a", 20);
  q.addAfter("a", 500);
  assert.equal(q.depth, 0);
  const started = Date.now();
  assert.equal(await q.get(), "a");
  const waited = Date.now() - started;
  assert.ok(waited >= 15 && waited < 150, `${waited}`);
  q.shutDown();
});

test("shutDown releases waiting workers and drops queued and delayed keys", async () => {
  const q = new WorkQueue();
  const waiting = q.get();
  q.shutDown();
  assert.equal(await waiting, undefined);
  q.add("a");
  q.addAfter("b", 1);
  assert.equal(await q.get(), undefined);
  assert.equal(q.depth, 0);
});
