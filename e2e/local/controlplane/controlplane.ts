// The launcher: a real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler) from the binaries built by e2e/kube/build.ts, on free loopback ports, with its state in a
// folder of its own. Ready means what it means on a cluster: the API server's /readyz, the controller manager's
// and the scheduler's /healthz and their leader Leases in kube-system; never a fixed sleep.
import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import { ApiClient, loadKubeconfigFiles, messageOf } from "../../../runtime/index.ts";
import { type KubeBinary, kubeBinary, kubeBuild } from "../../kube/binaries.ts";
import { registerLive, unregisterLive } from "./cleanup.ts";
import {
  apiServerFlags,
  apiServerUrl,
  type ComponentName,
  controllerManagerFlags,
  etcdFlags,
  etcdUrl,
  type Layout,
  type Ports,
  schedulerFlags,
} from "./components.ts";
import { ControlPlaneError, ControlPlaneErrorCode } from "./errors.ts";
import { type KubeconfigUser, writeKubeconfig } from "./kubeconfig.ts";
import { makePki } from "./pki.ts";
import { freePorts } from "./ports.ts";
import { ComponentProcess, type Exit } from "./process.ts";
import {
  apiServerReady,
  etcdHealthy,
  healthy,
  leaseHeld,
  missingBootstrapRbac,
  waitUntil,
} from "./readiness.ts";
import { createStateDir, defaultStateRoot, killSync, removeAbandoned } from "./state.ts";

export interface ControlPlaneOptions {
  /** the root of the state folders (default /tmp/xdp-counter-controlplane) */
  stateRoot?: string;
  /** the Services' address range (default 10.96.0.0/16) */
  serviceClusterIpRange?: string;
  /** progress, one line per step (default: none) */
  log?: (line: string) => void;
  /** how long each component may take to become ready (default 60 s) */
  readyTimeoutMs?: number;
  /** how long a component has after SIGTERM before SIGKILL (default 10 s) */
  stopTimeoutMs?: number;
  /** flags added after a component's own (components.ts), e.g. a feature gate a test needs */
  extraFlags?: Partial<Record<ComponentName, string[]>>;
  /**
   * "all" (the default): etcd, kube-apiserver, kube-controller-manager and kube-scheduler. "apiserver": etcd
   * and kube-apiserver only, as envtest runs them, for tests that play the controllers and kubelets
   * themselves (no controller touches the pods, their status or the namespaces' ServiceAccounts); with
   * `controllers`, the controller manager too, running only those.
   */
  components?: "all" | "apiserver";
  /**
   * The controller manager's controllers (`--controllers`), e.g. `["garbagecollector"]` with `components:
   * "apiserver"`: owner references are honoured, and nothing makes or touches pods. Default: the default ones
   * with "all", no controller manager with "apiserver".
   */
  controllers?: string[];
  /**
   * CustomResourceDefinition files, applied with kubectl once the API server is ready and Established before
   * the controller manager starts (as envtest installs them), so its garbage collector knows them from the start
   */
  crds?: string[];
  /**
   * The API server writes an audit log of every request, which auditEvents() reads: `true` or "Metadata" (who,
   * what, the answer's code), "Request" (also the body sent: for a patch, the patch).
   */
  audit?: boolean | "Metadata" | "Request";
  /**
   * Audit policy rules placed before the catch-all rule at the audit level, e.g. `{ level: "None", verbs:
   * ["get", "list", "watch"] }` to leave reads out of a long run's log.
   */
  auditRules?: readonly object[];
}

/** One request as the API server's audit log records it (audit.k8s.io/v1 Event, Metadata level). */
export interface AuditEvent {
  stage: string;
  verb: string;
  requestURI: string;
  userAgent?: string;
  user: { username: string; groups?: string[] };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
  /** with audit "Request": the body the client sent */
  requestObject?: unknown;
}

