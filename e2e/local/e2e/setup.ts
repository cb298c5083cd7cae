// The local cluster as the end-to-end suite and the demo use it: two simulated nodes running this checkout's
// `xdp-counter` for the chart's image, the chart installed with Helm as a user installs it.
import { join } from "node:path";
import type { ScenarioCluster } from "../../scenario/index.ts";
import { type Cluster, type CommandResult, startCluster } from "../cluster/index.ts";
import { freePort } from "../cluster/testdata/probe.ts";

export const repo = join(import.meta.dirname, "..", "..", "..");
export const chart = join(repo, "charts", "xdp-counter");
export const RELEASE = "xdp-counter";
export const NAMESPACE = "xdp-counter";

/** A local cluster of `nodes` simulated nodes where the image's `xdp-counter` is this checkout's CLI. */
export function startLocalCluster(nodes = 2): Promise<Cluster> {
  return startCluster({
    nodes,
    commands: { "xdp-counter": [process.execPath, join(repo, "agent", "cli", "bin.ts")] },
  });
}

/** The local cluster as the shared scenario sees it. */
export function scenarioOf(c: Cluster): ScenarioCluster {
  return {
    kubectl: (args, opts) => c.kubectl(args, opts),
    execOnNode: (node, argv) => c.node(node).exec(argv),
  };
}

/**
 * `helm install` of the chart into NAMESPACE, waiting for the operator. The operator's pod runs on the host
 * (as Deployment pods do on the local cluster), whose ports other tests share: it gets a free port.
 */
export async function helmInstall(c: Cluster, extra: string[] = []): Promise<CommandResult> {
  const port = await freePort();
  return c.helm([
    "install",
    RELEASE,
    chart,
    "--namespace",
    NAMESPACE,
    "--create-namespace",
    "--set",
    `operator.port=${port}`,
    "--wait",
    "--timeout",
    "90s",
    ...extra,
  ]);
}
