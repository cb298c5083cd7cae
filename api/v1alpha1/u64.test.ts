import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ApiError, ApiErrorCode } from "./errors.ts";
import {
  formatU64,
  isU64String,
  parseU64,
  U64_MAX,
  U64_MAX_CEL,
  U64_MAX_STRING,
  U64_PATTERN,
  u64String,
} from "./u64.ts";

describe("u64 strings", () => {
  it("round-trips 2^53+1, which a JSON number cannot hold", () => {
    const text = "9007199254740993";
    assert.notEqual(String(Number(text)), text, "the point of the test: a double rounds this value");
    assert.equal(parseU64(text), 2n ** 53n + 1n);
    assert.equal(formatU64(parseU64(text)), text);
  });

  it("round-trips 2^64-1", () => {
    assert.equal(U64_MAX_STRING, "18446744073709551615");
    assert.equal(parseU64(U64_MAX_STRING), U64_MAX);
    assert.equal(formatU64(U64_MAX), U64_MAX_STRING);
    assert.equal(u64String.parse(U64_MAX_STRING), U64_MAX_STRING);
  });

  it("refuses 2^64 and beyond, with the bound in the message", () => {
    assert.throws(() => parseU64("18446744073709551616"), ApiError);
    assert.throws(() => formatU64(U64_MAX + 1n), /out of the unsigned 64-bit range/);
    const result = u64String.safeParse("18446744073709551616");
    assert.equal(result.success, false);
    assert.match(result.error?.issues[0]?.message ?? "", /at most 18446744073709551615/);
    assert.equal(isU64String("99999999999999999999"), false);
  });

  it("refuses non-canonical and negative forms", () => {
    for (const bad of ["", "-1", "01", "+1", "1.0", "1e3", " 1", "0x10", "123456789012345678901"]) {
      assert.equal(isU64String(bad), false, bad);
      assert.equal(u64String.safeParse(bad).success, false, bad);
    }
    assert.throws(() => formatU64(-1n), ApiError);
  });

  it("accepts zero and ordinary values", () => {
    assert.equal(parseU64("0"), 0n);
    assert.equal(formatU64(0n), "0");
    assert.equal(u64String.parse("42"), "42");
  });

  it("refuses numbers where a string is expected", () => {
    assert.equal(u64String.safeParse(42).success, false);
  });
});

/** Every u64, with the edges (0, 2^53 ± 1, 2^64 − 1) drawn often. */
const u64 = fc.oneof(
  fc.bigInt({ min: 0n, max: U64_MAX }),
  fc.constantFrom(0n, 1n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, U64_MAX - 1n, U64_MAX),
);

/** What the text means to someone who has not read u64.ts: digits only, written without leading zeros. */
function isCanonicalU64(text: string): boolean {
  return /^[0-9]+$/.test(text) && BigInt(text).toString() === text && BigInt(text) <= U64_MAX;
}

function assertRefused(text: string): void {
  assert.equal(isU64String(text), false, JSON.stringify(text));
  assert.equal(u64String.safeParse(text).success, false, JSON.stringify(text));
  assert.throws(
    () => parseU64(text),
    (err: unknown) =>
      err instanceof ApiError &&
      err.code === ApiErrorCode.InvalidU64 &&
      err.message.includes(JSON.stringify(text)),
  );
}

describe("u64 strings, for any value", () => {
  it("every value in [0, 2^64-1] round-trips through its canonical decimal string", () => {
    fc.assert(
      fc.property(u64, (value) => {
        const text = formatU64(value);
        assert.equal(text, value.toString());
        assert.equal(isU64String(text), true);
        assert.equal(parseU64(text), value);
        assert.equal(u64String.parse(text), text);
      }),
    );
  });

  it("refuses 2^64 and above, as text and as a value", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: U64_MAX + 1n, max: 10n ** 40n }), (value) => {
        assertRefused(value.toString());
        assert.throws(() => formatU64(value), ApiError);
      }),
    );
  });

  it("refuses every negative value, as text and as a value", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 25n), max: -1n }), (value) => {
        assertRefused(value.toString());
        assert.throws(() => formatU64(value), ApiError);
      }),
    );
  });

  it("refuses leading zeros, signs, whitespace, fractions and exponents around any valid value", () => {
    const variant = fc.constantFrom(
      (t: string) => `0${t}`,
      (t: string) => `00${t}`,
      (t: string) => `+${t}`,
      (t: string) => `-${t}`,
      (t: string) => ` ${t}`,
      (t: string) => `${t} `,
      (t: string) => `${t}\n`,
      (t: string) => `\t${t}`,
      (t: string) => `${t}.0`,
      (t: string) => `${t}e0`,
      (t: string) => `0x${t}`,
      (t: string) => `${t}n`,
      (t: string) => `${t.slice(0, 1)}_${t.slice(1)}`,
      (t: string) => `${t.slice(0, 1)},${t.slice(1)}`,
    );
    fc.assert(
      fc.property(u64, variant, (value, spoil) => {
        const text = spoil(value.toString());
        // "-0" is refused as well: every spoilt text is
        assertRefused(text);
      }),
    );
  });

  it("accepts exactly the canonical decimals of [0, 2^64-1] among any text", () => {
    const text = fc.oneof(
      fc.string(),
      fc.string({ unit: fc.constantFrom("0", "1", "8", "9", "-", "+", " ", "."), maxLength: 22 }),
      fc.stringMatching(/^[0-9]{1,22}$/),
      u64.map((value) => value.toString()),
    );
    fc.assert(
      fc.property(text, (candidate) => {
        const want = isCanonicalU64(candidate);
        assert.equal(isU64String(candidate), want, JSON.stringify(candidate));
        assert.equal(u64String.safeParse(candidate).success, want, JSON.stringify(candidate));
        if (!want) assertRefused(candidate);
      }),
    );
  });

  it("the CRD's CEL bound, comparing canonical decimals as strings, agrees with the numeric bound", () => {
    // U64_MAX_CEL: `self.size() < 20 || self <= '18446744073709551615'`, for text that already matches the
    // CRD's pattern; CEL orders strings by their bytes, as JavaScript orders these ASCII strings
    assert.equal(U64_MAX_CEL, `self.size() < 20 || self <= '${U64_MAX_STRING}'`);
    const pattern = new RegExp(U64_PATTERN);
    const celAccepts = (text: string) => text.length < 20 || text <= U64_MAX_STRING;
    const canonical = fc.oneof(
      fc.stringMatching(/^(0|[1-9][0-9]{0,19})$/),
      fc.bigInt({ min: U64_MAX - 1000n, max: U64_MAX + 1000n }).map((v) => v.toString()),
      fc.bigInt({ min: 10n ** 19n, max: 10n ** 20n - 1n }).map((v) => v.toString()),
    );
    fc.assert(
      fc.property(canonical, (text) => {
        assert.ok(pattern.test(text));
        assert.equal(celAccepts(text), isU64String(text), text);
      }),
    );
  });
});
