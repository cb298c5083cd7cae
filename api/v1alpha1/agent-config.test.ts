import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  AGENT_CONFIG_ENV,
  nodeMatchesSelector,
  parseAgentConfig,
  renderAgentConfig,
  serializeAgentConfig,
} from "./agent-config.ts";
import { ApiError } from "./errors.ts";
import { xdpCounter } from "./xdpcounter.ts";

const object = xdpCounter.parse({
  apiVersion: "xdpcounter.dev/v1alpha1",
  kind: "XdpCounter",
  metadata: { name: "edge", uid: "u-1", generation: 3 },
  spec: { interfaces: ["eth*"], attachMode: "native", action: "drop", reportInterval: "1m30s" },
});

describe("agent configuration", () => {
  it("renders what the agent needs from the spec", () => {
    assert.deepEqual(renderAgentConfig(object), {
      xdpCounter: "edge",
      uid: "u-1",
      generation: 3,
      mode: "count",
      interfaces: ["eth*"],
      attachMode: "native",
      action: "drop",
      reportIntervalMs: 90_000,
    });
  });

  it("carries the spec's nodeSelector, so an agent can tell that its node is no longer selected", () => {
    const selecting = { ...object, spec: { ...object.spec, nodeSelector: { pool: "edge" } } };
    const config = renderAgentConfig(selecting);
    assert.deepEqual(config.nodeSelector, { pool: "edge" });
    assert.deepEqual(parseAgentConfig(JSON.stringify({ ...config, nodeName: "n" })).nodeSelector, {
      pool: "edge",
    });
    assert.equal(nodeMatchesSelector(config, { pool: "edge", other: "x" }), true);
    assert.equal(nodeMatchesSelector(config, { pool: "core" }), false);
    assert.equal(nodeMatchesSelector(config, {}), false);
    assert.equal(nodeMatchesSelector(renderAgentConfig(object), {}), true, "no selector: every node");
    assert.equal(
      renderAgentConfig({ ...object, spec: { ...object.spec, nodeSelector: {} } }).nodeSelector,
      undefined,
    );
  });

  it("renders clean mode once the XdpCounter is being deleted", () => {
    const deleting = {
      ...object,
      metadata: { ...object.metadata, deletionTimestamp: "2026-11-25T11:00:00Z" },
    };
    assert.equal(renderAgentConfig(deleting).mode, "clean");
  });

  it("round-trips through the environment, adding NODE_NAME", () => {
    const env = { [AGENT_CONFIG_ENV]: serializeAgentConfig(renderAgentConfig(object)), NODE_NAME: "node-a" };
    assert.deepEqual(parseAgentConfig(env), { ...renderAgentConfig(object), nodeName: "node-a" });
  });

  it("reads a whole configuration from JSON text", () => {
    const json = JSON.stringify({ ...renderAgentConfig(object), nodeName: "n" });
    assert.equal(parseAgentConfig(json).nodeName, "n");
  });

  it("names what is missing or wrong", () => {
    assert.throws(() => parseAgentConfig({ NODE_NAME: "n" }), /XDP_COUNTER_CONFIG is not set/);
    const config = serializeAgentConfig(renderAgentConfig(object));
    assert.throws(() => parseAgentConfig({ [AGENT_CONFIG_ENV]: config }), /NODE_NAME is not set/);
    assert.throws(() => parseAgentConfig({ [AGENT_CONFIG_ENV]: "{", NODE_NAME: "n" }), /not valid JSON/);
    const bad = JSON.stringify({ ...renderAgentConfig(object), reportIntervalMs: 10, action: "tx" });
    assert.throws(
      () => parseAgentConfig({ [AGENT_CONFIG_ENV]: bad, NODE_NAME: "n" }),
      (error: unknown) =>
        error instanceof ApiError &&
        error.code === "InvalidAgentConfig" &&
        /action/.test(error.message) &&
        /reportIntervalMs/.test(error.message),
    );
    const extra = JSON.stringify({ ...renderAgentConfig(object), surprise: 1 });
    assert.throws(() => parseAgentConfig({ [AGENT_CONFIG_ENV]: extra, NODE_NAME: "n" }), /surprise/);
  });

  it("refuses to render an object without a uid", () => {
    const noUid = { ...object, metadata: { name: "x" } };
    assert.throws(() => renderAgentConfig(noUid), /no metadata.uid/);
  });
});
