import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isGlob, matchesGlob } from "./glob.ts";

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
