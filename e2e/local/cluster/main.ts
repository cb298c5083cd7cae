#!/usr/bin/env node
// Starts a local cluster, prints its admin kubeconfig and waits until Ctrl-C (SIGINT or SIGTERM), then tears
// everything down. Needs root.
//   node e2e/local/cluster/main.ts --nodes 2 [--crd crds/xdpcounter.yaml]... [--command NAME=ARGV0,ARG...]...
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startCluster } from "./index.ts";

const repo = join(import.meta.dirname, "..", "..", "..");
const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "2" },
    crd: { type: "string", multiple: true, default: [] },
    command: { type: "string", multiple: true, default: [] },
    verbose: { type: "boolean", short: "v", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  process.stdout.write(
    "usage: node e2e/local/cluster/main.ts [--nodes N] [--crd FILE]... [--command NAME=ARGV0,ARG...]... [-v]\n" +
      "  --command maps a container's program (or image name) to a local command line;\n" +
      "  xdp-counter is mapped to this checkout's agent/cli/bin.ts by default.\n",
  );
  process.exit(0);
}
const nodes = Number(values.nodes);
if (!Number.isInteger(nodes) || nodes < 0) {
  process.stderr.write(`--nodes must be a whole number, got ${values.nodes}\n`);
  process.exit(2);
}
const commands: Record<string, string[]> = {
  "xdp-counter": [process.execPath, join(repo, "agent", "cli", "bin.ts")],
};
for (const c of values.command) {
  const [name, argv] = c.split("=", 2);
  if (!name || !argv) {
    process.stderr.write(`--command wants NAME=ARGV0,ARG..., got ${c}\n`);
    process.exit(2);
  }
  commands[name] = argv.split(",");
}

const cluster = await startCluster({
  nodes,
  crds: values.crd,
  commands,
  ...(values.verbose ? { log: (line: string) => process.stderr.write(`${line}\n`) } : {}),
});
process.stdout.write(
  [
    `cluster ${cluster.name}: API server ${cluster.url} (nodes reach it at ${cluster.clusterUrl})`,
    ...cluster.nodes.map(
      (n) => `  ${n.name}: eth0 ${n.ip}, netns ${n.netns}, mount ns ${n.mountNs}, traffic ns ${n.trafficNs}`,
    ),
    `export KUBECONFIG=${cluster.kubeconfigPath}`,
    "Ctrl-C stops the cluster and removes everything.",
    "",
  ].join("\n"),
);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  process.stdout.write("stopping...\n");
  cluster.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`stop failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
