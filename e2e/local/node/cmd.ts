// Running commands: on the host, or inside a node (its mount and network namespaces, as its containerd,
// kubelet and kube-proxy run). Asynchronous for the steps; synchronous for clean-up, which also runs from exit
// handlers that cannot wait for a promise.
import { execFile, execFileSync } from "node:child_process";

export class CommandError extends Error {
  readonly argv: readonly string[];
  readonly stderr: string;
  constructor(argv: readonly string[], stderr: string, message: string) {
    super(`${argv.join(" ")}: ${stderr.trim() || message}`);
    this.name = "CommandError";
    this.argv = argv;
    this.stderr = stderr;
  }
}

export function run(argv: readonly string[], options: { input?: string } = {}): Promise<string> {
  const [cmd, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = execFile(cmd as string, args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new CommandError(argv, stderr, err.message));
      else resolve(stdout);
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Runs a command and returns its output; throws a CommandError unless it exits 0. */
export function runSync(argv: readonly string[]): string {
  const [cmd, ...args] = argv;
  try {
    return execFileSync(cmd as string, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new CommandError(argv, e.stderr ?? "", e.message);
  }
}

/** Runs a command for its effect, ignoring failure (clean-up of what may already be gone). */
export function tryRunSync(argv: readonly string[]): boolean {
  try {
    runSync(argv);
    return true;
  } catch {
    return false;
  }
}

/** Where a node's processes live: its mount namespace file and its network namespace. */
export interface NodeNamespaces {
  mountNs: string;
  netns: string;
}

/** argv that runs a command inside a node, as its components run. */
export function inNode(ns: NodeNamespaces, argv: readonly string[]): string[] {
  return ["nsenter", `--mount=${ns.mountNs}`, `--net=/run/netns/${ns.netns}`, "--", ...argv];
}

/** A shell script run inside a node with `sh -e`. */
export function nodeScript(ns: NodeNamespaces, script: string): Promise<string> {
  return run(inNode(ns, ["sh", "-ec", script]));
}
