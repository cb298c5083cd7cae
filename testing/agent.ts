// Runs `xdp-counter agent` as the DaemonSet would (NODE_NAME, POD_NAMESPACE, the agents' ConfigMap), inside a
// test node's network namespace (nsenter keeps the host's bpffs), and follows its JSON log lines.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { CLI } from "./cli.ts";
import { inNs, nsExec, VethPair } from "./netns.ts";

/** What a test (node:test's TestContext) offers for clean-ups run after it, failed or not. */
export type AfterTest = { after: (fn: () => Promise<void>) => void };

/** A veth pair (a test node's namespace and the traffic peer's), destroyed after the test. */
export async function pairFor(t: AfterTest): Promise<VethPair> {
  const pair = await VethPair.create();
  t.after(() => pair.destroy());
  return pair;
}

/** The agent, SIGKILLed after the test if it still runs. */
export function track(t: AfterTest, agent: AgentProcess): AgentProcess {
  t.after(async () => {
    await agent.stop("SIGKILL");
  });
  return agent;
}

export type LogLine = { level: string; msg: string } & Record<string, unknown>;

export interface AgentProcess {
  child: ChildProcess;
  logs: LogLine[];
  stderr: string[];
  /** the HTTP port, once the agent logged "started" */
  port(): Promise<number>;
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  exited: Promise<number | null>;
  /** SIGTERM (or the signal given), and wait for the exit */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startAgent(opts: {
  ns: string;
  /** NODE_NAME: the Node the agent is on */
  node: string;
  /** the agents' ConfigMap it reads (in testing/cluster.ts's AGENT_NAMESPACE) */
  specs: string;
  kubeconfig: string;
  pinRoot: string;
  pollInterval?: string;
  /** default debug (tests read the "reported" lines); the agent's own default is info */
  logLevel?: "debug" | "info" | "warn" | "error";
  env?: Record<string, string>;
  /** the `xdp-counter` entry to run: default the sources' agent/cli/bin.ts */
  bin?: string;
}): AgentProcess {
  const [cmd, ...args] = inNs(opts.ns, [
    process.execPath,
    opts.bin ?? CLI,
    "agent",
    "--port",
    "0",
    "--pin-root",
    opts.pinRoot,
    "--poll-interval",
    opts.pollInterval ?? "200ms",
    "--log-level",
    opts.logLevel ?? "debug",
  ]);
  const child = spawn(cmd as string, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      NODE_NAME: opts.node,
      POD_NAMESPACE: "xdp-system",
      XDP_COUNTER_AGENT_SPECS: opts.specs,
      KUBECONFIG: opts.kubeconfig,
      // the tests' reports come every second: the node's budget (docs/adr/0027) must not space them
      XDP_COUNTER_REPORT_WRITES_PER_MINUTE: "600",
      ...opts.env,
    },
  });
  const logs: LogLine[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    try {
      logs.push(JSON.parse(line) as LogLine);
    } catch {
      logs.push({ level: "raw", msg: line });
    }
    for (const w of waiters) w();
  });
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (line) => {
    stderr.push(line);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const waitForLog = (match: (line: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = logs.find(match);
        if (found) {
          cleanup();
          resolve(found);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `no matching agent log line within ${timeoutMs} ms; log:\n${logs.map((l) => JSON.stringify(l)).join("\n")}\nstderr:\n${stderr.join("\n")}`,
          ),
        );
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        waiters.delete(onLine);
      };
      const onLine = (): void => {
        check();
      };
      if (!check()) waiters.add(onLine);
    });
  return {
    child,
    logs,
    stderr,
    port: async () => (await waitForLog((l) => l.msg === "started")).port as number,
    waitForLog,
    exited,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** GET http://127.0.0.1:PORT/PATH from inside a namespace: {status, body}. */
export async function fetchInNs(
  ns: string,
  port: number,
  path: string,
): Promise<{ status: number; body: string }> {
  const script = `const r = await fetch("http://127.0.0.1:${port}${path}"); process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() }));`;
  const out = await nsExec(ns, [process.execPath, "--input-type=module", "-e", script]);
  return JSON.parse(out) as { status: number; body: string };
}
