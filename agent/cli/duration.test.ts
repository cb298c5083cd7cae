import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDuration } from "./duration.ts";

test("durations parse to milliseconds", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("1s"), 1000);
  assert.equal(parseDuration("1.5s"), 1500);
  assert.equal(parseDuration("1m30s"), 90_000);
  assert.equal(parseDuration("2h"), 7_200_000);
});

test("anything else is not a duration", () => {
  for (const bad of ["", "1", "s", "1 s", "-1s", "1d", "fast", "1s2"])
    assert.equal(parseDuration(bad), undefined, bad);
});
