import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { jitteredInterval, reportBackoff, shouldReport } from "./backoff.ts";

describe("report timing", () => {
  it("jitters the interval by ±10%", () => {
    assert.equal(
      jitteredInterval(10_000, () => 0),
      9_000,
    );
    assert.equal(
      jitteredInterval(10_000, () => 0.5),
      10_000,
    );
    assert.equal(
      jitteredInterval(10_000, () => 1),
      11_000,
    );
  });

  it("backs off exponentially with up to 20 % jitter, capped", () => {
    const low = (n: number) => reportBackoff(n, 10_000, () => 0);
    const high = (n: number) => reportBackoff(n, 10_000, () => 0.9999);
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(low), [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    assert.deepEqual([1, 2, 3].map(high), [1_200, 2_400, 4_800]);
    assert.equal(high(6), 30_000, "jitter never passes the cap");
    // the cap follows a long interval, up to 5 minutes
    assert.equal(
      reportBackoff(30, 120_000, () => 0),
      120_000,
    );
    assert.equal(
      reportBackoff(30, 3_600_000, () => 0),
      300_000,
    );
  });

  it("writes first, then only when the entry changed: no heartbeat", () => {
    assert.equal(shouldReport({ key: "a", lastKey: undefined }), true);
    assert.equal(shouldReport({ key: "a", lastKey: "a" }), false);
    assert.equal(shouldReport({ key: "b", lastKey: "a" }), true);
  });
});
