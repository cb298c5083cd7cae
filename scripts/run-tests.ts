// Runs every *.test.ts file under the project's source folders with node's test runner, one file at a time
// (tests that touch the kernel share interfaces and bpffs, so they never run in parallel).
// Usage: node scripts/run-tests.ts [path-fragment ...]   e.g. `npm test -- agent/bpf`
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";

const root = join(import.meta.dirname, "..");
const skip = new Set(["node_modules", ".git", "dist", ".tools"]);

function find(dir: string, out: string[]): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skip.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) find(path, out);
    else if (entry.name.endsWith(".test.ts")) out.push(relative(root, path));
  }
  return out;
}

const filters = process.argv.slice(2);
const files = find(root, [])
  .filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(" ")}`);
  process.exit(1);
}
// --test-force-exit: a file whose tests are done exits even if a handle would keep it alive (seen once: a
// test process spinning in Node's exit-time handle clean-up after every test had passed).
const result = spawnSync(
  process.execPath,
  [
    "--test",
    "--test-concurrency=1",
    "--test-force-exit",
    "--test-timeout=600000",
    "--test-reporter=spec",
    ...files,
  ],
  { cwd: root, stdio: "inherit" },
);
process.exit(result.status ?? 1);
