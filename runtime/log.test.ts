import assert from "node:assert/strict";
import { test } from "node:test";
import { RuntimeError, RuntimeErrorCode } from "./errors.ts";
import { createLogger, silentLogger } from "./log.ts";

test("logs are one JSON object per line with time, level, message, base and own fields", () => {
  const lines: string[] = [];
  const log = createLogger({ write: (line) => lines.push(line), fields: { component: "operator" } });
  log.debug("hidden");
  log.info("reconciled", { xdpcounter: "edge", total: 2n ** 64n - 1n });
  log.child({ informer: "nodes" }).warn("watch disconnect", {
    error: new RuntimeError(RuntimeErrorCode.Connection, "reset"),
  });
  assert.equal(lines.length, 2);
  const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(first && second);
  assert.match(String(first.time), /^\d{4}-\d\d-\d\dT/);
  assert.deepEqual(
    { ...first, time: undefined },
    {
      time: undefined,
      level: "info",
      msg: "reconciled",
      component: "operator",
      xdpcounter: "edge",
      total: "18446744073709551615",
    },
  );
  assert.equal(second.level, "warn");
  assert.equal(second.informer, "nodes");
  assert.equal(second.component, "operator");
  assert.deepEqual(second.error, { name: "RuntimeError", message: "reset", code: "Connection" });
});

test("the level drops lower lines; the clock is injectable; a child keeps level and writer", () => {
  const lines: string[] = [];
  const log = createLogger({
    level: "warn",
    write: (line) => lines.push(line),
    now: () => new Date("2026-01-02T03:04:05.000Z"),
  });
  log.info("dropped");
  log.child({ node: "n1" }).info("dropped too");
  log.child({ node: "n1" }).error("kept", { node: "n2" });
  assert.deepEqual(
    lines.map((l) => JSON.parse(l)),
    [{ time: "2026-01-02T03:04:05.000Z", level: "error", msg: "kept", node: "n2" }],
  );
});

test("the silent logger writes nothing", () => {
  silentLogger.error("nothing");
  silentLogger.child({ a: 1 }).error("nothing");
});
