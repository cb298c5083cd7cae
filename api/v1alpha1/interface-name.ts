// Interface names and glob patterns in spec.interfaces. A Linux interface name is 1–15 bytes (IFNAMSIZ 16
// with its NUL) and may not hold `/` or whitespace; we take the characters real names use (letters, digits,
// `.`, `_`, `-`) and the glob characters `*`, `?`, `[`, `]` and `!` (negation inside brackets).
//
// Each rule is written once for zod and once for the CRD (a pattern or a CEL rule), with the same message, so
// the API server refuses what the operator and the agents would: a glob they could not read (an unclosed
// `[`, an empty set, a range such as `[9-0]` that JavaScript refuses to compile) never gets past admission.
import { z } from "zod";
import { celString } from "./cel.ts";

export const INTERFACE_PATTERN = "^[A-Za-z0-9._*?!\\[\\]-]{1,15}$";
const interfaceRegex = new RegExp(INTERFACE_PATTERN);
export const MAX_INTERFACES = 32;

/**
 * Brackets pair up into sets that do not nest, each holding at least one character after an optional `!`:
 * `[0-9]`, `[!a]`, `[ab]`; not `[0`, `0]`, `[[a]]`, `[]` or `[!]`.
 */
export const GLOB_SETS_PATTERN = "^([^\\[\\]]|\\[(![^\\[\\]]+|[^\\[\\]!][^\\[\\]]*)\\])*$";
const setsRegex = new RegExp(GLOB_SETS_PATTERN);
const SETS_MESSAGE = "its brackets must pair up into sets of at least one character, such as [0-9] or [!a]";

/** True when every bracket of the pattern belongs to a well-formed set (GLOB_SETS_PATTERN). */
export function hasWellFormedSets(pattern: string): boolean {
  return setsRegex.test(pattern);
}

/**
 * The first range inside a set that runs backwards (`9-0` in `eth[9-0]`), if any. A `-` right after `[` or
 * right before `]` is a literal dash, not a range. Every `x-y` inside a set is looked at, so `[a-c-b]` is
 * refused for its `c-b` although a matcher would read it as `a-c`, `-`, `b`: no reading of it is obvious.
 */
export function backwardRange(pattern: string): string | undefined {
  let inSet = false;
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === "[") inSet = true;
    else if (char === "]") inSet = false;
    else if (char === "-" && inSet && i > 0 && i + 1 < pattern.length) {
      const from = pattern[i - 1] as string;
      const to = pattern[i + 1] as string;
      // compared by place in SET_CHARACTERS (code point order), as the CRD's rule compares them: an end that
      // no set may hold (a stray "[") counts as out of order there too
      if (from !== "[" && to !== "]" && SET_CHARACTERS.indexOf(from) > SET_CHARACTERS.indexOf(to))
        return `${from}-${to}`;
    }
  }
  return undefined;
}

const BACKWARD_MESSAGE = "has a range in [ ] that runs backwards, such as [9-0]; ranges run upwards: [0-9]";

/** The characters a set may hold, in code point order: CEL compares their places in this string. */
export const SET_CHARACTERS = "!*-.0123456789?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

/**
 * backwardRange in CEL, for the CRD: a pattern has at most 15 characters, so a `-` with a character on each
 * side is at 1 to 13; the character before it is inside a set when the last bracket before it is a `[`. The
 * API server estimates a comparison of two computed strings as unbounded, so the ends of a range are
 * compared by their places in SET_CHARACTERS.
 */
export const BACKWARD_RANGE_CEL =
  "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13].all(i, i + 1 >= self.size() || self.charAt(i) != '-' || " +
  "self.charAt(i - 1) == '[' || self.charAt(i + 1) == ']' || " +
  `'${SET_CHARACTERS}'.indexOf(self.charAt(i - 1)) <= '${SET_CHARACTERS}'.indexOf(self.charAt(i + 1)) || ` +
  "self.lastIndexOf('[', i - 1) <= self.lastIndexOf(']', i - 1))";

export const interfacePattern = z
  .string()
  // the pattern bounds the length too, but the API server estimates the CEL rules' cost from maxLength
  .max(15)
  .regex(
    interfaceRegex,
    "must be 1-15 characters of an interface name (letters, digits, . _ -) or glob (* ? [ ] !), without / or whitespace",
  )
  .refine((name) => name !== "." && name !== "..", "cannot be . or ..")
  .refine(hasWellFormedSets, SETS_MESSAGE)
  .refine((name) => backwardRange(name) === undefined, BACKWARD_MESSAGE)
  .meta({
    "x-kubernetes-validations": [
      { rule: "self != '.' && self != '..'", message: "cannot be . or .." },
      { rule: `self.matches(${celString(GLOB_SETS_PATTERN)})`, message: SETS_MESSAGE },
      { rule: BACKWARD_RANGE_CEL, message: BACKWARD_MESSAGE },
    ],
  })
  .describe("An interface name such as eth0, or a glob pattern such as eth* or ens[0-9]*.");
