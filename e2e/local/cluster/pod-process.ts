// One pod's container as a local process: started in its node's namespaces (or the host's), restarted with
// backoff when it exits (restartPolicy Always), probed for readiness and liveness over HTTP, stopped with SIGTERM and then
// SIGKILL after the grace period. Its stdout and stderr are appended to a log file.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, writeSync } from "node:fs";
import { request } from "node:http";

export interface HttpProbe {
  host: string;
  port: number;
  path: string;
  periodMs: number;
  timeoutMs: number;
  failureThreshold: number;
  initialDelayMs: number;
}

export interface PodProcessSpec {
  uid: string;
  namespace: string;
  name: string;
  /** Simulated node name, or undefined for the host (root namespaces). */
  node: string | undefined;
  argv: string[];
  env: Record<string, string>;
  logFile: string;
  graceSeconds: number;
  readiness: HttpProbe | undefined;
  /** Failing it failureThreshold times in a row restarts the container. */
  liveness?: HttpProbe | undefined;
  backoffMs: { initial: number; max: number };
}

export interface ContainerState {
  running?: { startedAt: string };
  waiting?: { reason: string; message?: string };
  terminated?: { exitCode: number; signal?: number; reason: string; startedAt: string; finishedAt: string };
}

const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, "Z");

const signalNumbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

export class PodProcess {
  readonly spec: PodProcessSpec;
  readonly createdAt = now();
  restartCount = 0;
  ready = false;
  readySince: string = this.createdAt;
  state: ContainerState = { waiting: { reason: "ContainerCreating" } };
  lastState: ContainerState = {};
  /** Set once stop() began: no more restarts. */
  stopping = false;
  #child: ChildProcess | undefined;
  #pgid: number | undefined;
  #exited: Promise<void> = Promise.resolve();
  #restartTimer: NodeJS.Timeout | undefined;
  #probeTimers = new Set<NodeJS.Timeout>();
  #backoff: number;
  readonly #onChange: () => void;

  constructor(spec: PodProcessSpec, onChange: () => void) {
    this.spec = spec;
    this.#onChange = onChange;
    this.#backoff = spec.backoffMs.initial;
  }

  get pid(): number | undefined {
    return this.#child?.exitCode === null && this.#child.signalCode === null ? this.#child.pid : undefined;
  }

