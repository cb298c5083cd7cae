// A real node: the launcher reads as kind's node entrypoint does, one small named step after another, each
// logged with its time and each undone in reverse order by stop(). What a node holds, in the order it is made:
//
//   its folder                  certificates, configuration, containerd's and the kubelet's data, logs, pids
//   a network namespace         eth0 on the cluster network, eth1 (the NIC the agent counts on) to a traffic ns
//   a mount namespace           own /run, /var/log, /var/lib/cni, sysfs, cgroup mounts, bpffs (mounts.ts)
//   cgroups                     its cgroupRoot in every hierarchy; its daemons in <cgroupRoot>/node
//   containerd                  Debian's 1.6 with runc and the CNI plugins (containerd.ts, cni.ts)
//   images                      the pause image and any other, imported from tarballs: nothing is pulled
//   the kubelet                 1.37, registering as system:node:NAME (kubelet.ts)
//   kube-proxy                  iptables mode, for the `kubernetes` Service and the others (kube-proxy.ts)

import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { dirname } from "node:path";
import type { ApiClient } from "../../../runtime/index.ts";
import { kubeBinary } from "../../kube/binaries.ts";
import {
  createNodeCgroups,
  daemonProcsFiles,
  destroyCgroups,
  type Hierarchy,
  killAllUnder,
} from "./cgroups.ts";
import { inNode, type NodeNamespaces, run } from "./cmd.ts";
import { cniConfig } from "./cni.ts";
import { CONTAINERD, CTR, containerdArgs, containerdConfig } from "./containerd.ts";
import type { CachedImage } from "./images/cache.ts";
import { kubeProxyArgs, kubeProxyConfig } from "./kube-proxy.ts";
import { writeNodeKubeconfig } from "./kubeconfig.ts";
import { kubeletArgs, kubeletConfig } from "./kubelet.ts";
import { CONTAINERD_SOCKET, type NodeLayout, nodeLayout } from "./layout.ts";
import { createMountNamespace, prepareMounts, removeMountNamespace } from "./mounts.ts";
import { addNetns, connectNode, createTestNic, delNetns, disconnectNode } from "./network.ts";
import { type CertFiles, makeNodePki } from "./pki.ts";
import { type ClusterPlan, type NodePlan, nodePlan } from "./plan.ts";
import { type Exit, NodeProcess } from "./process.ts";
import { type Log, Steps } from "./steps.ts";

export interface NodeOptions {
  cluster: ClusterPlan;
  clusterDir: string;
  name: string;
  /** 1..16: the node's place in the address plan */
  index: number;
  labels?: Record<string, string>;
  /** the API server's URL as the node reaches it, and the CA that signs everything */
  apiServerUrl: string;
  ca: CertFiles;
  caPem: string;
  /** an admin client, to wait for the Node to be Ready */
  admin: ApiClient;
  /** the pod sandbox image containerd is configured with; imported with `images` */
  pauseImage: CachedImage;
  /** other images to import before the kubelet starts */
  images?: CachedImage[];
  hierarchies: Hierarchy[];
  log?: Log;
  readyTimeoutMs?: number;
}

export type NodeComponent = "containerd" | "kubelet" | "kube-proxy";

export interface Node {
  readonly name: string;
  readonly plan: NodePlan;
  readonly layout: NodeLayout;
  readonly ns: NodeNamespaces;
  /** how long each step took, in order */
  readonly timings: readonly [string, number][];
  /** milliseconds from the kubelet's start to the Node's Ready condition */
  readonly readyAfterKubeletMs: number;
  /** runs a command inside the node (its mount and network namespaces), as its daemons run */
  exec(argv: string[]): Promise<string>;
  /** sends `count` UDP frames of `length` bytes from the traffic namespace into the node's eth1 */
  send(count: number, length: number): Promise<number>;
  logPath(component: NodeComponent): string;
  logTail(component: NodeComponent, lines?: number): string;
  /**
   * A fault: sends `signal` to one of the node's daemons and resolves once it has exited. The containers
   * outlive a killed containerd or kubelet (their shims lead process groups of their own), as on a real node.
   */
  kill(component: NodeComponent, signal: "SIGTERM" | "SIGKILL"): Promise<Exit>;
  /** Starts a killed daemon again with the same flags and resolves once it answers (socket or /healthz). */
  restart(component: NodeComponent): Promise<void>;
  /**
   * A fault: the node's link to the cluster network (eth0) silently drops every packet, both ways, as a cut
   * cable or a dead switch port would; the node keeps running and eth1's traffic still arrives. Undone by
   * `reconnect()` (and by stop()).
   */
  disconnect(): Promise<void>;
  /**
   * A reboot, in the simulated sense: every process of the node (its daemons, the shims and every container)
   * SIGKILLed at once, then containerd, the kubelet and kube-proxy started again. The namespaces, the bpffs
   * and the node's files stay, as they would not on a real reboot: pins survive here as they survive an
   * agent's restart.
   */
  reboot(): Promise<void>;
  reconnect(): Promise<void>;
  /** stops every process of the node and removes all it made; returns what could not be removed */
  stop(): Promise<string[]>;
}

