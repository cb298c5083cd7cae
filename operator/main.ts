#!/usr/bin/env node
// The operator's entry point: node operator/main.ts [--flag value]... (see --help).
import { runOperator } from "./run-operator.ts";

process.exitCode = await runOperator(process.argv.slice(2));
