import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { interfacePattern } from "../../api/v1alpha1/index.ts";
import { globToRegExp, isGlob, matchesGlob } from "./glob.ts";

describe("interface globs", () => {
  it("tells names from globs", () => {
    assert.equal(isGlob("eth0"), false);
    assert.equal(isGlob("eth0.100"), false);
    assert.equal(isGlob("eth*"), true);
    assert.equal(isGlob("eth?"), true);
    assert.equal(isGlob("ens[0-9]"), true);
  });

  it("matches *, ? and bracket sets over the whole name", () => {
    const cases: [string, string, boolean][] = [
      ["*", "eth0", true],
      ["eth*", "eth0", true],
      ["eth*", "eth", true],
      ["eth*", "veth0", false],
      ["eth?", "eth0", true],
      ["eth?", "eth10", false],
      ["ens[0-9]*", "ens5", true],
      ["ens[0-9]*", "ens5f1", true],
      ["ens[0-9]*", "ensx", false],
      ["ens[!0-9]*", "ensx", true],
      ["ens[!0-9]*", "ens5", false],
      ["eth[01]", "eth1", true],
      ["eth[01]", "eth2", false],
      ["bond0.*", "bond0.100", true],
      ["bond0.*", "bond0x100", false], // the dot is literal
      ["a-b*", "a-bc", true],
      ["x[-a]", "x-", true],
      ["eth0", "eth0", true],
      ["eth0", "eth00", false],
    ];
    for (const [pattern, name, want] of cases) {
      assert.equal(matchesGlob(name, pattern), want, `${pattern} vs ${name}`);
    }
  });
});

// Any glob the API takes (api/v1alpha1/interface-name.ts) against a plain reading of glob.ts's rules.
const SET_CHARS = [..."!*-.059?AZ_acz"];
const NAME_CHARS = [..."ace059.-_AZ"];

type Token =
  | { kind: "literal"; char: string }
  | { kind: "star" }
  | { kind: "any" }
  | { kind: "set"; negate: boolean; items: [string, string][] };

/** The tokens of a pattern the API takes: in a set, `x-y` is a range where `-` is neither first nor last. */
function tokens(pattern: string): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] as string;
    if (char === "*") out.push({ kind: "star" });
    else if (char === "?") out.push({ kind: "any" });
    else if (char === "[") {
      const close = pattern.indexOf("]", i);
      let body = pattern.slice(i + 1, close);
      const negate = body.startsWith("!");
      if (negate) body = body.slice(1);
      const items: [string, string][] = [];
      for (let j = 0; j < body.length; j++) {
        if (body[j + 1] === "-" && j + 2 < body.length) {
          items.push([body[j] as string, body[j + 2] as string]);
          j += 2;
        } else items.push([body[j] as string, body[j] as string]);
      }
      out.push({ kind: "set", negate, items });
      i = close;
    } else out.push({ kind: "literal", char });
  }
  return out;
}

const inSet = (token: Extract<Token, { kind: "set" }>, char: string) =>
  token.items.some(([lo, hi]) => lo <= char && char <= hi) !== token.negate;

/** Whether `name` matches the tokens, by plain backtracking over both. */
function referenceMatch(toks: Token[], name: string, t = 0, n = 0): boolean {
  if (t === toks.length) return n === name.length;
  const token = toks[t] as Token;
  if (token.kind === "star") {
    for (let k = n; k <= name.length; k++) if (referenceMatch(toks, name, t + 1, k)) return true;
    return false;
  }
  if (n === name.length) return false;
  const char = name[n] as string;
  const ok = token.kind === "any" || (token.kind === "literal" ? token.char === char : inSet(token, char));
  return ok && referenceMatch(toks, name, t + 1, n + 1);
}

/** Sets with any ends, backward ranges included: the API must refuse those, not the matcher fail on them. */
const setText = fc
  .tuple(
    fc.boolean(),
    fc.array(
      fc.oneof(
        fc.constantFrom(...SET_CHARS),
        fc.tuple(fc.constantFrom(...SET_CHARS), fc.constantFrom(...SET_CHARS)).map(([a, b]) => `${a}-${b}`),
      ),
      { minLength: 1, maxLength: 3 },
    ),
  )
  .map(([negate, items]) => `[${negate ? "!" : ""}${items.join("")}]`);
const patternText = fc
  .array(fc.oneof(fc.constantFrom(...NAME_CHARS, "*", "?", "[", "]", "!"), setText), {
    minLength: 1,
    maxLength: 6,
  })
  .map((parts) => parts.join(""));
const acceptedPattern = patternText.filter((p) => interfacePattern.safeParse(p).success);

/** A name that the pattern matches, chosen by the generator: what `*`, `?` and sets stand for. */
function instance(toks: Token[], g: fc.GeneratorValue): string {
  return toks
    .map((token) => {
      if (token.kind === "literal") return token.char;
      if (token.kind === "star") return g(fc.string, { unit: fc.constantFrom(...NAME_CHARS), maxLength: 3 });
      const candidates = [...NAME_CHARS, ...SET_CHARS].filter((c) => token.kind === "any" || inSet(token, c));
      // a set of characters that no name holds: no instance
      return candidates.length === 0 ? "\u0000" : g(fc.constantFrom, ...candidates);
    })
    .join("");
}

describe("interface globs, for any pattern the API takes", () => {
  it("every pattern the API takes compiles to a regular expression", () => {
    fc.assert(
      fc.property(patternText, (pattern) => {
        if (interfacePattern.safeParse(pattern).success) globToRegExp(pattern);
      }),
      { numRuns: 2_000 },
    );
  });

  it("matches as a plain reading of *, ?, [set], [!set] and ranges does", () => {
    fc.assert(
      fc.property(
        acceptedPattern,
        fc.gen(),
        fc.string({ unit: fc.constantFrom(...NAME_CHARS), maxLength: 8 }),
        (pattern, g, other) => {
          const toks = tokens(pattern);
          const matching = instance(toks, g);
          for (const name of [matching, other]) {
            assert.equal(
              matchesGlob(name, pattern),
              isGlob(pattern) ? referenceMatch(toks, name) : name === pattern,
              `${pattern} vs ${JSON.stringify(name)}`,
            );
          }
          if (!matching.includes("\u0000")) assert.equal(matchesGlob(matching, pattern), true, pattern);
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
