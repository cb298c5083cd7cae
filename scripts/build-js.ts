// Compiles what `xdp-counter` runs (the CLI, the agent and the operator: agent/cli/bin.ts and everything it
// imports) to JavaScript in dist/, and copies beside it the files those modules read relative to themselves,
// so dist/ has the repository's layout: dist/agent/cli/bin.js, dist/bpf/xdp_counter.o. The image ships dist/
// (docs/adr/0015); development and tests run the .ts sources. `npm run build:js`, or part of `npm run build`.
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";

const root = join(import.meta.dirname, "..");
export const DIST = join(root, "dist");
/** The compiled entry: what the image's `xdp-counter` and the footprint benchmark run. */
export const DIST_BIN = join(DIST, "agent", "cli", "bin.js");

/**
 * Files the compiled modules open by a path relative to their own (import.meta.dirname), from the repository
 * root; each lands at the same place under dist/. agent/bpf/layout.ts: the XDP program.
 */
export const ASSETS = ["bpf/xdp_counter.o", "bpf/xdp_counter_compat.o"];

export function buildJs(log: (line: string) => void = () => undefined): void {
  for (const asset of ASSETS) {
    if (!existsSync(join(root, asset))) {
      throw new Error(`${asset} is missing: build the BPF objects first (make -C bpf, or npm run build)`);
    }
  }
  // From scratch, so a module deleted from the sources cannot linger in dist/.
  rmSync(DIST, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], {
    cwd: root,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed:\n${r.stdout}${r.stderr}`);
  for (const asset of ASSETS) {
    const to = join(DIST, asset);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(join(root, asset), to);
  }
  // Executable, as agent/cli/bin.ts is: its `#!/usr/bin/env node` line survives compilation.
  chmodSync(DIST_BIN, 0o755);
  log(`built ${relative(process.cwd(), DIST_BIN)}`);
}

if (import.meta.main) {
  try {
    buildJs((line) => process.stdout.write(`${line}\n`));
  } catch (err) {
    process.stderr.write(`build:js: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
