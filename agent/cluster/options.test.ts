import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_AGENT_PORT, parseAgentFlags } from "./options.ts";

describe("agent flags", () => {
  it("defaults to the operator's agent port and the standard pin root", () => {
    const f = parseAgentFlags([], {});
    assert.equal(f.port, DEFAULT_AGENT_PORT);
    assert.equal(f.pinRoot, "/sys/fs/bpf/xdp-counter");
    assert.equal(f.pollMs, 5_000);
  });

  it("takes flags and environment", () => {
    const f = parseAgentFlags(["--port", "0", "--poll-interval", "500ms", "--log-level", "debug"], {
      XDP_COUNTER_PIN_ROOT: "/sys/fs/bpf/t",
    });
    assert.deepEqual([f.port, f.pollMs, f.logLevel, f.pinRoot], [0, 500, "debug", "/sys/fs/bpf/t"]);
    assert.equal(parseAgentFlags([], { XDP_COUNTER_AGENT_PORT: "9000" }).port, 9000);
  });

  it("refuses bad values naming the flag", () => {
    assert.throws(() => parseAgentFlags(["--port", "x"], {}), /--port "x"/);
    assert.throws(() => parseAgentFlags(["--poll-interval", "1ms"], {}), /--poll-interval/);
    assert.throws(() => parseAgentFlags(["--log-level", "loud"], {}), /--log-level/);
    assert.throws(() => parseAgentFlags(["--surprise"], {}), /surprise/);
  });
});
