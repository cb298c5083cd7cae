// kwok as the kubelet of fake Nodes, beside a real control plane: for the scale tests and benchmarks, where
// thousands of Nodes and their agent pods must exist in the API without a machine behind each. kwok watches the
// Nodes annotated kwok.x-k8s.io/node=fake and the pods bound to them, and plays this folder's Stages on them
// (stages/: Ready at once, a status heartbeat, pods Running and Ready, deleted pods gone), and renews each
// Node's Lease in kube-node-lease as a kubelet does. One flag per line below, each choice explained.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { Daemon, type Exit, killSync } from "../local/process.ts";
import { kwokBinary, kwokBuild } from "./binaries.ts";

/** The annotation kwok is told to select its Nodes by (kwok's own convention for fake Nodes). */
export const fakeNodeAnnotation = { key: "kwok.x-k8s.io/node", value: "fake" } as const;

/** The Stage files in stages/, in the order they are given to kwok. */
export const stageFiles = [
  "node-initialize.yaml",
  "node-heartbeat-with-lease.yaml",
  "pod-ready.yaml",
  "pod-delete.yaml",
] as const;

const stagesDir = join(import.meta.dirname, "stages");

export interface KwokOptions {
  /** the kubeconfig kwok acts with: it writes Nodes' and pods' status, deletes pods, and owns node Leases */
  kubeconfig: string;
  /** a folder for kwok's config, log and pid file (made if missing; left in place at stop: it is the caller's) */
  stateDir: string;
  /** how often each Node's status is written again (default 300 s, the kubelet's nodeStatusReportFrequency) */
  heartbeatSeconds?: number;
  /** each node Lease's duration; kwok renews it every quarter of that (default 40 s, as a kubelet) */
  leaseDurationSeconds?: number;
  /** where pod IPs come from (default 10.244.0.0/16: room for 65,000 pods; kwok's own default has 254) */
  podCidr?: string;
  /** flags added after ours, e.g. `--v=DEBUG` */
  extraFlags?: string[];
  /** how long kwok may take to answer its /healthz (default 30 s) */
  readyTimeoutMs?: number;
  /** how long kwok has after SIGTERM before SIGKILL (default 5 s) */
  stopTimeoutMs?: number;
  /** progress, one line per step (default: none) */
  log?: (line: string) => void;
}

export interface Kwok extends AsyncDisposable {
  /** the kwok process's pid, for reading its CPU time and memory from /proc/<pid>/stat and status */
  readonly pid: number;
  /** kwok's own server on loopback: /healthz, /metrics */
  readonly url: string;
  /** the kwok release that runs (v0.8.0) */
  readonly version: string;
  /** the multi-document file of Stages kwok was given (--config) */
  readonly configPath: string;
  readonly logPath: string;
  /** how long start took, in milliseconds */
  readonly startMs: number;
  /** false once the process has exited */
  readonly running: boolean;
  /** resolves when the process has exited, with how */
  readonly exited: Promise<Exit>;
  /** the last lines of kwok's log */
  logTail(lines?: number): string;
  /** SIGTERM, then SIGKILL after stopTimeoutMs; resolves once the process is gone (reaped); safe to call twice */
  stop(): Promise<void>;
}

/** The Stages, as one multi-document YAML, with the heartbeat Stage's delay set to `heartbeatSeconds`. */
export function stagesConfig(heartbeatSeconds: number): string {
  const ms = Math.round(heartbeatSeconds * 1000);
  return stageFiles
    .map((file) => {
      const doc = parseDocument(readFileSync(join(stagesDir, file), "utf8"));
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
      if (file === "node-heartbeat-with-lease.yaml") {
        // up to 10 % later at random, as kwokctl spreads it: Nodes made together do not write together
        doc.setIn(["spec", "delay", "durationMilliseconds"], ms);
        doc.setIn(["spec", "delay", "jitterDurationMilliseconds"], ms + Math.round(ms / 10));
      }
      return doc.toString();
    })
    .join("---\n");
}

/** The flags kwok runs with; see the README for why each. */
export function kwokFlags(o: {
  kubeconfig: string;
  configPath: string;
  port: number;
  leaseDurationSeconds: number;
  podCidr: string;
}): string[] {
  return [
    `--kubeconfig=${o.kubeconfig}`,
    // only the fake Nodes: real nodes of the local cluster (a real kubelet's) may share the API server
    "--manage-all-nodes=false",
    `--manage-nodes-with-annotation-selector=${fakeNodeAnnotation.key}=${fakeNodeAnnotation.value}`,
    // our Stages, in place of none: kwok alone has no Stage built in (kwokctl adds upstream's), and exits
    // without one
    `--config=${o.configPath}`,
    // kwok creates and renews each Node's Lease as a kubelet does (0, kwok's default, would mean no Leases)
    `--node-lease-duration-seconds=${o.leaseDurationSeconds}`,
    // its server (health, metrics) on a free loopback port; kwok has none unless asked, and kwokctl's is a
    // fixed 10247 on every address
    `--server-address=127.0.0.1:${o.port}`,
    `--cidr=${o.podCidr}`,
  ];
}