export interface ControlPlane extends AsyncDisposable {
  /** the state folder's name, unique among running control planes */
  readonly id: string;
  /** the state folder: certificates, kubeconfigs, etcd's data, logs, pid files */
  readonly dir: string;
  /** the API server's URL, https://127.0.0.1:<port> */
  readonly url: string;
  readonly etcdUrl: string;
  readonly ports: Ports;
  /** the Kubernetes release of the binaries (v1.37.2) */
  readonly version: string;
  /** the admin's kubeconfig (system:masters) */
  readonly kubeconfig: string;
  /** the CA every certificate of this control plane chains to, PEM */
  readonly caPem: string;
  /** the kubectl built with the control plane, and the folder holding all the binaries */
  readonly kubectl: string;
  readonly binDir: string;
  readonly serviceClusterIpRange: string;
  /** an HTTPS client as the admin */
  readonly client: ApiClient;
  /** how long start took, in milliseconds */
  readonly startMs: number;
  /** the log file of a component */
  logPath(component: ComponentName): string;
  /** the last lines of a component's log */
  logTail(component: ComponentName, lines?: number): string;
  /** the pid of a component's process */
  pid(component: ComponentName): number;
  /**
   * The requests the API server has answered (stage ResponseComplete), oldest first; with `audit` only. The
   * log backend writes an event just after the response, so a request made a moment ago may be missing.
   */
  auditEvents(): AuditEvent[];
  /** writes a kubeconfig for a user (a bearer token, or a certificate and key) into `path` and returns it */
  writeKubeconfig(path: string, user: KubeconfigUser, name?: string): string;
  /**
   * A fault: sends `signal` to one component (SIGTERM: it shuts down as it would; SIGKILL: it dies at once)
   * and resolves once it has exited. Its data (etcd's) and flags stay for restart().
   */
  kill(name: ComponentName, signal: "SIGTERM" | "SIGKILL"): Promise<Exit>;
  /** Starts a killed component again, with the same flags, ports and data, and resolves once it is ready. */
  restart(name: ComponentName): Promise<void>;
  /** stops every component (SIGTERM, then SIGKILL) and removes the state folder; safe to call twice */
  stop(): Promise<void>;
}

const execFileAsync = promisify(execFile);
const DEFAULT_SERVICE_RANGE = "10.96.0.0/16";
// Every request, once, when its response is complete, at one level for all (after the caller's own rules).
const auditPolicy = (level: "Metadata" | "Request", before: readonly object[] = []) =>
  JSON.stringify({
    apiVersion: "audit.k8s.io/v1",
    kind: "Policy",
    omitStages: ["RequestReceived", "ResponseStarted", "Panic"],
    rules: [...before, { level }],
  });
const ATTEMPTS = 3;

/** Starts a control plane; a start that lost a port to another process is tried again on new ports. */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      if (attempt >= ATTEMPTS || !/address already in use/.test(messageOf(err))) throw err;
      options.log?.(
        `a port was taken meanwhile, starting again on new ports (${messageOf(err).split("\n")[0]})`,
      );
    }
  }
}

function binaries(): Record<Exclude<KubeBinary, "kubelet" | "kube-proxy">, string> {
  try {
    return {
      etcd: kubeBinary("etcd"),
      "kube-apiserver": kubeBinary("kube-apiserver"),
      "kube-controller-manager": kubeBinary("kube-controller-manager"),
      "kube-scheduler": kubeBinary("kube-scheduler"),
      kubectl: kubeBinary("kubectl"),
    };
  } catch (err) {
    throw new ControlPlaneError(ControlPlaneErrorCode.NotBuilt, messageOf(err), { cause: err });
  }
}

async function installCrds(
  kubectl: string,
  kubeconfig: string,
  home: string,
  files: string[],
  timeoutMs: number,
): Promise<void> {
  const run = (args: string[]) =>
    execFileAsync(kubectl, ["--kubeconfig", kubeconfig, ...args], {
      env: { PATH: process.env.PATH ?? "", HOME: home },
    }).catch((err: { stderr?: string }) => {
      throw new ControlPlaneError(
        ControlPlaneErrorCode.Exited,
        `kubectl ${args.join(" ")}: ${err.stderr?.trim() || messageOf(err)}`,
      );
    });
  const applied = await run(["apply", ...files.flatMap((f) => ["-f", f]), "-o", "name"]);
  const names = applied.stdout.split("\n").filter((line) => line.startsWith("customresourcedefinition"));
  if (names.length > 0)
    await run(["wait", "--for=condition=Established", `--timeout=${Math.ceil(timeoutMs / 1000)}s`, ...names]);
}

/** The first address of an IPv4 range: the `kubernetes` Service's, which the serving certificate must name. */
export function firstServiceIp(range: string): string {
  const [address, bits] = range.split("/");
  const octets = (address ?? "").split(".").map(Number);
  if (octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255)) || !bits)
    throw new Error(`not an IPv4 range: ${range}`);
  const n = octets.reduce((sum, o) => sum * 256 + o, 0) + 1;
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

