#!/usr/bin/env node
// Starts a local cluster of real nodes (the real control plane, and nodes node-1..node-N with the product's
// image imported), prints how to reach it from a shell and waits; Ctrl-C (SIGINT) or SIGTERM removes
// everything it made (the cluster's own handlers do, then the process ends by that signal). Needs root.
//   node e2e/local/node/main.ts [--nodes N] [--no-image] [-v]
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { ensureTools } from "../tools.ts";
import { startCluster } from "./cluster.ts";
import { productImage } from "./images/product.ts";
import { MAX_NODES } from "./plan.ts";

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "2" },
    "no-image": { type: "boolean", default: false },
    verbose: { type: "boolean", short: "v", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  process.stdout.write(
    "usage: node e2e/local/node/main.ts [--nodes N] [--no-image] [-v]\n" +
      "  --no-image  only the pause image on the nodes (faster; the chart needs the product's image)\n",
  );
  process.exit(0);
}
const count = Number(values.nodes);
if (!Number.isInteger(count) || count < 1 || count > MAX_NODES) {
  process.stderr.write(`--nodes must be a whole number from 1 to ${MAX_NODES}, got ${values.nodes}\n`);
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  process.stderr.write("real nodes need root: network and mount namespaces, cgroups\n");
  process.exit(3);
}
const log = values.verbose ? (line: string) => process.stderr.write(`${line}\n`) : () => {};
const tools = ensureTools();
const image = values["no-image"] ? undefined : await productImage(log);
const cluster = await startCluster({
  nodes: Array.from({ length: count }, (_, i) => ({ name: `node-${i + 1}` })),
  images: image ? [image] : [],
  log,
});
// the cluster's processes do not keep this process alive (a forgotten cluster must not): this does
setInterval(() => {}, 1 << 30);
process.stdout.write(
  [
    `# cluster ${cluster.plan.id}: Kubernetes ${cluster.controlPlane.version}, API server ${cluster.controlPlane.url}`,
    ...cluster.nodes.map(
      (n) =>
        `#   ${n.name}: eth0 ${n.plan.ip}, eth1 (traffic), netns ${n.plan.netns}, mount ns ${n.ns.mountNs}, ` +
        `traffic netns ${n.plan.trafficNs}`,
    ),
    ...(image
      ? [`# the product's image: ${image.name} (imported; helm install with image.pullPolicy=Never)`]
      : []),
    `export KUBECONFIG=${cluster.kubeconfig}`,
    `export PATH=${dirname(cluster.controlPlane.kubectl)}:${dirname(tools.helm)}:$PATH`,
    "# Ctrl-C stops the cluster and removes everything.",
    "",
  ].join("\n"),
);
