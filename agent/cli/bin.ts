#!/usr/bin/env node
// xdp-counter: the standalone CLI (see `xdp-counter --help`), `xdp-counter agent`, the in-cluster agent the
// DaemonSet runs (see `xdp-counter agent --help`), and `xdp-counter operator`, the operator the chart's
// Deployment runs (see `xdp-counter operator --help`); the last two are loaded only when asked for.
import { main } from "./main.ts";

const argv = process.argv.slice(2);
if (argv[0] === "agent") {
  const { runAgent } = await import("../cluster/main.ts");
  // exit now: a status write still in flight (up to its timeout) must not hold a stopping agent
  process.exit(await runAgent(argv.slice(1)));
} else if (argv[0] === "operator") {
  const { runOperator } = await import("../../operator/run-operator.ts");
  process.exitCode = await runOperator(argv.slice(1));
} else {
  process.exitCode = await main(argv, {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    isTTY: process.stdout.isTTY === true,
  });
}
