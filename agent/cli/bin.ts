#!/usr/bin/env node
// xdp-counter: the standalone CLI. See `xdp-counter --help`.
import { main } from "./main.ts";

const code = await main(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  isTTY: process.stdout.isTTY === true,
});
process.exitCode = code;