const CUT_MARK = "xdp-counter-test-cut";
const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export async function startNode(options: NodeOptions): Promise<Node> {
  const plan = nodePlan(options.cluster, options.name, options.index);
  const layout = nodeLayout(options.clusterDir, plan.name);
  const ns: NodeNamespaces = { mountNs: layout.mountNs, netns: plan.netns };
  const steps = new Steps(plan.name, options.log ?? (() => {}));
  const processes = new Map<NodeComponent, NodeProcess>();
  const argvs = new Map<NodeComponent, string[]>();
  const daemon = (name: NodeComponent, argv: string[]): NodeProcess => {
    argvs.set(name, argv);
    const p = new NodeProcess(name, argv, {
      ns,
      dir: layout.dir,
      cgroupProcs: daemonProcsFiles(plan.cgroupRoot, options.hierarchies),
      env: { PATH, HOME: layout.dir },
    });
    processes.set(name, p);
    return p;
  };
  const component = (name: NodeComponent): NodeProcess => {
    const p = processes.get(name);
    if (!p) throw new Error(`no ${name} on ${plan.name}`);
    return p;
  };
  let readyAfterKubeletMs = 0;

  try {
    await steps.run("folder", () => mkdirSync(layout.pki, { recursive: true }), {
      name: "remove the node's folder",
      fn: () => rmSync(layout.dir, { recursive: true, force: true }),
    });
    await steps.run("network namespace", () => addNetns(plan.netns), {
      name: "delete the network namespace",
      fn: () => delNetns(plan.netns),
    });
    await steps.run(
      `eth0 ${plan.ip} on the cluster network, pods ${plan.podCidr} routed to it`,
      () => connectNode(options.cluster, plan),
      { name: "disconnect eth0", fn: () => disconnectNode(options.cluster, plan) },
    );
    await steps.run(
      `eth1 ${plan.eth1.ip}, its peer ${plan.peer.ip} in ${plan.trafficNs}`,
      () => createTestNic(plan),
      {
        name: "delete the traffic namespace (and eth1 with it)",
        fn: () => delNetns(plan.trafficNs),
      },
    );
    await steps.run("mount namespace", () => createMountNamespace(ns), {
      name: "unmount the mount namespace (every mount of the node goes with it)",
      fn: () => removeMountNamespace(ns),
    });
    await prepareMounts(steps, ns, options.hierarchies, {
      stateRoot: dirname(options.clusterDir),
      clusterDir: options.clusterDir,
    });
    await steps.run(
      `cgroups ${plan.cgroupRoot} in ${options.hierarchies.length} hierarchies`,
      () => createNodeCgroups(plan.cgroupRoot, options.hierarchies),
      {
        name: "kill every process left under the cgroupRoot (shims, containers), remove the cgroups",
        fn: () => {
          const left = destroyCgroups(plan.cgroupRoot);
          if (left.length) throw new Error(left.join("; "));
        },
      },
    );
    const pki = await steps.run("certificates (kubelet client and serving, kube-proxy client)", () =>
      makeNodePki(layout.pki, options.ca, plan),
    );
    await steps.run("configuration (containerd, CNI, kubelet, kube-proxy, kubeconfigs)", () => {
      writeFileSync(layout.containerdConfig, containerdConfig(layout, options.pauseImage.name));
      mkdirSync(layout.cniConfDir, { recursive: true });
      writeFileSync(`${layout.cniConfDir}/10-xdp-counter.conflist`, cniConfig(plan));
      writeFileSync(layout.kubeletConfig, kubeletConfig(plan, layout, pki, options.ca.cert));
      writeFileSync(layout.kubeProxyConfig, kubeProxyConfig(options.cluster, plan, layout));
      writeNodeKubeconfig(
        layout.kubeletKubeconfig,
        options.apiServerUrl,
        options.caPem,
        pki.kubeletClient,
        `system:node:${plan.name}`,
      );
      writeNodeKubeconfig(
        layout.kubeProxyKubeconfig,
        options.apiServerUrl,
        options.caPem,
        pki.kubeProxyClient,
        "system:kube-proxy",
      );
    });

    const containerd = await steps.run(
      "containerd",
      async () => {
        const p = daemon("containerd", [CONTAINERD, ...containerdArgs(layout)]);
        await waitFor("containerd's socket", [p], 30_000, async () => {
          await run(inNode(ns, [CTR, "--address", CONTAINERD_SOCKET, "version"]));
          return true;
        });
        return p;
      },
      { name: "stop containerd", fn: () => component("containerd").stop() },
    );
    for (const image of [options.pauseImage, ...(options.images ?? [])]) {
      await steps.run(`image ${image.name} imported`, () => importImage(ns, image.tarball, [containerd]));
    }

    const kubelet = await steps.run(
      "kubelet",
      () => daemon("kubelet", [kubeBinary("kubelet"), ...kubeletArgs(plan, layout, options.labels ?? {})]),
      { name: "stop the kubelet", fn: () => component("kubelet").stop() },
    );
    const kubeletStarted = performance.now();
    const kubeProxy = await steps.run(
      "kube-proxy",
      () => daemon("kube-proxy", [kubeBinary("kube-proxy"), ...kubeProxyArgs(layout)]),
      { name: "stop kube-proxy", fn: () => component("kube-proxy").stop() },
    );
    const watched = [containerd, kubelet, kubeProxy];
    await steps.run("Node Ready", () =>
      waitFor(`Node ${plan.name} Ready`, watched, options.readyTimeoutMs ?? 60_000, () =>
        nodeReady(options.admin, plan.name),
      ),
    );
    readyAfterKubeletMs = performance.now() - kubeletStarted;
    await steps.run("kube-proxy healthy", () =>
      waitFor("kube-proxy's /healthz", watched, 30_000, () => kubeProxyHealthy(plan.ip)),
    );
  } catch (err) {
    const context = [...processes.values()]
      .map((p) => `--- ${p.name} (${p.describeExit()}), ${p.logPath}:\n${p.logTail(15)}`)
      .join("\n");
    const failures = await steps.undoAll();
    throw new Error(
      `${(err as Error).message}${context ? `\n${context}` : ""}${failures.length ? `\nclean-up: ${failures.join("; ")}` : ""}`,
      { cause: err },
    );
  }

  const answers: Record<NodeComponent, () => Promise<boolean>> = {
    containerd: async () => {
      await run(inNode(ns, [CTR, "--address", CONTAINERD_SOCKET, "version"]));
      return true;
    },
    kubelet: async () => {
      await run(inNode(ns, ["curl", "-sf", "--max-time", "2", "http://127.0.0.1:10248/healthz"]));
      return true;
    },
    "kube-proxy": () => kubeProxyHealthy(plan.ip),
  };
  const restart = async (name: NodeComponent): Promise<void> => {
    const argv = argvs.get(name);
    if (!argv) throw new Error(`no ${name} on ${plan.name}`);
    if (component(name).running) throw new Error(`${name} on ${plan.name} is running: kill() it first`);
    const p = daemon(name, argv);
    await waitFor(`${name} on ${plan.name} answering again`, [p], 60_000, answers[name]);
  };
  // one rule each way on eth0, marked so that reconnect() removes exactly these
  const cut = (op: "-I" | "-D") =>
    ["INPUT -i", "OUTPUT -o", "FORWARD -i", "FORWARD -o"].map((chain) => {
      const [name, dir] = chain.split(" ") as [string, string];
      return inNode(ns, [
        "iptables",
        "-w",
        op,
        name,
        dir,
        "eth0",
        "-m",
        "comment",
        "--comment",
        CUT_MARK,
        "-j",
        "DROP",
      ]);
    });
  let disconnected = false;
  const reconnect = async () => {
    if (!disconnected) return;
    for (const argv of cut("-D")) await run(argv);
    disconnected = false;
  };
  steps.undo("reconnect eth0 if a test left it cut", reconnect);
  let stopping: Promise<string[]> | undefined;
  return {
    name: plan.name,
    plan,
    layout,
    ns,
    timings: steps.timings,
    readyAfterKubeletMs,
    exec: (argv) => run(inNode(ns, argv)),
    send: (count, length) => sendFrames(plan, count, length),
    logPath: (name) => component(name).logPath,
    logTail: (name, lines) => component(name).logTail(lines),
    kill: (name, signal) => component(name).kill(signal),
    restart,
    disconnect: async () => {
      if (disconnected) return;
      disconnected = true;
      for (const argv of cut("-I")) await run(argv);
    },
    reconnect,
    reboot: async () => {
      const alive = killAllUnder(plan.cgroupRoot, 10_000, options.hierarchies);
      if (alive) throw new Error(`${plan.name}: reboot: ${alive}`);
      await Promise.all([...processes.values()].map((p) => p.kill("SIGKILL")));
      for (const name of ["containerd", "kubelet", "kube-proxy"] as const) await restart(name);
    },
    stop: () => {
      stopping ??= steps.undoAll();
      return stopping;
    },
  };
}

