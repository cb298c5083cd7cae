// The processes the local cluster runs (etcd and the control plane's components; each node's containerd,
// kubelet and kube-proxy), shared by the control plane's and the real nodes' launchers:
//   - a process's identity on disk: the pid and the process's start time (field 22 of /proc/<pid>/stat), so a
//     pid reused by another process is never taken for one of ours, and a killed run's leftovers are found;
//   - a daemon: started in a process group of its own (so a terminal's Ctrl-C reaches only the owner, which
//     then stops it in order), its output appended to `<name>.log`, its identity in `<name>.pid`; stop() sends
//     SIGTERM and, after a timeout, SIGKILL.
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, closeSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A process as the kernel knows it: the pid and when it started, which together never repeat. */
export interface ProcessIdentity {
  pid: number;
  start: string;
}

/** A running process's identity; undefined when there is no such process or it is a zombie. */
export function processIdentity(pid: number): ProcessIdentity | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // the command name (field 2) may hold spaces and parentheses: the fields after it follow the last ")"
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (fields[0] === "Z" || fields[0] === "X") return undefined;
  const start = fields[19];
  return start ? { pid, start } : undefined;
}

export function isRunning(id: ProcessIdentity): boolean {
  return processIdentity(id.pid)?.start === id.start;
}

export function writePidFile(path: string, id: ProcessIdentity): void {
  writeFileSync(path, `${id.pid} ${id.start}\n`);
}

export function readPidFile(path: string): ProcessIdentity | undefined {
  try {
    const [pid, start] = readFileSync(path, "utf8").trim().split(" ");
    return pid && start ? { pid: Number(pid), start } : undefined;
  } catch {
    return undefined;
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Sleeps synchronously (for exit handlers, which cannot wait for a promise). */
export function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

/** Sends a signal to a process's group (our daemons lead their own) and to the process itself. */
export function signalGroup(id: ProcessIdentity, signal: NodeJS.Signals): void {
  if (!isRunning(id)) return;
  for (const target of [-id.pid, id.pid]) {
    try {
      process.kill(target, signal);
    } catch {
      // gone meanwhile, or no group
    }
  }
}

/** SIGKILLs the processes (and their groups) and waits, synchronously, until they are gone (at most `timeoutMs`). */
export function killSync(ids: ProcessIdentity[], timeoutMs = 5_000): void {
  for (const id of ids) signalGroup(id, "SIGKILL");
  const deadline = Date.now() + timeoutMs;
  while (ids.some(isRunning) && Date.now() < deadline) sleepSync(10);
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A long-running process of the local cluster; see the top of this file. */
export class Daemon {
  readonly name: string;
  readonly logPath: string;
  readonly pidPath: string;
  readonly identity: ProcessIdentity;
  /** set once the process has exited */
  exit: Exit | undefined;
  /** why it could not start, if it could not */
  note = "";
  readonly #child: ChildProcess;
  readonly #exited: Promise<Exit>;

  constructor(name: string, argv: string[], options: { dir: string; env: NodeJS.ProcessEnv }) {
    this.name = name;
    this.logPath = join(options.dir, `${name}.log`);
    this.pidPath = join(options.dir, `${name}.pid`);
    const [binary, ...args] = argv;
    if (!binary) throw new Error(`${name}: no command`);
    const log = openSync(this.logPath, "a");
    try {
      this.#child = spawn(binary, args, {
        cwd: options.dir,
        env: options.env,
        detached: true,
        stdio: ["ignore", log, log],
      });
    } finally {
      closeSync(log);
    }
    const pid = this.#child.pid;
    // the pid is known at once unless the binary could not be executed at all (reported by 'error')
    this.identity = (pid !== undefined && processIdentity(pid)) || { pid: pid ?? 0, start: "" };
    if (pid !== undefined) writePidFile(this.pidPath, this.identity);
    this.#exited = new Promise((resolve) => {
      this.#child.once("error", (err) => {
        this.exit ??= { code: null, signal: null };
        this.note = `cannot start ${binary}: ${err.message}`;
        appendNote(this.logPath, this.note);
        resolve(this.exit);
      });
      this.#child.once("exit", (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    // a forgotten daemon must not keep its owner alive: the exit handlers stop it then
    this.#child.unref();
  }

  /** Resolves when the process has exited, with how. */
  get exited(): Promise<Exit> {
    return this.#exited;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** How it ended, for messages: "exit code 1", "signal SIGKILL", or why it could not start. */
  describeExit(): string {
    if (!this.exit) return "running";
    if (this.note) return this.note;
    return this.exit.signal ? `signal ${this.exit.signal}` : `exit code ${this.exit.code}`;
  }

  /** The last lines of its log. */
  logTail(lines = 25): string {
    try {
      return readFileSync(this.logPath, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  /**
   * A fault as a test injects it: `signal` to the process alone (not its group: containerd's shims, which
   * lead groups of their own, and the containers under them must outlive a containerd that is killed, as on
   * a real node), then waits until it has exited and returns how.
   */
  async kill(signal: NodeJS.Signals): Promise<Exit> {
    if (!this.exit && isRunning(this.identity)) process.kill(this.identity.pid, signal);
    const exit = await this.#exited;
    rmSync(this.pidPath, { force: true });
    return exit;
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves once the process is gone. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (!this.exit) {
      signalGroup(this.identity, "SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          signalGroup(this.identity, "SIGKILL");
          resolve();
        }, timeoutMs);
      });
      await Promise.race([this.#exited, killed]);
      clearTimeout(timer);
      await this.#exited;
    }
    rmSync(this.pidPath, { force: true });
  }
}

function appendNote(path: string, line: string): void {
  try {
    appendFileSync(path, `${line}\n`);
  } catch {
    // the log is a convenience
  }
}
