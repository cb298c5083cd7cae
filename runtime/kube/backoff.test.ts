import assert from "node:assert/strict";
import { test } from "node:test";
import { backoffDelay } from "./backoff.ts";

const fixed = (r: number) => ({ baseMs: 100, maxMs: 10_000, jitter: 0.5, random: () => r });

test("backoff doubles from the base delay with each attempt", () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((n) => backoffDelay(n, fixed(0))),
    [100, 200, 400, 800, 1600],
  );
});

test("backoff adds up to jitter × delay at random", () => {
  assert.equal(backoffDelay(3, fixed(0.999)), Math.round(400 * (1 + 0.5 * 0.999)));
  const delays = new Set(
    Array.from({ length: 50 }, () => backoffDelay(3, { baseMs: 100, maxMs: 1e6, jitter: 0.2 })),
  );
  for (const d of delays) assert.ok(d >= 400 && d <= 480, `${d}`);
  assert.ok(delays.size > 1, "jitter varies the delay");
});

test("backoff is capped, jitter included, and survives huge attempt numbers", () => {
  assert.equal(backoffDelay(20, fixed(0.9)), 10_000);
  assert.equal(backoffDelay(10_000, fixed(0)), 10_000);
  assert.equal(backoffDelay(0, fixed(0)), 100);
});