/** A free loopback port, as the kernel hands it out; released before kwok binds it (a race start retries). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === "object" ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** kwok answers its /healthz once it has listed the Nodes and started its controllers. */
async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
    return res.ok && (await res.text()) === "ok";
  } catch {
    return false;
  }
}

const ATTEMPTS = 3;

/** Starts kwok and resolves once its /healthz answers; a start that lost its port is tried again. */
export async function startKwok(options: KwokOptions): Promise<Kwok> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      if (attempt >= ATTEMPTS || !/address already in use/.test((err as Error).message)) throw err;
      options.log?.("kwok: its port was taken meanwhile, starting again on another");
    }
  }
}

async function startOnce(options: KwokOptions): Promise<Kwok> {
  const began = performance.now();
  const log = options.log ?? (() => {});
  const heartbeatSeconds = options.heartbeatSeconds ?? 300;
  const leaseDurationSeconds = options.leaseDurationSeconds ?? 40;
  if (!(heartbeatSeconds > 0)) throw new Error(`heartbeatSeconds must be positive, not ${heartbeatSeconds}`);
  if (!Number.isInteger(leaseDurationSeconds) || leaseDurationSeconds < 1)
    throw new Error(
      `leaseDurationSeconds must be a whole number of seconds ≥ 1, not ${leaseDurationSeconds}`,
    );
  const binary = kwokBinary();
  mkdirSync(options.stateDir, { recursive: true });
  const configPath = join(options.stateDir, "kwok-stages.yaml");
  writeFileSync(configPath, stagesConfig(heartbeatSeconds));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const argv = [
    binary,
    ...kwokFlags({
      kubeconfig: options.kubeconfig,
      configPath,
      port,
      leaseDurationSeconds,
      podCidr: options.podCidr ?? "10.244.0.0/16",
    }),
    ...(options.extraFlags ?? []),
  ];
  // HOME is the state folder: kwok also reads ~/.kwok/kwok.yaml when it exists, and a user's must not count
  const daemon = new Daemon("kwok", argv, {
    dir: options.stateDir,
    env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", HOME: options.stateDir },
  });
  // a test that dies without stop() must not leave kwok running
  const killOnExit = () => killSync([daemon.identity]);
  process.once("exit", killOnExit);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await daemon.stop(options.stopTimeoutMs ?? 5_000);
      process.off("exit", killOnExit);
    })();
    return stopping;
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  try {
    for (;;) {
      if (!daemon.running)
        throw new Error(
          `kwok exited (${daemon.describeExit()}) before it was ready; the last lines of ` +
            `${daemon.logPath}:\n${daemon.logTail()}`,
        );
      if (await healthy(url)) break;
      if (Date.now() > deadline)
        throw new Error(
          `kwok's ${url}/healthz: no answer within ${options.readyTimeoutMs ?? 30_000} ms; the last lines of ` +
            `${daemon.logPath}:\n${daemon.logTail()}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const startMs = performance.now() - began;
  log(
    `kwok ${kwokBuild().version} (pid ${daemon.identity.pid}) ready at ${url} in ${Math.round(startMs)} ms`,
  );
  return {
    pid: daemon.identity.pid,
    url,
    version: kwokBuild().version,
    configPath,
    logPath: daemon.logPath,
    startMs,
    get running() {
      return daemon.running;
    },
    exited: daemon.exited,
    logTail: (lines) => daemon.logTail(lines),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** The parts of a v1 Node that fakeNodeManifest fills. */
export interface FakeNode {
  apiVersion: "v1";
  kind: "Node";
  metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: Record<string, never>;
  status: {
    allocatable: Record<string, string>;
    capacity: Record<string, string>;
    addresses?: { type: string; address: string }[];
  };
}

/**
 * A Node for kwok to manage (annotated kwok.x-k8s.io/node=fake), with the labels a kubelet sets and `labels`.
 * It has no taint, unlike kwok's examples (kwok.x-k8s.io/node=fake:NoSchedule): a DaemonSet's pods land on it
 * as on a real node, without a toleration the product's chart does not carry. Its allocatable room is a
 * kubelet's default pod limit (110) on a large machine. The status is taken as given at create (Nodes allow
 * it, as a kubelet registers with it): kwok's node-initialize Stage keeps it and adds the rest.
 */
export function fakeNodeManifest(
  name: string,
  labels: Record<string, string> = {},
  options: { internalIp?: string } = {},
): FakeNode {
  const room = { cpu: "32", memory: "256Gi", pods: "110" };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      labels: {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        type: "kwok",
        ...labels,
      },
      annotations: { [fakeNodeAnnotation.key]: fakeNodeAnnotation.value },
    },
    spec: {},
    status: {
      allocatable: { ...room },
      capacity: { ...room },
      ...(options.internalIp ? { addresses: [{ type: "InternalIP", address: options.internalIp }] } : {}),
    },
  };
}