  start(): void {
    if (this.stopping) return;
    const log = openSync(this.spec.logFile, "a");
    const [cmd, ...args] = this.spec.argv;
    const startedAt = now();
    writeSync(log, `--- ${startedAt} start ${JSON.stringify(this.spec.argv)}\n`);
    // A process group of its own, so that signals reach whatever the command starts.
    const child = spawn(cmd as string, args, {
      env: this.spec.env,
      stdio: ["ignore", log, log],
      detached: true,
    });
    closeSync(log);
    this.#child = child;
    this.#pgid = child.pid;
    this.state = { running: { startedAt } };
    this.#exited = new Promise((resolve) => {
      // A failed spawn may report both an error and an exit: the first one counts.
      let done = false;
      const exited = (code: number, signal: NodeJS.Signals | null) => {
        if (done) return;
        done = true;
        this.#onExit(code, signal, startedAt);
        resolve();
      };
      child.once("error", (err) => {
        this.#appendLog(`--- spawn failed: ${err.message}\n`);
        exited(127, null);
      });
      child.once("exit", (code, signal) =>
        exited(code ?? 128 + (signal ? (signalNumbers[signal] ?? 0) : 0), signal),
      );
    });
    this.#startProbing();
    this.#onChange();
  }

  #appendLog(text: string): void {
    try {
      const fd = openSync(this.spec.logFile, "a");
      writeSync(fd, text);
      closeSync(fd);
    } catch {}
  }

  #onExit(exitCode: number, signal: NodeJS.Signals | null, startedAt: string): void {
    this.#child = undefined;
    this.#killGroup();
    this.#stopProbing();
    this.#setReady(false);
    const terminated = {
      exitCode,
      ...(signal ? { signal: signalNumbers[signal] ?? 0 } : {}),
      reason: exitCode === 0 ? "Completed" : "Error",
      startedAt,
      finishedAt: now(),
    };
    this.#appendLog(`--- ${terminated.finishedAt} exited ${signal ?? exitCode}\n`);
    if (this.stopping) {
      this.state = { terminated };
      this.#onChange();
      return;
    }
    this.lastState = { terminated };
    this.restartCount++;
    // Running long enough resets the backoff, as the kubelet does after 10 minutes (scaled down).
    if (Date.now() - Date.parse(startedAt) > 10 * this.spec.backoffMs.max)
      this.#backoff = this.spec.backoffMs.initial;
    const delay = this.#backoff;
    this.#backoff = Math.min(this.#backoff * 2, this.spec.backoffMs.max);
    this.state = {
      waiting: {
        reason: "CrashLoopBackOff",
        message: `back-off ${delay}ms restarting failed container of pod ${this.spec.namespace}/${this.spec.name}`,
      },
    };
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      this.start();
    }, delay);
    this.#onChange();
  }

  #setReady(ready: boolean): void {
    if (this.ready === ready) return;
    this.ready = ready;
    this.readySince = now();
    this.#onChange();
  }

  #startProbing(): void {
    const child = this.#child;
    const readiness = this.spec.readiness;
    if (readiness) this.#probeLoop(child, readiness, (ok) => this.#setReady(ok));
    else this.#setReady(true);
    const liveness = this.spec.liveness;
    if (liveness)
      this.#probeLoop(child, liveness, (ok) => {
        if (ok) return;
        // As the kubelet does: the container is killed (SIGTERM, SIGKILL after the grace period) and restarted.
        this.#appendLog(
          `--- ${now()} liveness probe failed ${liveness.failureThreshold} times: restarting\n`,
        );
        this.signal("SIGTERM");
        const pid = this.pid;
        setTimeout(() => {
          if (pid && this.pid === pid) this.signal("SIGKILL");
        }, this.spec.graceSeconds * 1000).unref();
      });
  }

  /** Probes every periodMs while `child` runs; reports a success at once, a failure after failureThreshold. */
  #probeLoop(child: ChildProcess | undefined, probe: HttpProbe, report: (ok: boolean) => void): void {
    let failures = 0;
    const tick = (delay: number) => {
      const timer = setTimeout(() => {
        this.#probeTimers.delete(timer);
        this.#probe(probe).then((ok) => {
          if (this.#child !== child || this.stopping) return;
          if (ok) {
            failures = 0;
            report(true);
          } else if (++failures >= probe.failureThreshold) {
            failures = 0;
            report(false);
          }
          tick(probe.periodMs);
        });
      }, delay);
      this.#probeTimers.add(timer);
    };
    tick(Math.max(probe.initialDelayMs, Math.min(probe.periodMs, 100)));
  }

  #stopProbing(): void {
    for (const t of this.#probeTimers) clearTimeout(t);
    this.#probeTimers.clear();
  }

  #probe(p: HttpProbe): Promise<boolean> {
    return new Promise((resolve) => {
      const req = request({ host: p.host, port: p.port, path: p.path, timeout: p.timeoutMs }, (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve(code >= 200 && code < 400);
      });
      req.on("timeout", () => req.destroy());
      req.on("error", () => resolve(false));
      req.end();
    });
  }

  /** Sends a signal to the container's process group, behind Kubernetes' back (a crash, an OOM kill). */
  signal(signal: NodeJS.Signals): boolean {
    const pid = this.pid;
    if (!pid) return false;
    try {
      process.kill(-pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** SIGTERM, then SIGKILL after the grace period; resolves once the process is gone. */
  async stop(graceSeconds = this.spec.graceSeconds): Promise<void> {
    this.stopping = true;
    clearTimeout(this.#restartTimer);
    this.#stopProbing();
    if (!this.pid) {
      this.#onChange();
      return;
    }
    this.signal("SIGTERM");
    const kill = setTimeout(() => this.signal("SIGKILL"), graceSeconds * 1000);
    await this.#exited;
    clearTimeout(kill);
    this.#killGroup();
  }

  /** The last process group started, for clean-up when the test process exits. */
  get pgid(): number | undefined {
    return this.#pgid;
  }

  /** Whatever the container left behind in its group goes too. */
  #killGroup(): void {
    if (!this.#pgid) return;
    try {
      process.kill(-this.#pgid, "SIGKILL");
    } catch {}
    this.#pgid = undefined;
  }
}
