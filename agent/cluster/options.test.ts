import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_AGENT_PORT, parseAgentFlags } from "./options.ts";

describe("agent flags", () => {
  it("defaults to the operator's agent port and the standard pin root", () => {
    const f = parseAgentFlags([], {});
    assert.equal(f.port, DEFAULT_AGENT_PORT);
    assert.equal(f.pinRoot, "/sys/fs/bpf/xdp-counter");
    assert.equal(f.pollMs, 5_000);
    assert.equal(f.reportWritesPerMinute, 1, "one report write a minute per node");
  });

  it("takes flags and environment", () => {
    const f = parseAgentFlags(["--port", "0", "--poll-interval", "500ms", "--log-level", "debug"], {
      XDP_COUNTER_PIN_ROOT: "/sys/fs/bpf/t",
    });
    assert.deepEqual([f.port, f.pollMs, f.logLevel, f.pinRoot], [0, 500, "debug", "/sys/fs/bpf/t"]);
    assert.equal(parseAgentFlags([], { XDP_COUNTER_AGENT_PORT: "9000" }).port, 9000);
    assert.equal(
      parseAgentFlags([], { XDP_COUNTER_REPORT_WRITES_PER_MINUTE: "0.5" }).reportWritesPerMinute,
      0.5,
    );
    assert.equal(parseAgentFlags(["--report-writes-per-minute", "600"], {}).reportWritesPerMinute, 600);
  });

  it("refuses bad values naming the flag", () => {
    assert.throws(() => parseAgentFlags(["--port", "x"], {}), /--port "x"/);
    assert.throws(() => parseAgentFlags(["--poll-interval", "1ms"], {}), /--poll-interval/);
    assert.throws(() => parseAgentFlags(["--log-level", "loud"], {}), /--log-level/);
    assert.throws(() => parseAgentFlags(["--surprise"], {}), /surprise/);
    for (const bad of ["0", "-1", "x", "1e3", "6001"])
      assert.throws(
        () => parseAgentFlags([`--report-writes-per-minute=${bad}`], {}),
        new RegExp(`--report-writes-per-minute "${bad}" must be a number above 0`),
      );
  });
});
