import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiError } from "./errors.ts";
import { formatU64, isU64String, parseU64, U64_MAX, U64_MAX_STRING, u64String } from "./u64.ts";

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
