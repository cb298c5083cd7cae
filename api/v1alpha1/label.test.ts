import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { isLabelKey, isLabelValue, LABEL_KEYS_CEL, labelKey, labelValue, optionalLabelKey } from "./label.ts";

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789";

/** A name of 1-63 characters as Kubernetes takes it: alphanumeric at both ends, - _ . inside. */
const labelName = fc.oneof(
  fc.constantFrom(...alnum),
  fc
    .tuple(
      fc.constantFrom(...alnum),
      fc.string({ unit: fc.constantFrom(...alnum, "-", "_", "."), maxLength: 61 }),
      fc.constantFrom(...alnum),
    )
    .map(([first, middle, last]) => `${first}${middle}${last}`),
);

/** A DNS-1123 label: lower-case alphanumeric at both ends, - inside, 1-63 characters. */
const dnsLabel = fc
  .tuple(
    fc.constantFrom(...lowerAlnum),
    fc.string({ unit: fc.constantFrom(...lowerAlnum, "-"), maxLength: 20 }),
    fc.constantFrom(...lowerAlnum),
  )
  .map(([first, middle, last]) => `${first}${middle}${last}`);
const prefix = fc
  .array(dnsLabel, { minLength: 1, maxLength: 4 })
  .map((labels) => labels.join("."))
  .filter((p) => p.length <= 253);
const key = fc.tuple(fc.option(prefix, { nil: undefined }), labelName).map(([p, n]) => (p ? `${p}/${n}` : n));

describe("label keys and values, for any value", () => {
  it("takes every qualified name Kubernetes takes", () => {
    fc.assert(
      fc.property(key, (text) => {
        assert.equal(isLabelKey(text), true, text);
        assert.equal(labelKey.safeParse(text).success, true, text);
        assert.equal(optionalLabelKey.safeParse(text).success, true, text);
      }),
    );
    assert.equal(optionalLabelKey.safeParse("").success, true, "a toleration's key may be empty");
    assert.equal(labelKey.safeParse("").success, false, "a nodeSelector's key may not");
  });

  it("refuses a key with a character no label key holds, or with two slashes", () => {
    fc.assert(
      fc.property(
        key,
        fc.constantFrom(" ", "/", ":", "@", "é", "\n", "*", "="),
        fc.nat(),
        (text, char, at) => {
          const i = at % (text.length + 1);
          const spoilt = `${text.slice(0, i)}${char}${text.slice(i)}`;
          // a / may make a valid key of a name: "ab" → "a/b"
          fc.pre(char !== "/" || text.includes("/"));
          assert.equal(isLabelKey(spoilt), false, spoilt);
          assert.equal(labelKey.safeParse(spoilt).success, false, spoilt);
        },
      ),
    );
  });

  it("refuses a name part longer than 63 and a prefix longer than 253", () => {
    assert.equal(isLabelKey("a".repeat(63)), true);
    assert.equal(isLabelKey("a".repeat(64)), false);
    assert.equal(isLabelKey(`${"a".repeat(253)}/x`), true);
    const long = `${"a".repeat(254)}/x`;
    assert.equal(isLabelKey(long), false);
    assert.match(
      labelKey.safeParse(long).error?.issues[0]?.message ?? "",
      /prefix before \/ has at most 253/,
    );
    assert.match(
      LABEL_KEYS_CEL,
      /^self\.all\(k, k\.matches\('.*'\) && !k\.matches\('\^\[\^\/\]\{254,\}\/'\)\)$/,
    );
  });

  it("takes every label value Kubernetes takes, the empty one included, and refuses the rest", () => {
    fc.assert(
      fc.property(fc.option(labelName, { nil: "" }), (text) => {
        assert.equal(isLabelValue(text), true, text);
        assert.equal(labelValue.safeParse(text).success, true, text);
      }),
    );
    fc.assert(
      fc.property(
        labelName,
        fc.constantFrom(" ", "/", ":", "é", "\n", "*", "-", "_", "."),
        fc.boolean(),
        (text, char, atEnd) => {
          // - _ . are refused only at an end
          const spoilt = atEnd ? `${text}${char}` : `${char}${text}`;
          assert.equal(isLabelValue(spoilt), false, spoilt);
          assert.equal(labelValue.safeParse(spoilt).success, false, spoilt);
        },
      ),
    );
    assert.equal(labelValue.safeParse("a".repeat(64)).success, false);
  });
});
