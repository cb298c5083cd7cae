#!/usr/bin/env node
// Starts a control plane, prints how to use it from a shell, and stops it on Ctrl-C (SIGINT) or SIGTERM,
// removing everything it made.
//   node e2e/local/controlplane/main.ts [--quiet]
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { startControlPlane } from "./index.ts";

const { values } = parseArgs({
  options: {
    quiet: { type: "boolean", short: "q", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  process.stdout.write("usage: node e2e/local/controlplane/main.ts [--quiet]\n");
  process.exit(0);
}

let stopping = false;
let stopControlPlane: (() => Promise<void>) | undefined;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  if (!stopControlPlane) process.exit(130);
  process.stderr.write("stopping...\n");
  stopControlPlane().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`stop failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

try {
  const cp = await startControlPlane(
    values.quiet ? {} : { log: (line: string) => process.stderr.write(`controlplane: ${line}\n`) },
  );
  stopControlPlane = cp.stop;
  // the components' processes do not keep this process alive (a forgotten control plane must not): this does
  setInterval(() => {}, 1 << 30);
  process.stdout.write(
    [
      `# Kubernetes ${cp.version} control plane ${cp.id}: API server ${cp.url}, state in ${cp.dir}`,
      `export KUBECONFIG=${cp.kubeconfig}`,
      `export PATH=${dirname(cp.kubectl)}:$PATH`,
      "# Ctrl-C stops it and removes everything.",
      "",
    ].join("\n"),
  );
} catch (err) {
  process.stderr.write(`controlplane: ${(err as Error).message}\n`);
  process.exit(1);
}
