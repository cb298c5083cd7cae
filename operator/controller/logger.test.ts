import assert from "node:assert/strict";
import { test } from "node:test";
import { ControllerError, ControllerErrorCode } from "./errors.ts";
import { createLogger } from "./logger.ts";

test("logs are one JSON object per line with time, level, message, base and own fields", () => {
  const lines: string[] = [];
  const log = createLogger("info", (line) => lines.push(line), { component: "operator" });
  log.debug("hidden");
  log.info("reconciled", { xdpcounter: "edge", total: 2n ** 64n - 1n });
  log.child({ informer: "nodes" }).warn("watch disconnect", {
    error: new ControllerError(ControllerErrorCode.Connection, "reset"),
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
  assert.deepEqual(second.error, { name: "ControllerError", message: "reset", code: "Connection" });
});
