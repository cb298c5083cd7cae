import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { OperatorError } from "../errors.ts";
import { describeSettings, parseOperatorConfig } from "./operator-config.ts";
import { SETTINGS } from "./settings.ts";

const minimal = {
  XDP_COUNTER_NAMESPACE: "xdp-system",
  XDP_COUNTER_AGENT_IMAGE: "ghcr.io/x/xdp-counter:0.1.0",
};

describe("operator configuration", () => {
  it("fills defaults around the two required settings", () => {
    assert.deepEqual(parseOperatorConfig(minimal), {
      namespace: "xdp-system",
      leaderElect: true,
      leaseName: "xdp-counter-operator",
      identity: "xdp-counter-operator",
      agentDaemonSet: "xdp-counter-agent",
      agentSpecs: "xdp-counter-agent-specs",
      ownerDeployment: undefined,
      agentImage: "ghcr.io/x/xdp-counter:0.1.0",
      agentImagePullPolicy: "IfNotPresent",
      agentCommand: ["xdp-counter", "agent"],
      logLevel: "info",
      port: 8080,
      agentPort: 9731,
      agentCpuRequest: "20m",
      agentMemoryRequest: "64Mi",
      agentCpuLimit: undefined,
      agentMemoryLimit: "256Mi",
      agentServiceAccount: "xdp-counter-agent",
      agentPriorityClassName: undefined,
      agentTerminationGracePeriodSeconds: 30,
      agentMaxUnavailable: "10%",
      agentReportWritesPerMinute: 1,
    });
  });

  it("reads leader election settings; the identity falls back to POD_NAME, then HOSTNAME", () => {
    const off = parseOperatorConfig({ ...minimal, XDP_COUNTER_LEADER_ELECT: "false", HOSTNAME: "host-1" });
    assert.equal(off.leaderElect, false);
    assert.equal(off.identity, "host-1");
    assert.equal(parseOperatorConfig({ ...minimal, POD_NAME: "op-0", HOSTNAME: "h" }).identity, "op-0");
    assert.throws(
      () => parseOperatorConfig(minimal, ["--leader-elect", "yes"]),
      /--leader-elect.*must be true or false/,
    );
  });

  it("takes POD_NAMESPACE when XDP_COUNTER_NAMESPACE is unset", () => {
    const config = parseOperatorConfig({
      POD_NAMESPACE: "ns-from-downward-api",
      XDP_COUNTER_AGENT_IMAGE: "i",
    });
    assert.equal(config.namespace, "ns-from-downward-api");
  });

  it("lets a flag win over its variable, in both flag forms", () => {
    const config = parseOperatorConfig(minimal, [
      "--namespace=other",
      "--agent-port",
      "9999",
      '--agent-command=["node","agent/main.ts"]',
      "--agent-max-unavailable=2",
      "--agent-report-writes-per-minute=0.5",
    ]);
    assert.equal(config.namespace, "other");
    assert.equal(config.agentPort, 9999);
    assert.deepEqual(config.agentCommand, ["node", "agent/main.ts"]);
    assert.equal(config.agentMaxUnavailable, 2);
    assert.equal(config.agentReportWritesPerMinute, 0.5);
  });

  it("names every bad setting by variable and flag", () => {
    assert.throws(
      () =>
        parseOperatorConfig({
          XDP_COUNTER_NAMESPACE: "Bad_NS",
          XDP_COUNTER_AGENT_PORT: "70000",
          XDP_COUNTER_AGENT_MEMORY_LIMIT: "lots",
          XDP_COUNTER_AGENT_COMMAND: "xdp-counter agent",
          XDP_COUNTER_LOG_LEVEL: "loud",
        }),
      (error: unknown) => {
        assert.ok(error instanceof OperatorError);
        assert.equal(error.code, "InvalidConfig");
        for (const expected of [
          /XDP_COUNTER_NAMESPACE or POD_NAMESPACE \(--namespace\) = "Bad_NS": must be a DNS label/,
          /XDP_COUNTER_AGENT_IMAGE \(--agent-image\) is required/,
          /XDP_COUNTER_AGENT_PORT \(--agent-port\) = "70000"/,
          /XDP_COUNTER_AGENT_MEMORY_LIMIT \(--agent-memory-limit\) = "lots": must be a Kubernetes quantity/,
          /XDP_COUNTER_AGENT_COMMAND \(--agent-command\) = "xdp-counter agent": must be a JSON array/,
          /XDP_COUNTER_LOG_LEVEL \(--log-level\)/,
        ]) {
          assert.match(error.message, expected);
        }
        return true;
      },
    );
  });

  it("refuses unknown flags, stray arguments and a flag without a value", () => {
    assert.throws(() => parseOperatorConfig(minimal, ["--agent-imag=x"]), /unknown flag --agent-imag/);
    assert.throws(() => parseOperatorConfig(minimal, ["run"]), /unexpected argument "run"/);
    assert.throws(() => parseOperatorConfig(minimal, ["--port"]), /--port needs a value/);
  });

  it("refuses a percentage above 100 and a zero count", () => {
    assert.throws(
      () => parseOperatorConfig({ ...minimal, XDP_COUNTER_AGENT_MAX_UNAVAILABLE: "101%" }),
      /MAX_UNAVAILABLE/,
    );
    assert.throws(
      () => parseOperatorConfig({ ...minimal, XDP_COUNTER_AGENT_MAX_UNAVAILABLE: "0" }),
      /MAX_UNAVAILABLE/,
    );
  });
});

describe("describeSettings", () => {
  it("lists every setting with its flag and variables", () => {
    const help = describeSettings();
    for (const setting of Object.values(SETTINGS)) {
      assert.ok(help.includes(`--${setting.flag}`), setting.flag);
      for (const variable of setting.env) assert.ok(help.includes(variable), variable);
    }
  });
});
