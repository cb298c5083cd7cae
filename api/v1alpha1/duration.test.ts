import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DURATION_PATTERN, formatDuration, parseDuration, reportInterval } from "./duration.ts";

describe("durations", () => {
  it("parses hours, minutes and seconds", () => {
    assert.equal(parseDuration("10s"), 10_000);
    assert.equal(parseDuration("1m30s"), 90_000);
    assert.equal(parseDuration("1h"), 3_600_000);
    assert.equal(parseDuration("1m0s"), 60_000);
    assert.equal(parseDuration("1h0m0s"), 3_600_000);
  });

  it("formats whole seconds in the shortest form", () => {
    assert.equal(formatDuration(90_000), "1m30s");
    assert.equal(formatDuration(3_600_000), "1h");
    assert.equal(formatDuration(3_630_000), "1h30s");
    assert.equal(formatDuration(1_000), "1s");
    assert.throws(() => formatDuration(1_500));
    assert.throws(() => formatDuration(0));
  });

  it("round-trips through format and parse", () => {
    for (const ms of [1_000, 59_000, 60_000, 61_000, 3_599_000, 3_600_000]) {
      assert.equal(parseDuration(formatDuration(ms)), ms);
    }
  });

  it("the CRD pattern refuses zero and sub-second values by itself", () => {
    const pattern = new RegExp(DURATION_PATTERN);
    for (const bad of [
      "0s",
      "0m",
      "0h",
      "00s",
      "0m30s",
      "0h1m",
      "500ms",
      "1.5s",
      "1us",
      "s",
      "",
      "10",
      "-1s",
      "1s1m",
    ]) {
      assert.equal(pattern.test(bad), false, bad);
    }
    for (const good of ["1s", "10s", "1m30s", "1m0s", "1h", "1h0m0s", "59m59s"]) {
      assert.equal(pattern.test(good), true, good);
    }
  });

  it("the zod schema adds the upper bound of 1h", () => {
    assert.equal(reportInterval.safeParse("1h").success, true);
    assert.equal(reportInterval.safeParse("3600s").success, true);
    const over = reportInterval.safeParse("1h0m1s");
    assert.equal(over.success, false);
    assert.match(over.error?.issues[0]?.message ?? "", /at most 1h/);
    assert.equal(reportInterval.safeParse("61m").success, false);
    assert.equal(reportInterval.safeParse("0s").success, false);
  });
});
