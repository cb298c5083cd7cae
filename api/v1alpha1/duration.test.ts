import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  DURATION_PATTERN,
  formatDuration,
  MAX_REPORT_INTERVAL_MS,
  MIN_REPORT_INTERVAL_MS,
  parseDuration,
  REPORT_INTERVAL_CEL,
  reportInterval,
} from "./duration.ts";
import { ApiError, ApiErrorCode } from "./errors.ts";

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

/**
 * What the API server's CEL `duration()` reads, as Go's time.ParseDuration does: an optional sign, then one
 * or more decimal numbers (with an optional fraction) each followed by a unit; "0" alone is zero. Nanoseconds,
 * or undefined where Go refuses the text.
 */
function goDuration(text: string): bigint | undefined {
  const units: Record<string, bigint> = {
    ns: 1n,
    us: 1_000n,
    "\u00b5s": 1_000n,
    "\u03bcs": 1_000n,
    ms: 1_000_000n,
    s: 1_000_000_000n,
    m: 60_000_000_000n,
    h: 3_600_000_000_000n,
  };
  let rest = text;
  let sign = 1n;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    if (rest.startsWith("-")) sign = -1n;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0n;
  if (rest === "") return undefined;
  let total = 0n;
  while (rest !== "") {
    const match = /^([0-9]*)(\.([0-9]*))?([^0-9.]+)/.exec(rest);
    if (!match) return undefined;
    const [whole, int = "", , frac = "", unit = ""] = match;
    if (int === "" && frac === "") return undefined;
    const size = units[unit];
    if (size === undefined) return undefined;
    total += BigInt(int || "0") * size + (BigInt(frac || "0") * size) / 10n ** BigInt(frac.length);
    rest = rest.slice(whole.length);
  }
  return sign * total;
}

/** A duration as the CRD's pattern takes it: hours, minutes, seconds in order, the first without a leading 0. */
const patternDuration = fc
  .record({
    units: fc.subarray(["h", "m", "s"], { minLength: 1 }),
    first: fc.integer({ min: 1, max: 9999 }),
    later: fc.array(fc.stringMatching(/^[0-9]{1,4}$/), { minLength: 2, maxLength: 2 }),
  })
  .map(({ units, first, later }) =>
    units.map((unit, i) => `${i === 0 ? first : (later[i - 1] as string)}${unit}`).join(""),
  );

describe("durations, for any value", () => {
  it("every whole number of seconds formats to the pattern and parses back", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), (seconds) => {
        const text = formatDuration(seconds * 1_000);
        assert.match(text, new RegExp(DURATION_PATTERN));
        assert.equal(parseDuration(text), seconds * 1_000);
      }),
    );
  });

  it("parseDuration reads every text of the pattern as the API server's duration() does", () => {
    fc.assert(
      fc.property(patternDuration, (text) => {
        assert.match(text, new RegExp(DURATION_PATTERN));
        assert.equal(BigInt(parseDuration(text)) * 1_000_000n, goDuration(text), text);
      }),
    );
  });

  it("zod takes a report interval exactly when the CRD does: its pattern, then 1s to 1h in CEL", () => {
    assert.equal(REPORT_INTERVAL_CEL, "duration(self) >= duration('1s') && duration(self) <= duration('1h')");
    const pattern = new RegExp(DURATION_PATTERN);
    const crdAccepts = (text: string): boolean => {
      if (text.length > 16 || !pattern.test(text)) return false;
      const ns = goDuration(text);
      return (
        ns !== undefined &&
        ns >= BigInt(MIN_REPORT_INTERVAL_MS) * 1_000_000n &&
        ns <= BigInt(MAX_REPORT_INTERVAL_MS) * 1_000_000n
      );
    };
    const text = fc.oneof(
      patternDuration,
      fc.string({
        unit: fc.constantFrom("0", "1", "3", "6", "9", "h", "m", "s", "u", "n", ".", "-", "+", " "),
      }),
      fc.integer({ min: 0, max: 7_200 }).map((s) => `${s}s`),
      fc.integer({ min: 0, max: 120 }).map((m) => `${m}m`),
    );
    fc.assert(
      fc.property(text, (candidate) => {
        assert.equal(reportInterval.safeParse(candidate).success, crdAccepts(candidate), candidate);
      }),
    );
  });

  it("refuses signs, whitespace, fractions, other units and zero around any valid duration", () => {
    const variant = fc.constantFrom(
      (t: string) => `-${t}`,
      (t: string) => `+${t}`,
      (t: string) => ` ${t}`,
      (t: string) => `${t}\n`,
      (t: string) => `${t}500ms`,
      (t: string) => `${t}1ns`,
      (t: string) => `${t.slice(0, -1)}.5${t.slice(-1)}`,
      (t: string) => `0${t}`,
      (t: string) => t.toUpperCase(),
      (t: string) => `${t}${t.slice(-1)}`,
      (t: string) => t.slice(0, -1),
    );
    fc.assert(
      fc.property(patternDuration, variant, (valid, spoil) => {
        const text = spoil(valid);
        assert.throws(
          () => parseDuration(text),
          (err: unknown) =>
            err instanceof ApiError &&
            err.code === ApiErrorCode.InvalidDuration &&
            err.message.includes(JSON.stringify(text)),
          text,
        );
        assert.equal(reportInterval.safeParse(text).success, false, text);
      }),
    );
  });
});
