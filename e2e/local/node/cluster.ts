// A whole local cluster with real nodes: the control plane (e2e/local/controlplane) and nodes started here, on
// a cluster network of their own. Steps, in order, each undone in reverse by stop():
//
//   clean what killed runs left        (state.ts: every cluster folder whose owner is gone)
//   the cluster's folder and index     (its address ranges and names follow from the index: plan.ts)
//   the cluster network                (switch namespace, bridge, the host's link and address)
//   the images                         (pause, and any other asked for, from the cache; built if missing)
//   the control plane                  (advertising the host's cluster address, Services in the cluster's range)
//   the API forwarder                  (the host's cluster address to the API server on loopback)
//   the nodes, side by side
//   the `default` ServiceAccount      (made by the controller manager; a first pod needs it)
import { execFile } from "node:child_process";
import type { CommandResult } from "../../scenario/index.ts";
import { type ControlPlane, startControlPlane } from "../controlplane/index.ts";
import { ensureTools } from "../tools.ts";
import { hostHierarchies, v1Hierarchies } from "./cgroups.ts";
import { inNode } from "./cmd.ts";
import {
  apiServerFlags,
  controlPlaneCa,
  nodeApiServerUrl,
  startApiForwarder,
} from "./controlplane-access.ts";
import type { CachedImage } from "./images/cache.ts";
import { pauseImage } from "./images/pause.ts";
import { createSwitch, deleteSwitch } from "./network.ts";
import { type Node, startNode, waitFor } from "./node.ts";
import { type ClusterPlan, clusterPlan, MAX_NODES } from "./plan.ts";
import {
  allocateCluster,
  destroyClusterSync,
  nodesStateRoot,
  registerLiveCluster,
  removeAbandonedClusters,
  unregisterLiveCluster,
} from "./state.ts";
import { type Log, Steps } from "./steps.ts";

export interface NodeSpec {
  name: string;
  labels?: Record<string, string>;
}

export interface ClusterOptions {
  nodes: NodeSpec[];
  /** images every node imports besides the pause image (e.g. the product's: images/product.ts) */
  images?: CachedImage[];
  log?: Log;
  /** the state root (default /var/lib/xdp-counter/nodes) */
  stateRoot?: string;
}

export interface Cluster extends AsyncDisposable {
  readonly plan: ClusterPlan;
  readonly dir: string;
  readonly controlPlane: ControlPlane;
  readonly nodes: readonly Node[];
  /** the admin's kubeconfig */
  readonly kubeconfig: string;
  /** milliseconds from the first step to every node Ready */
  readonly startMs: number;
  node(name: string): Node;
  /** kubectl (the control plane's, 1.37) as the admin, or with another kubeconfig; never throws */
  kubectl(args: string[], opts?: { input?: string; kubeconfig?: string }): Promise<CommandResult>;
  /** Helm (the project's pinned Helm 4) as the admin; never throws */
  helm(args: string[]): Promise<CommandResult>;
  /** runs a command in a node's mount and network namespaces; never throws */
  execOnNode(node: string, argv: string[]): Promise<CommandResult>;
  /** stops everything and removes all of it; throws listing what could not be removed */
  stop(): Promise<void>;
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  if (options.nodes.length < 1 || options.nodes.length > MAX_NODES)
    throw new Error(`a cluster has 1..${MAX_NODES} nodes, not ${options.nodes.length}`);
  const began = performance.now();
  const log = options.log ?? (() => {});
  const root = options.stateRoot ?? nodesStateRoot();
  for (const id of removeAbandonedClusters(root)) log(`cluster: removed what a killed run left: ${id}`);