/** `ctr images import` of a tarball, read from stdin: the path need not be visible inside the node. */
async function importImage(ns: NodeNamespaces, tarball: string, watched: NodeProcess[]): Promise<void> {
  const argv = inNode(ns, [CTR, "--address", CONTAINERD_SOCKET, "-n", "k8s.io", "images", "import", "-"]);
  const input = openSync(tarball, "r");
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(argv[0] as string, argv.slice(1), { stdio: [input, "ignore", "pipe"] });
      let stderr = "";
      child.stderr?.on("data", (c: Buffer) => {
        stderr += c.toString();
      });
      child.on("error", reject);
      child.on("exit", (code) => {
        const dead = watched.find((p) => !p.running);
        if (code === 0) resolve();
        else
          reject(
            new Error(
              `ctr images import ${tarball}: ${stderr.trim()}${dead ? ` (${dead.name} exited)` : ""}`,
            ),
          );
      });
    });
  } finally {
    closeSync(input);
  }
}

async function nodeReady(admin: ApiClient, name: string): Promise<boolean> {
  const res = await admin.call("GET", `/api/v1/nodes/${name}`);
  if (res.status !== 200) return false;
  const conditions = (res.body as { status?: { conditions?: { type: string; status: string }[] } }).status
    ?.conditions;
  return conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

function kubeProxyHealthy(ip: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: ip, port: 10256, path: "/healthz", timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

/** Polls `check` every 100 ms until it is true; fails early, with its log, when a watched daemon exits. */
export async function waitFor(
  what: string,
  watched: NodeProcess[],
  timeoutMs: number,
  check: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    const exited = watched.find((p) => !p.running);
    if (exited) {
      throw new Error(
        `${exited.name} exited (${exited.describeExit()}) while waiting for ${what}; the last lines of ` +
          `${exited.logPath}:\n${exited.logTail()}`,
      );
    }
    try {
      if (await check()) return;
      last = "";
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${timeoutMs / 1000} s${last ? ` (${last})` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The project's traffic generator (testing/traffic/send.ts), run in the node's traffic namespace. */
async function sendFrames(plan: NodePlan, count: number, length: number): Promise<number> {
  const out = await run([
    "nsenter",
    `--net=/run/netns/${plan.trafficNs}`,
    "--",
    process.execPath,
    new URL("../../../testing/traffic/send.ts", import.meta.url).pathname,
    "--iface",
    plan.peer.iface,
    "--src-mac",
    plan.peer.mac,
    "--dst-mac",
    plan.eth1.mac,
    "--src-ip",
    plan.peer.ip,
    "--dst-ip",
    plan.eth1.ip,
    "--length",
    String(length),
    "--count",
    String(count),
  ]);
  return (JSON.parse(out) as { sent: number }).sent;
}
