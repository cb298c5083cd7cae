import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { xdpCounterSpec } from "./spec.ts";
import { xdpCounter } from "./xdpcounter.ts";

function issuePaths(value: unknown): string[] {
  const result = xdpCounterSpec.safeParse(value);
  assert.equal(result.success, false, `expected ${JSON.stringify(value)} to be refused`);
  return result.error.issues.map((i) => i.path.join("."));
}

describe("XdpCounter spec", () => {
  it("fills the defaults of an empty spec", () => {
    assert.deepEqual(xdpCounterSpec.parse({}), {
      interfaces: [],
      attachMode: "auto",
      action: "pass",
      reportInterval: "1m",
    });
  });

  it("defaults the spec of an object that has none", () => {
    const parsed = xdpCounter.parse({
      apiVersion: "xdpcounter.dev/v1alpha1",
      kind: "XdpCounter",
      metadata: { name: "a" },
    });
    assert.equal(parsed.spec.action, "pass");
    assert.equal(parsed.spec.reportInterval, "1m");
  });

  it("keeps what is given", () => {
    const spec = {
      nodeSelector: { "kubernetes.io/os": "linux" },
      tolerations: [{ key: "dedicated", operator: "Equal", value: "net", effect: "NoSchedule" }],
      interfaces: ["eth0", "ens[0-9]*", "veth?", "bond0.100"],
      attachMode: "generic",
      action: "drop",
      reportInterval: "1m30s",
    };
    assert.deepEqual(xdpCounterSpec.parse(spec), spec);
  });

  it("refuses bad interface names and patterns", () => {
    for (const bad of [
      "",
      "eth/0",
      "eth 0",
      "a234567890123456",
      "\teth0",
      "eth0\n",
      ".",
      "..",
      "eth[0",
      "eth0]",
      "eth:0",
      "eth[]",
      "eth[!]",
      "eth[9-0]",
    ]) {
      assert.deepEqual(issuePaths({ interfaces: [bad] })[0], "interfaces.0", JSON.stringify(bad));
    }
  });

  it("accepts a 15-character name, the kernel's limit", () => {
    assert.equal(xdpCounterSpec.safeParse({ interfaces: ["a23456789012345"] }).success, true);
  });

  it("refuses reportInterval 0s, sub-second and over 1h", () => {
    for (const bad of ["0s", "500ms", "2h", "10"]) {
      assert.deepEqual(issuePaths({ reportInterval: bad }), ["reportInterval"], bad);
    }
  });

  it("refuses an unknown action or attach mode", () => {
    assert.deepEqual(issuePaths({ action: "redirect" }), ["action"]);
    assert.deepEqual(issuePaths({ attachMode: "offload" }), ["attachMode"]);
  });

  it("refuses wrong types", () => {
    assert.deepEqual(issuePaths({ interfaces: "eth0" }), ["interfaces"]);
    assert.deepEqual(issuePaths({ reportInterval: 10 }), ["reportInterval"]);
    assert.deepEqual(issuePaths({ nodeSelector: { a: 1 } }), ["nodeSelector.a"]);
    assert.deepEqual(issuePaths({ tolerations: [{ key: "a", tolerationSeconds: "5" }] }), [
      "tolerations.0.tolerationSeconds",
    ]);
  });

  it("refuses inconsistent tolerations", () => {
    assert.deepEqual(issuePaths({ tolerations: [{ key: "a", operator: "Exists", value: "x" }] }), [
      "tolerations.0.value",
    ]);
    assert.deepEqual(
      issuePaths({ tolerations: [{ key: "a", effect: "NoSchedule", tolerationSeconds: 5 }] }),
      ["tolerations.0.tolerationSeconds"],
    );
    assert.deepEqual(issuePaths({ tolerations: [{ operator: "Equal", value: "x" }] }), [
      "tolerations.0.operator",
    ]);
    assert.deepEqual(issuePaths({ tolerations: [{ effect: "Sometimes", key: "a" }] }), [
      "tolerations.0.effect",
    ]);
    assert.equal(xdpCounterSpec.safeParse({ tolerations: [{ operator: "Exists" }] }).success, true);
  });

  it("refuses a nodeSelector or a toleration that no Node label or taint can have", () => {
    assert.deepEqual(issuePaths({ nodeSelector: { "bad key": "x" } }), ["nodeSelector.bad key"]);
    assert.deepEqual(issuePaths({ nodeSelector: { "": "x" } }), ["nodeSelector."]);
    assert.deepEqual(issuePaths({ nodeSelector: { pool: "a b" } }), ["nodeSelector.pool"]);
    assert.deepEqual(issuePaths({ nodeSelector: { pool: "edge-" } }), ["nodeSelector.pool"]);
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"]));
    assert.deepEqual(issuePaths({ nodeSelector: many }), ["nodeSelector"]);
    assert.deepEqual(issuePaths({ tolerations: [{ key: "bad key", operator: "Exists" }] }), [
      "tolerations.0.key",
    ]);
    assert.deepEqual(issuePaths({ tolerations: [{ key: "k", value: "a b" }] }), ["tolerations.0.value"]);
    const fine = {
      nodeSelector: { "kubernetes.io/os": "linux", "example.com/tier": "", pool: "edge_1.a" },
      tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists" }],
    };
    assert.equal(xdpCounterSpec.safeParse(fine).success, true);
  });

  it("refuses a name longer than 63 characters, as the CRD's CEL rule does", () => {
    const object = (name: string) => ({
      apiVersion: "xdpcounter.dev/v1alpha1",
      kind: "XdpCounter",
      metadata: { name },
    });
    assert.equal(xdpCounter.safeParse(object(`n${"x".repeat(62)}`)).success, true);
    const result = xdpCounter.safeParse(object(`n${"x".repeat(63)}`));
    assert.deepEqual(
      result.error?.issues.map((i) => [i.path.join("."), i.message]),
      [["metadata.name", "an XdpCounter's name has at most 63 characters (it labels its reports)"]],
    );
  });

  it("refuses more than 32 interfaces", () => {
    const many = Array.from({ length: 33 }, (_, i) => `eth${i}`);
    assert.deepEqual(issuePaths({ interfaces: many }), ["interfaces"]);
  });
});