  const { index, dir } = allocateCluster(root);
  registerLiveCluster(root, index);
  const plan = clusterPlan(index);
  const steps = new Steps(`cluster ${plan.id}`, log);
  steps.undo("remove the cluster's folder and anything left of it", () => {
    const left = destroyClusterSync(root, index);
    unregisterLiveCluster(index);
    if (left.length) throw new Error(`left: ${left.join(", ")}`);
  });
  const nodes: Node[] = [];
  try {
    await steps.run(`cluster network ${plan.network} (host ${plan.hostIp})`, () => createSwitch(plan), {
      name: "delete the cluster network",
      fn: () => deleteSwitch(plan),
    });
    const pause = await steps.run("pause image", () => pauseImage());
    const cp = await steps.run(
      "control plane",
      () =>
        startControlPlane({
          serviceClusterIpRange: plan.serviceRange,
          extraFlags: { "kube-apiserver": apiServerFlags(plan) },
          log: (line) => log(`control plane: ${line}`),
        }),
      { name: "stop the control plane", fn: (c) => c.stop() },
    );
    await steps.run(
      `API server forwarded from ${nodeApiServerUrl(cp, plan)}`,
      () => startApiForwarder(cp, plan, dir),
      {
        name: "stop the API forwarder",
        fn: (f) => f.stop(),
      },
    );
    const hierarchies = hostHierarchies();
    if (v1Hierarchies(hierarchies).length === 0)
      throw new Error("no cgroup v1 hierarchy under /sys/fs/cgroup: the nodes are configured for cgroup v1");
    const ca = controlPlaneCa(cp);
    await steps.run(`${options.nodes.length} node(s) Ready`, async () => {
      const results = await Promise.allSettled(
        options.nodes.map((spec, i) =>
          startNode({
            cluster: plan,
            clusterDir: dir,
            name: spec.name,
            index: i + 1,
            labels: spec.labels ?? {},
            apiServerUrl: nodeApiServerUrl(cp, plan),
            ca,
            caPem: cp.caPem,
            admin: cp.client,
            pauseImage: pause,
            images: options.images ?? [],
            hierarchies,
            log,
          }),
        ),
      );
      for (const r of results) if (r.status === "fulfilled") nodes.push(r.value);
      const failed = results.find((r) => r.status === "rejected");
      if (failed) throw failed.reason;
    });
    steps.undo("stop the nodes", async () => {
      const failures = (await Promise.all(nodes.map((n) => n.stop()))).flat();
      if (failures.length) throw new Error(failures.join("; "));
    });
    // a pod needs its namespace's `default` ServiceAccount, which the controller manager makes shortly after
    // it starts; a user's first `kubectl apply` must not race it
    await steps.run("the default ServiceAccount", () =>
      waitFor("the ServiceAccount default/default", [], 90_000, async () => {
        const res = await cp.client.call("GET", "/api/v1/namespaces/default/serviceaccounts/default");
        return res.status === 200;
      }),
    );
    const startMs = performance.now() - began;
    log(`cluster ${plan.id}: ${nodes.length} node(s) Ready in ${(startMs / 1000).toFixed(1)} s`);

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        const failures = await steps.undoAll();
        if (failures.length) throw new Error(`the cluster's clean-up failed: ${failures.join("; ")}`);
      })();
      return stopping;
    };
    return {
      plan,
      dir,
      controlPlane: cp,
      nodes,
      kubeconfig: cp.kubeconfig,
      startMs,
      node: (name) => {
        const n = nodes.find((x) => x.name === name);
        if (!n) throw new Error(`no node ${name}`);
        return n;
      },
      kubectl: (args, opts = {}) =>
        capture([cp.kubectl, `--kubeconfig=${opts.kubeconfig ?? cp.kubeconfig}`, ...args], opts.input),
      helm: (args) => capture([ensureTools().helm, `--kubeconfig=${cp.kubeconfig}`, ...args]),
      execOnNode: (name, argv) => {
        const n = nodes.find((x) => x.name === name);
        if (!n) return Promise.resolve({ code: -1, stdout: "", stderr: `no node ${name}` });
        return capture(inNode(n.ns, argv));
      },
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop()));
    const failures = await steps.undoAll();
    if (failures.length) log(`cluster ${plan.id}: clean-up after the failure: ${failures.join("; ")}`);
    throw err;
  }
}

/** Runs a command and returns its exit code and output; never throws. */
function capture(argv: string[], input?: string): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(
      argv[0] as string,
      argv.slice(1),
      { maxBuffer: 64 << 20, env: { ...process.env, KUBECONFIG: "" } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        resolve({ code, stdout, stderr: stderr || (err && code === -1 ? err.message : "") });
      },
    );
    // A command that exits without reading its input closes the pipe: EPIPE on write is no failure of
    // ours, its exit code and output tell what happened.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(input ?? "");
  });
}
