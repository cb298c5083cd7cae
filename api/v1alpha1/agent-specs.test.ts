import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAgentSpecs, renderAgentSpecs } from "./agent-specs.ts";
import { xdpCounter } from "./xdpcounter.ts";

const make = (name: string, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) =>
  xdpCounter.parse({
    apiVersion: "xdpcounter.dev/v1alpha1",
    kind: "XdpCounter",
    metadata: { name, uid: `${name}-uid`, generation: 2, ...metadata },
    spec,
  });

describe("agent specs (the agents' ConfigMap)", () => {
  it("renders one key per XdpCounter, sorted, and reads back what each agent runs", () => {
    const data = renderAgentSpecs([
      make("web", {
        interfaces: ["eth1"],
        action: "drop",
        reportInterval: "30s",
        nodeSelector: { pool: "edge" },
        tolerations: [{ key: "dedicated", operator: "Equal", value: "net", effect: "NoSchedule" }],
      }),
      make("all", {}, { deletionTimestamp: "2026-12-03T12:00:00Z" }),
    ]);
    assert.deepEqual(Object.keys(data), ["all", "web"]);
    const parsed = parseAgentSpecs(data, "node-1");
    assert.deepEqual(parsed.errors, []);
    const [all, web] = parsed.configs;
    assert.deepEqual(
      [all?.xdpCounter, all?.mode, all?.nodeName, all?.uid],
      ["all", "clean", "node-1", "all-uid"],
    );
    assert.deepEqual(web, {
      xdpCounter: "web",
      uid: "web-uid",
      generation: 2,
      mode: "count",
      interfaces: ["eth1"],
      attachMode: "auto",
      action: "drop",
      reportIntervalMs: 30_000,
      nodeSelector: { pool: "edge" },
      tolerations: [{ key: "dedicated", operator: "Equal", value: "net", effect: "NoSchedule" }],
      nodeName: "node-1",
    });
  });

  it("equal inputs render equal text, whatever their order", () => {
    const a = make("a");
    const b = make("b", { action: "drop" });
    assert.deepEqual(renderAgentSpecs([a, b]), renderAgentSpecs([b, a]));
  });

  it("a bad key is named and skipped; the others are used", () => {
    const good = renderAgentSpecs([make("good")]);
    const parsed = parseAgentSpecs(
      {
        ...good,
        broken: "{",
        wrong: JSON.stringify({ ...JSON.parse(good.good as string), action: "explode" }),
        other: good.good as string,
      },
      "n",
    );
    assert.deepEqual(
      parsed.configs.map((c) => c.xdpCounter),
      ["good"],
    );
    assert.equal(parsed.errors.length, 3);
    assert.match(parsed.errors[0] as string, /^broken: not valid JSON/);
    assert.match(parsed.errors[1] as string, /^other: holds the configuration of XdpCounter good/);
    assert.match(parsed.errors[2] as string, /^wrong: action: /);
  });
});
