// startCluster(): the test API server, reachable over a cluster network of the project's own, simulated nodes
// (network + mount namespaces and Node objects), and the local controllers that run DaemonSet pods inside
// the nodes and Deployment pods on the host. stop() removes everything, also after a failed test; an aborted
// run is cleaned up by exit and signal handlers.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type ApiServer, type ApiServerOptions, type Identity, startApiServer } from "../apiserver/index.ts";
import { ensureTools } from "../tools.ts";
import { ApiFront } from "./api-front.ts";
import { registerLive, Undo, unregisterLive } from "./cleanup.ts";
import { LocalControllers } from "./controllers.ts";
import {
  allocateIndex,
  type ClusterNet,
  createClusterNet,
  createNodeNet,
  inNode,
  type LinkStats,
  linkStats,
  MAX_NODES,
  type NodeNet,
  releaseIndex,
  sendTraffic,
} from "./network.ts";
import type { PodProcess } from "./pod-process.ts";
import type { Taint } from "./workloads.ts";

export interface NodeSpec {
  /** Default node-N. */
  name?: string;
  labels?: Record<string, string>;
  taints?: Taint[];
}

export interface ClusterOptions {
  nodes: number | NodeSpec[];
  /** CRD YAML files created at start. */
  crds?: string[];
  /** Program names (a container's command[0], or the image's name when it has no command) → local argv. */
  commands?: Record<string, string[]>;
  /** Working directory of pod processes (default: the repository root). */
  cwd?: string;
  /** Readiness probes run at most this far apart (default 500 ms; real ones every periodSeconds). */
  probePeriodMs?: number;
  /** Restart backoff of exited containers (default 500 ms doubling to 5 s). */
  backoffMs?: { initial: number; max: number };
  resyncMs?: number;
  /** More options for the API server (host, port and tlsHosts are the cluster's). */
  apiServer?: Omit<ApiServerOptions, "host" | "port" | "tlsHosts" | "crds">;
  /** Receives the controllers' log lines (default: dropped). */
  log?: (line: string) => void;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface SimNode extends NodeNet {
  traffic: {
    /** Sends `count` UDP frames of `length` bytes from the traffic namespace into the node's eth1. */
    send(count: number, length: number): Promise<number>;
    /** Counters of the node's eth1. */
    stats(): Promise<LinkStats>;
  };
  /** Runs a command inside the node's network and mount namespaces. */
  exec(argv: string[], opts?: { env?: Record<string, string> }): Promise<CommandResult>;
}

export interface PodInfo {
  namespace: string;
  name: string;
  uid: string;
  node: string | undefined;
  pid: number | undefined;
  ready: boolean;
  restartCount: number;
  logFile: string;
  /** The log's contents so far. */
  log(): string;
}

export interface Cluster {
  /** e.g. "xcl7": prefix of every namespace and link the cluster makes. */
  name: string;
  server: ApiServer;
  /** The API server's URL on loopback (tests, kubectl, Helm, Deployments) and on the cluster network (nodes). */
  url: string;
  clusterUrl: string;
  hostIp: string;
  /** Admin kubeconfig (loopback URL). */
  kubeconfigPath: string;
  dir: string;
  nodes: SimNode[];
  node(name: string): SimNode;
  /** Writes a kubeconfig for an identity, with the loopback URL or the cluster-network URL; returns its path. */
  kubeconfig(identity: Identity, network?: "loopback" | "cluster"): string;
  kubectl(args: string[], opts?: { input?: string; kubeconfig?: string }): Promise<CommandResult>;
  helm(args: string[]): Promise<CommandResult>;
  pods(): PodInfo[];
  /** Pods running on a node, or on the host with undefined (Deployments). */
  podsOn(node: string | undefined): PodInfo[];
  /** Kills a running pod's process behind Kubernetes' back, as a crash (default SIGKILL). */
  killPod(node: string | undefined, podName: string, signal?: NodeJS.Signals): void;
  /** API server outage: the cluster's addresses refuse connections (open ones are reset); the store lives on. */
  stopApiServer(): Promise<void>;
  /** Ends the outage, on the same addresses and ports, with the same objects. */
  startApiServer(): Promise<void>;
  labelNode(name: string, labels: Record<string, string | null>): void;
  taintNode(name: string, taints: Taint[]): void;
  addNode(spec?: NodeSpec): Promise<SimNode>;
  deleteNode(name: string): Promise<void>;
  stop(): Promise<void>;
}

const repoRoot = join(import.meta.dirname, "..", "..", "..");

function run(
  cmd: string,
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { maxBuffer: 64 << 20, env: opts.env ?? process.env },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === "number"
            ? (err as { code: number }).code
            : 1
          : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const undo = new Undo();
  registerLive(undo);
  const log = options.log ?? (() => {});
  const index = await allocateIndex();
  undo.push({ kind: "fn", fn: () => releaseIndex(index) });
  let net: ClusterNet;
  let server: ApiServer | undefined;
  let controllers: LocalControllers | undefined;
  let front: ApiFront | undefined;
  const nodeNets = new Map<string, NodeNet>();
  const nodeUndo = new Map<string, Undo>();
  const simNodes: SimNode[] = [];
  let nextIndex = 1;
  let stopped: Promise<void> | undefined;

  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await controllers?.stop().catch(() => undefined);
      await front?.stop().catch(() => undefined);
      await server?.stop().catch(() => undefined);
      undo.runAll();
      unregisterLive(undo);
    })();
    return stopped;
  };

  try {
    net = await createClusterNet(index, undo);
    const tools = ensureTools(repoRoot);
    server = await startApiServer({
      ...(options.apiServer ?? {}),
      host: "127.0.0.1",
      port: 0,
      tlsHosts: [net.hostIp],
      crds: options.crds ?? [],
    });
    const srv = server;
    front = new ApiFront(Number(new URL(srv.url).port));
    const clusterPort = await front.listen(net.hostIp);
    let loopbackPort: number;
    try {
      loopbackPort = await front.listen("127.0.0.1", clusterPort);
    } catch {
      loopbackPort = await front.listen("127.0.0.1");
    }
    const url = `https://127.0.0.1:${loopbackPort}`;
    const clusterUrl = `https://${net.hostIp}:${clusterPort}`;
    const netDir = net.dir;

    let kubeconfigSeq = 0;
    const kubeconfig = (identity: Identity, network: "loopback" | "cluster" = "loopback"): string => {
      const namespace = identity !== "admin" && "serviceAccount" in identity ? identity.namespace : "default";
      return srv.writeKubeconfig(join(netDir, `kubeconfig-${++kubeconfigSeq}`), identity, {
        server: network === "cluster" ? clusterUrl : url,
        namespace,
      });
    };
    const kubeconfigPath = srv.writeKubeconfig(join(netDir, "kubeconfig"), "admin", { server: url });

    controllers = new LocalControllers({
      api: srv.api,
      nodes: nodeNets,
      kubeconfig: (ns, sa, node, path) => {
        srv.writeKubeconfig(
          path,
          { namespace: ns, serviceAccount: sa },
          { server: node ? clusterUrl : url, namespace: ns },
        );
      },
      commands: { node: [process.execPath], ...(options.commands ?? {}) },
      cwd: options.cwd ?? repoRoot,
      dir: netDir,
      probePeriodMs: options.probePeriodMs ?? 500,
      backoffMs: options.backoffMs ?? { initial: 500, max: 5000 },
      resyncMs: options.resyncMs ?? 1000,
      log,
    });
    // Pod processes die before the namespaces and mounts they live in go.
    undo.pushEarly({
      kind: "fn",
      fn() {
        for (const p of controllers?.processes.values() ?? []) {
          const pgid = p.pgid;
          if (pgid)
            try {
              process.kill(-pgid, "SIGKILL");
            } catch {}
        }
      },
    });

    const nodesRi = srv.api.registry.get("", "v1", "nodes");
    if (!nodesRi) throw new Error("the API server serves no nodes");
    const admin = { manager: "local-cluster", fieldValidation: "Strict" as const };

    const addNode = async (spec: NodeSpec = {}): Promise<SimNode> => {
      const index = nextIndex++;
      if (index > MAX_NODES) throw new Error(`at most ${MAX_NODES} nodes per cluster`);
      const name = spec.name ?? `node-${index}`;
      if (!/^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/.test(name))
        throw new Error(`node name ${JSON.stringify(name)}: want a DNS label of at most 32 characters`);
      if (nodeNets.has(name)) throw new Error(`node ${name} exists`);
      const own = new Undo();
      const group = undo.push({ kind: "group", undo: own });
      nodeUndo.set(name, own);
      let nodeNet: NodeNet;
      try {
        nodeNet = await createNodeNet(net, name, index, own);
      } catch (err) {
        undo.runNow(group);
        throw err;
      }
      const nn = nodeNet;
      const sim: SimNode = {
        ...nn,
        traffic: {
          send: (count, length) => sendTraffic(nn, count, length),
          stats: () => linkStats(nn.netns, "eth1"),
        },
        exec: (argv, opts = {}) => {
          const [cmd, ...args] = inNode(nn, argv);
          return run(cmd as string, args, { env: { ...process.env, ...(opts.env ?? {}) } });
        },
      };
      nodeNets.set(name, nn);
      simNodes.push(sim);
      const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      srv.api.create(
        nodesRi,
        undefined,
        {
          apiVersion: "v1",
          kind: "Node",
          metadata: {
            name,
            labels: {
              "kubernetes.io/hostname": name,
              "kubernetes.io/os": "linux",
              "kubernetes.io/arch": process.arch === "x64" ? "amd64" : process.arch,
              ...(spec.labels ?? {}),
            },
          },
          spec: spec.taints?.length ? { taints: spec.taints } : {},
          status: {
            addresses: [
              { type: "InternalIP", address: nn.ip },
              { type: "Hostname", address: name },
            ],
            conditions: [
              {
                type: "Ready",
                status: "True",
                reason: "KubeletReady",
                message: "local kubelet is posting ready status",
                lastHeartbeatTime: now,
                lastTransitionTime: now,
              },
            ],
            capacity: { cpu: "2", memory: "4Gi", pods: "110" },
            allocatable: { cpu: "2", memory: "4Gi", pods: "110" },
            nodeInfo: {
              kubeletVersion: "v1.34.0",
              containerRuntimeVersion: "local://xdp-counter",
              operatingSystem: "linux",
              architecture: process.arch === "x64" ? "amd64" : process.arch,
              osImage: "xdp-counter simulated node",
              kernelVersion: readFileSync("/proc/sys/kernel/osrelease", "utf8").trim(),
            },
            daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
          },
        },
        admin,
      );
      return sim;
    };

    const specs: NodeSpec[] =
      typeof options.nodes === "number" ? Array.from({ length: options.nodes }, () => ({})) : options.nodes;
    for (const spec of specs) await addNode(spec);

    const info = (p: PodProcess): PodInfo => ({
      namespace: p.spec.namespace,
      name: p.spec.name,
      uid: p.spec.uid,
      node: p.spec.node,
      pid: p.pid,
      ready: p.ready,
      restartCount: p.restartCount,
      logFile: p.spec.logFile,
      log: () => readFileSync(p.spec.logFile, "utf8"),
    });
    const ctl = controllers;
    const fr = front;

    return {
      name: net.prefix,
      server: srv,
      url,
      clusterUrl,
      hostIp: net.hostIp,
      kubeconfigPath,
      dir: netDir,
      nodes: simNodes,
      node(name) {
        const n = simNodes.find((s) => s.name === name);
        if (!n) throw new Error(`no node ${name}`);
        return n;
      },
      kubeconfig,
      kubectl: (args, opts = {}) =>
        run(tools.kubectl, ["--kubeconfig", opts.kubeconfig ?? kubeconfigPath, ...args], {
          ...(opts.input !== undefined ? { input: opts.input } : {}),
        }),
      helm: (args) =>
        run(tools.helm, ["--kubeconfig", kubeconfigPath, ...args], {
          env: {
            ...process.env,
            HELM_CACHE_HOME: join(netDir, "helm", "cache"),
            HELM_CONFIG_HOME: join(netDir, "helm", "config"),
            HELM_DATA_HOME: join(netDir, "helm", "data"),
          },
        }),
      pods: () => [...ctl.processes.values()].map(info),
      podsOn: (node) => [...ctl.processes.values()].filter((p) => p.spec.node === node).map(info),
      killPod(node, podName, signal = "SIGKILL") {
        const p = [...ctl.processes.values()].find((x) => x.spec.node === node && x.spec.name === podName);
        if (!p) throw new Error(`no pod ${podName} on ${node ?? "the host"}`);
        if (!p.signal(signal)) throw new Error(`pod ${podName} has no running process`);
      },
      async stopApiServer() {
        ctl.paused = true;
        await fr.stop();
      },
      async startApiServer() {
        await fr.start();
        ctl.paused = false;
      },
      labelNode(name, labels) {
        srv.api.patch(nodesRi, undefined, name, "merge", { metadata: { labels } }, admin);
      },
      taintNode(name, taints) {
        srv.api.patch(
          nodesRi,
          undefined,
          name,
          "merge",
          { spec: { taints: taints.length ? taints : null } },
          admin,
        );
      },
      addNode,
      async deleteNode(name) {
        try {
          srv.api.delete(nodesRi, undefined, name, {});
        } catch {}
        await ctl.stopNode(name);
        nodeNets.delete(name);
        const i = simNodes.findIndex((s) => s.name === name);
        if (i >= 0) simNodes.splice(i, 1);
        const own = nodeUndo.get(name);
        if (own) own.runAll();
        nodeUndo.delete(name);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
