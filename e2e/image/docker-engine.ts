// A private Docker engine for the image test: Debian's dockerd (package docker.io) with its own data root, exec
// root, pidfile, socket and containerd namespaces under one temporary directory, no bridge and no iptables
// rules, so it never touches the machine's own Docker (if any) or its firewall. Disposing it removes every
// container it made, stops the daemon (and the containerd it started) and deletes the directory, and with it
// every image and layer.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export const DOCKERD = "/usr/sbin/dockerd";
/** Debian's client, matching the daemon; never whatever `docker` comes first on the PATH. */
export const DOCKER = "/usr/bin/docker";

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export class DockerError extends Error {
  readonly args: readonly string[];
  readonly result: RunResult;

  constructor(args: readonly string[], result: RunResult) {
    super(
      `docker ${args.join(" ")} exited ${result.status}: ${result.stderr.trim() || result.stdout.trim()}`,
    );
    this.name = "DockerError";
    this.args = args;
    this.result = result;
  }
}

/**
 * What dockerd 20.10 and containerd's shims create outside the roots we give them: the trust key, the plugin
 * socket directory and the shims' socket directory. Each is removed at the end if this engine made it (and, for
 * a directory, it is empty again).
 */
const OUTSIDE_ROOTS = [
  "/etc/docker/key.json",
  "/var/run/docker/plugins",
  "/var/run/docker",
  "/run/containerd/s",
  "/run/containerd",
];

export class DockerEngine implements AsyncDisposable {
  readonly dir: string;
  readonly #preexisting = new Set(OUTSIDE_ROOTS.filter((path) => existsSync(path)));
  readonly socket: string;
  readonly log: string;
  #daemon: ChildProcess | undefined;

  private constructor(dir: string) {
    this.dir = dir;
    this.socket = join(dir, "docker.sock");
    this.log = join(dir, "dockerd.log");
  }

  /** Starts dockerd and waits until it answers. Throws, leaving nothing behind, if it does not. */
  static async start(timeoutMs = 60_000): Promise<DockerEngine> {
    for (const binary of [DOCKERD, DOCKER]) {
      if (!existsSync(binary))
        throw new Error(`${binary} is missing: apt-get install docker.io (see .ci/install)`);
    }
    const engine = new DockerEngine(mkdtempSync(join(tmpdir(), "xdp-counter-docker-")));
    try {
      await engine.#start(timeoutMs);
      return engine;
    } catch (err) {
      await engine[Symbol.asyncDispose]();
      throw err;
    }
  }

  async #start(timeoutMs: number): Promise<void> {
    mkdirSync(join(this.dir, "data"));
    mkdirSync(join(this.dir, "exec"));
    const ns = `xdp-counter-test-${process.pid}`;
    const out = openSync(this.log, "a");
    this.#daemon = spawn(
      DOCKERD,
      [
        `--host=unix://${this.socket}`,
        `--data-root=${join(this.dir, "data")}`,
        `--exec-root=${join(this.dir, "exec")}`,
        `--pidfile=${join(this.dir, "dockerd.pid")}`,
        `--containerd-namespace=${ns}`,
        `--containerd-plugins-namespace=${ns}-plugins`,
        "--iptables=false",
        "--ip6tables=false",
        "--ip-masq=false",
        "--bridge=none",
        "--storage-driver=overlay2",
      ],
      { stdio: ["ignore", out, out] },
    );
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.#daemon.exitCode !== null) {
        throw new Error(`dockerd exited ${this.#daemon.exitCode}:\n${this.tailLog()}`);
      }
      if (existsSync(this.socket) && this.run(["version", "--format", "{{.Server.Version}}"]).status === 0)
        return;
      await sleep(200);
    }
    throw new Error(`dockerd did not answer within ${timeoutMs} ms:\n${this.tailLog()}`);
  }

  tailLog(lines = 30): string {
    try {
      return readFileSync(this.log, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no dockerd log)";
    }
  }

  /** Runs the client against this engine; never throws. */
  run(
    args: readonly string[],
    options: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {},
  ): RunResult {
    const result = spawnSync(DOCKER, [`--host=unix://${this.socket}`, ...args], {
      encoding: "utf8",
      input: options.input,
      env: { ...process.env, DOCKER_CONFIG: join(this.dir, "client"), ...options.env },
      maxBuffer: 256 << 20,
    });
    return {
      status: result.status ?? -1,
      stdout: result.stdout ?? "",
      stderr: (result.stderr ?? "") + (result.error ? String(result.error) : ""),
    };
  }

  /** Runs the client and throws a DockerError unless it exits 0. */
  check(args: readonly string[], options: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): string {
    const result = this.run(args, options);
    if (result.status !== 0) throw new DockerError(args, result);
    return result.stdout;
  }

  /** Runs the client with its output streamed to a log file, for long builds; resolves with the exit code. */
  stream(args: readonly string[], logFile: string, env: NodeJS.ProcessEnv = {}): Promise<number> {
    const out = openSync(logFile, "a");
    const child = spawn(DOCKER, [`--host=unix://${this.socket}`, ...args], {
      stdio: ["ignore", out, out],
      env: { ...process.env, DOCKER_CONFIG: join(this.dir, "client"), ...env },
    });
    return new Promise((resolve) => child.on("exit", (code) => resolve(code ?? -1)));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    const daemon = this.#daemon;
    if (daemon && daemon.exitCode === null) {
      const ids = this.run(["ps", "-aq"]).stdout.split("\n").filter(Boolean);
      if (ids.length > 0) this.run(["rm", "-f", "-v", ...ids]);
      // Images go with the data root below: deleting layer by layer through the daemon only takes longer.
      daemon.kill("SIGTERM");
      const exited = new Promise((resolve) => daemon.once("exit", resolve));
      if ((await Promise.race([exited, sleep(20_000, "timeout")])) === "timeout") {
        daemon.kill("SIGKILL");
        await exited;
      }
    }
    // Whatever the daemon left mounted under its roots (overlay layers, shm, netns files) goes before the files.
    const mounts = readFileSync("/proc/self/mounts", "utf8")
      .split("\n")
      .map((line) => line.split(" ")[1] ?? "")
      .filter((target) => target.startsWith(`${this.dir}/`))
      .sort((a, b) => b.length - a.length);
    for (const target of mounts) spawnSync("umount", ["-l", target]);
    rmSync(this.dir, { recursive: true, force: true });
    for (const path of OUTSIDE_ROOTS) {
      if (this.#preexisting.has(path) || !existsSync(path)) continue;
      try {
        if (statSync(path).isDirectory()) rmdirSync(path);
        else rmSync(path);
      } catch {
        // Not empty: someone else's engine uses it now; leave it.
      }
    }
  }
}