async function startOnce(options: ControlPlaneOptions): Promise<ControlPlane> {
  const began = performance.now();
  const log = options.log ?? (() => {});
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const serviceClusterIpRange = options.serviceClusterIpRange ?? DEFAULT_SERVICE_RANGE;
  const bin = binaries();
  const root = options.stateRoot ?? defaultStateRoot;
  for (const dir of removeAbandoned(root)) log(`removed what a killed run left: ${dir}`);

  const dir = createStateDir(root);
  const id = basename(dir);
  const processes = new Map<ComponentName, ComponentProcess>();
  const live = {
    killSync() {
      killSync([...processes.values()].map((p) => p.identity));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  registerLive(live);
  let client: ApiClient | undefined;
  const step = (what: string, since: number) => log(`${what} (${Math.round(performance.now() - since)} ms)`);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      client?.close();
      // dependents first: the controllers, then the API server, then its storage
      const order: ComponentName[][] = [
        ["kube-scheduler", "kube-controller-manager"],
        ["kube-apiserver"],
        ["etcd"],
      ];
      for (const names of order) await Promise.all(names.map((n) => processes.get(n)?.stop(stopTimeoutMs)));
      rmSync(dir, { recursive: true, force: true });
      unregisterLive(live);
    })();
    return stopping;
  };

  try {
    const [etcdClient, etcdPeer, apiServer, controllerManager, scheduler] = (await freePorts(5)) as [
      number,
      number,
      number,
      number,
      number,
    ];
    const ports: Ports = { etcdClient, etcdPeer, apiServer, controllerManager, scheduler };
    let since = performance.now();
    const apiServerAddress = "127.0.0.1";
    const pki = await makePki(join(dir, "pki"), {
      apiServerHosts: [firstServiceIp(serviceClusterIpRange), apiServerAddress],
    });
    step("certificates", since);
    const layout: Layout = {
      id,
      dir,
      ports,
      pki,
      serviceClusterIpRange,
      apiServerAddress,
      controllerManagerKubeconfig: join(dir, "kube-controller-manager.kubeconfig"),
      schedulerKubeconfig: join(dir, "kube-scheduler.kubeconfig"),
    };
    const url = apiServerUrl(layout);
    const auditLog = join(dir, "audit.log");
    const auditFlags: string[] = [];
    if (options.audit) {
      const policy = join(dir, "audit-policy.json");
      writeFileSync(
        policy,
        auditPolicy(options.audit === "Request" ? "Request" : "Metadata", options.auditRules),
      );
      // blocking: the event is written before the request's handler returns (no batching delay)
      auditFlags.push(
        `--audit-policy-file=${policy}`,
        `--audit-log-path=${auditLog}`,
        "--audit-log-mode=blocking",
        // the log is rotated at 100 MB by default (its writer's default for --audit-log-maxsize 0), after which
        // audit.log holds only what came since; a benchmark at thousands of nodes writes more than that
        "--audit-log-maxsize=1048576",
      );
    }
    const kubeconfig = writeKubeconfig(join(dir, "admin.kubeconfig"), url, pki.caPem, pki.admin, "admin");
    writeKubeconfig(
      layout.controllerManagerKubeconfig,
      url,
      pki.caPem,
      pki.controllerManager,
      "kube-controller-manager",
    );
    writeKubeconfig(layout.schedulerKubeconfig, url, pki.caPem, pki.scheduler, "kube-scheduler");

    // only what the components need; in particular no KUBECONFIG of the caller's
    const env = { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", HOME: dir };
    const argvs = new Map<ComponentName, string[]>();
    const killed = new Set<ComponentName>();
    const restartDelays = new Map<ComponentName, number>();
    const start = (name: ComponentName, argv: string[]): ComponentProcess => {
      const p = new ComponentProcess(name, argv, { dir, env });
      processes.set(name, p);
      // The controller manager and the scheduler exit when they lose their Lease (an API server gone for
      // longer than their renew deadline, 10 s); on a real control plane the kubelet restarts their static
      // pods, and here the control plane does, unless it is stopping or a test killed them: after 1 s, then
      // doubling up to 10 s while they keep exiting within a minute of their start (the kubelet's back-off
      // is 10 s doubling up to 5 min; shorter here, as a test waits for it).
      if (name === "kube-controller-manager" || name === "kube-scheduler") {
        const startedAt = Date.now();
        void p.exited.then(async () => {
          const quick = Date.now() - startedAt < 60_000;
          const delay = quick ? Math.min(10_000, 2 * (restartDelays.get(name) ?? 500)) : 1_000;
          restartDelays.set(name, delay);
          await new Promise((resolve) => setTimeout(resolve, delay).unref());
          if (stopping || killed.has(name) || processes.get(name) !== p) return;
          log(
            `${name} exited (${p.describeExit()}); started again after ${delay / 1000} s, as the kubelet restarts a static pod`,
          );
          start(name, argv);
        });
      }
      return p;
    };
    const run = (name: ComponentName, args: string[]): ComponentProcess => {
      const argv = [bin[name], ...args, ...(options.extraFlags?.[name] ?? [])];
      argvs.set(name, argv);
      return start(name, argv);
    };
    const wait = (what: string, focus: ComponentProcess, check: () => Promise<boolean>) =>
      waitUntil(what, [...processes.values()], focus, check, readyTimeoutMs);

    since = performance.now();
    const etcd = run("etcd", etcdFlags(layout));
    await wait("etcd's /health", etcd, () => etcdHealthy(etcdUrl(layout)));
    step(`etcd ready at ${etcdUrl(layout)}`, since);

    since = performance.now();
    const apiserver = run("kube-apiserver", [...apiServerFlags(layout), ...auditFlags]);
    client = new ApiClient(await loadKubeconfigFiles([kubeconfig]), {
      userAgent: "xdp-counter-controlplane",
    });
    const admin = client;
    await wait("the API server's /readyz", apiserver, () => apiServerReady(admin));
    step(`kube-apiserver ready at ${url}`, since);

    // the controller manager exits when it starts before its bootstrap RBAC is in force (readiness.ts); tests
    // with the API server alone wait for it too: it is the RBAC their own identities are checked against
    since = performance.now();
    await wait("the controller manager's and the scheduler's bootstrap RBAC", apiserver, async () => {
      const missing = await missingBootstrapRbac(admin);
      if (missing.length > 0) throw new Error(`not yet: ${missing.join("; ")}`);
      return true;
    });
    step("bootstrap RBAC in force", since);
    if (options.crds && options.crds.length > 0) {
      since = performance.now();
      await installCrds(bin.kubectl, kubeconfig, dir, options.crds, readyTimeoutMs);
      step(`CRDs established (${options.crds.length} files)`, since);
    }
    const all = (options.components ?? "all") === "all";
    if (all || options.controllers) {
      since = performance.now();
      const kcm = run("kube-controller-manager", controllerManagerFlags(layout, options.controllers));
      const sched = all ? run("kube-scheduler", schedulerFlags(layout)) : undefined;
      await Promise.all([
        (async () => {
          await wait("the controller manager's /healthz", kcm, () =>
            healthy(`https://127.0.0.1:${ports.controllerManager}/healthz`, pki.caPem),
          );
          await wait("the controller manager's Lease kube-system/kube-controller-manager", kcm, () =>
            leaseHeld(admin, "kube-controller-manager"),
          );
        })(),
        sched &&
          (async () => {
            await wait("the scheduler's /healthz", sched, () =>
              healthy(`https://127.0.0.1:${ports.scheduler}/healthz`, pki.caPem),
            );
            await wait("the scheduler's Lease kube-system/kube-scheduler", sched, () =>
              leaseHeld(admin, "kube-scheduler"),
            );
          })(),
      ]);
      step(
        `${sched ? "kube-controller-manager and kube-scheduler hold their Leases" : "kube-controller-manager holds its Lease"}`,
        since,
      );
    }
    const startMs = performance.now() - began;
    log(`control plane ${id} ready in ${(startMs / 1000).toFixed(1)} s`);

    const component = (name: ComponentName): ComponentProcess => {
      const p = processes.get(name);
      if (!p) throw new Error(`no component ${name}`);
      return p;
    };
    const ready: Record<ComponentName, () => Promise<boolean>> = {
      etcd: () => etcdHealthy(etcdUrl(layout)),
      "kube-apiserver": () => apiServerReady(admin),
      "kube-controller-manager": () =>
        healthy(`https://127.0.0.1:${ports.controllerManager}/healthz`, pki.caPem),
      "kube-scheduler": () => healthy(`https://127.0.0.1:${ports.scheduler}/healthz`, pki.caPem),
    };
    const restart = async (name: ComponentName): Promise<void> => {
      const argv = argvs.get(name);
      if (!argv) throw new Error(`no component ${name}`);
      if (component(name).running) throw new Error(`${name} is running: kill() it first`);
      const since = performance.now();
      killed.delete(name);
      const p = start(name, argv);
      await waitUntil(`${name} ready again`, [p], p, ready[name], readyTimeoutMs);
      step(`${name} restarted`, since);
    };
    return {
      id,
      dir,
      url,
      etcdUrl: etcdUrl(layout),
      ports,
      version: kubeBuild().kubernetes,
      kubeconfig,
      caPem: pki.caPem,
      kubectl: bin.kubectl,
      binDir: kubeBuild().bin,
      serviceClusterIpRange,
      client: admin,
      startMs,
      logPath: (name) => component(name).logPath,
      logTail: (name, lines) => component(name).logTail(lines),
      pid: (name) => component(name).identity.pid,
      auditEvents: () => {
        if (!options.audit) throw new Error("the control plane was started without audit: true");
        let text = "";
        try {
          text = readFileSync(auditLog, "utf8");
        } catch {
          return [];
        }
        // the last line may be half written
        return text
          .split("\n")
          .flatMap((line) => {
            try {
              return [JSON.parse(line) as AuditEvent];
            } catch {
              return [];
            }
          })
          .filter((e) => e.stage === "ResponseComplete");
      },
      writeKubeconfig: (path, user, name = "user") => writeKubeconfig(path, url, pki.caPem, user, name),
      kill: (name, signal) => {
        killed.add(name);
        return component(name).kill(signal);
      },
      restart,
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
