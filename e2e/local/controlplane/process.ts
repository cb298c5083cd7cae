// One component's process: started in a process group of its own (so a terminal's Ctrl-C reaches only the
// owner, which then stops it in order), its output appended to `<name>.log`, its identity in `<name>.pid`.
// stop() sends SIGTERM and, after the timeout, SIGKILL.
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, closeSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type ProcessIdentity, processIdentity, signalGroup, writePidFile } from "./state.ts";

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ComponentProcess {
  readonly name: string;
  readonly logPath: string;
  readonly pidPath: string;
  readonly identity: ProcessIdentity;
  /** set once the process has exited */
  exit: Exit | undefined;
  readonly #child: ChildProcess;
  readonly #exited: Promise<Exit>;

  constructor(name: string, binary: string, args: string[], dir: string, env: NodeJS.ProcessEnv) {
    this.name = name;
    this.logPath = join(dir, `${name}.log`);
    this.pidPath = join(dir, `${name}.pid`);
    const log = openSync(this.logPath, "a");
    try {
      this.#child = spawn(binary, args, { cwd: dir, env, detached: true, stdio: ["ignore", log, log] });
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
        appendNote(this.logPath, `cannot start ${binary}: ${err.message}`);
        resolve(this.exit);
      });
      this.#child.once("exit", (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    // a forgotten control plane must not keep its owner alive: the exit handlers stop it then
    this.#child.unref();
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** How it ended, for messages: "exit code 1", "signal SIGKILL". */
  describeExit(): string {
    if (!this.exit) return "running";
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

  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves once the process is gone. */
  async stop(timeoutMs: number): Promise<void> {
    if (this.exit) return this.#forget();
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
    this.#forget();
  }

  #forget(): void {
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
