// One daemon of a node (containerd, the kubelet, kube-proxy): joined to the node's daemon cgroup in every
// hierarchy before it runs (so whatever it starts, containerd's shims included, is under the node's cgroupRoot),
// then run in the node's mount and network namespaces through nsenter, in a process group of its own, its
// output appended to `<name>.log` and its identity in `<name>.pid` in the node's folder.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { inNode, type NodeNamespaces } from "./cmd.ts";
import { type ProcessIdentity, processIdentity, writePidFile } from "./state.ts";

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * sh writes its own pid (which exec keeps through nsenter to the daemon) into each cgroup.procs file given
 * before "--", then execs the rest.
 */
const JOIN_CGROUPS = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';

export class NodeProcess {
  readonly name: string;
  readonly logPath: string;
  readonly pidPath: string;
  readonly identity: ProcessIdentity;
  exit: Exit | undefined;
  /** why it could not start, if it could not */
  note = "";
  readonly #child: ChildProcess;
  readonly #exited: Promise<Exit>;

  constructor(
    name: string,
    argv: string[],
    options: { ns: NodeNamespaces; dir: string; cgroupProcs: string[]; env?: NodeJS.ProcessEnv },
  ) {
    this.name = name;
    this.logPath = join(options.dir, `${name}.log`);
    this.pidPath = join(options.dir, `${name}.pid`);
    const log = openSync(this.logPath, "a");
    try {
      this.#child = spawn(
        "/bin/sh",
        ["-c", JOIN_CGROUPS, "sh", ...options.cgroupProcs, "--", ...inNode(options.ns, argv)],
        {
          cwd: options.dir,
          env: options.env ?? { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
          detached: true,
          stdio: ["ignore", log, log],
        },
      );
    } finally {
      closeSync(log);
    }
    const pid = this.#child.pid;
    this.identity = (pid !== undefined && processIdentity(pid)) || { pid: pid ?? 0, start: "" };
    if (pid !== undefined) writePidFile(this.pidPath, this.identity);
    this.#exited = new Promise((resolve) => {
      this.#child.once("error", (err) => {
        this.exit ??= { code: null, signal: null };
        this.note = `cannot start: ${err.message}`;
        resolve(this.exit);
      });
      this.#child.once("exit", (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    // a node forgotten by its owner must not keep the owner alive: the exit handlers remove it then
    this.#child.unref();
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  describeExit(): string {
    if (!this.exit) return "running";
    if (this.note) return this.note;
    return this.exit.signal ? `signal ${this.exit.signal}` : `exit code ${this.exit.code}`;
  }

  logTail(lines = 25): string {
    try {
      return readFileSync(this.logPath, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves once the process is gone. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (!this.exit) {
      this.#signal("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.#signal("SIGKILL");
          resolve();
        }, timeoutMs);
      });
      await Promise.race([this.#exited, killed]);
      clearTimeout(timer);
      await this.#exited;
    }
    rmSync(this.pidPath, { force: true });
  }

  #signal(signal: NodeJS.Signals): void {
    for (const target of [-this.identity.pid, this.identity.pid]) {
      try {
        process.kill(target, signal);
      } catch {}
    }
  }
}
