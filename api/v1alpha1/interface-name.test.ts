import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  BACKWARD_RANGE_CEL,
  backwardRange,
  GLOB_SETS_PATTERN,
  hasWellFormedSets,
  INTERFACE_PATTERN,
  interfacePattern,
  SET_CHARACTERS,
} from "./interface-name.ts";

const NAME_CHARACTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
/** The characters of the pattern alphabet that matter to globs, and a few ordinary ones. */
const GLOB_CHARACTERS = ["[", "]", "!", "-", "*", "?", "a", "c", "z", "A", "0", "5", "9", ".", "_"];

const realName = fc
  .string({ unit: fc.constantFrom(...NAME_CHARACTERS), minLength: 1, maxLength: 15 })
  .filter((name) => name !== "." && name !== "..");
const globLike = fc.string({ unit: fc.constantFrom(...GLOB_CHARACTERS), minLength: 1, maxLength: 15 });

/** The brackets pair up into sets of at least one character (after `!`), none nested: a plain scan. */
function setsPairUp(pattern: string): boolean {
  let open = -1;
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === "[") {
      if (open >= 0) return false;
      open = i;
    } else if (pattern[i] === "]") {
      if (open < 0) return false;
      const body = pattern.slice(open + 1, i);
      if (body === "" || body === "!") return false;
      open = -1;
    }
  }
  return open < 0;
}

/** BACKWARD_RANGE_CEL step by step, as the API server evaluates it: true when the rule holds. */
function celRuleHolds(self: string): boolean {
  const charAt = (i: number) => self.slice(i, i + 1);
  const lastIndexOf = (sub: string, offset: number) => self.lastIndexOf(sub, offset);
  return [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13].every(
    (i) =>
      i + 1 >= self.length ||
      charAt(i) !== "-" ||
      charAt(i - 1) === "[" ||
      charAt(i + 1) === "]" ||
      SET_CHARACTERS.indexOf(charAt(i - 1)) <= SET_CHARACTERS.indexOf(charAt(i + 1)) ||
      lastIndexOf("[", i - 1) <= lastIndexOf("]", i - 1),
  );
}

describe("interface names and patterns, for any value", () => {
  it("takes every name of 1-15 letters, digits, . _ - (but . and ..) as a plain name", () => {
    fc.assert(
      fc.property(realName, (name) => {
        assert.equal(interfacePattern.safeParse(name).success, true, name);
        assert.equal(hasWellFormedSets(name), true);
        assert.equal(backwardRange(name), undefined);
      }),
    );
  });

  it("refuses a name with a slash, whitespace, a colon or any other character, naming the rule", () => {
    const bad = fc.constantFrom("/", " ", "\t", "\n", ":", "@", "%", "é", "\u0000", "\\", "'", '"', "{");
    fc.assert(
      fc.property(realName, bad, fc.nat(), (name, char, at) => {
        const i = at % (name.length + 1);
        const text = `${name.slice(0, i)}${char}${name.slice(i)}`.slice(0, 15);
        const result = interfacePattern.safeParse(text);
        assert.equal(result.success, false, JSON.stringify(text));
        assert.match(result.error?.issues[0]?.message ?? "", /must be 1-15 characters of an interface name/);
      }),
    );
  });

  it("refuses the empty name and any name longer than 15 characters", () => {
    assert.equal(interfacePattern.safeParse("").success, false);
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...NAME_CHARACTERS), minLength: 16, maxLength: 40 }),
        (name) => {
          assert.equal(interfacePattern.safeParse(name).success, false, name);
        },
      ),
    );
  });

  it("GLOB_SETS_PATTERN (zod and the CRD's CEL rule) is the plain scan of brackets", () => {
    fc.assert(
      fc.property(globLike, (pattern) => {
        assert.equal(hasWellFormedSets(pattern), setsPairUp(pattern), pattern);
        assert.equal(new RegExp(GLOB_SETS_PATTERN).test(pattern), setsPairUp(pattern), pattern);
      }),
    );
  });

  it("the CRD's CEL rule on backward ranges refuses exactly what backwardRange finds", () => {
    fc.assert(
      fc.property(globLike, (pattern) => {
        assert.equal(celRuleHolds(pattern), backwardRange(pattern) === undefined, pattern);
      }),
    );
    // the rule the CRD carries is the one evaluated above
    assert.match(
      BACKWARD_RANGE_CEL,
      /\.indexOf\(self\.charAt\(i - 1\)\) <= '[^']+'\.indexOf\(self\.charAt\(i \+ 1\)\)/,
    );
    assert.match(BACKWARD_RANGE_CEL, /self\.lastIndexOf\('\[', i - 1\) <= self\.lastIndexOf\('\]', i - 1\)/);
  });

  it("SET_CHARACTERS holds every character a set may hold, in code point order", () => {
    const allowed = new RegExp(INTERFACE_PATTERN);
    const expected = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).filter(
      (c) => allowed.test(c) && c !== "[" && c !== "]",
    );
    assert.deepEqual([...SET_CHARACTERS], expected);
  });

  it("zod refuses a bad glob with the same message as the CRD, at the entry", () => {
    for (const [bad, message] of [
      ["eth[0", /brackets must pair up/],
      ["eth0]", /brackets must pair up/],
      ["eth[]", /brackets must pair up/],
      ["eth[!]", /brackets must pair up/],
      ["eth[[0]]", /brackets must pair up/],
      ["eth[9-0]", /runs backwards/],
      ["x[a--]", /runs backwards/],
    ] as const) {
      const result = interfacePattern.safeParse(bad);
      assert.equal(result.success, false, bad);
      assert.match(result.error?.issues.map((i) => i.message).join("; ") ?? "", message, bad);
    }
    for (const good of ["ens[0-9]*", "eth[!a-c]?", "x[--a]", "x[a-]", "x[-a]", "eth[a-cx-z]", "a-b", "z-a"]) {
      assert.equal(interfacePattern.safeParse(good).success, true, good);
    }
  });
});
