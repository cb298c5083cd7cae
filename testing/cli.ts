// Runs the xdp-counter CLI as a user would, inside a test host's network namespace.
import { type ChildProcessWithoutNullStreams, execFile, spawn } from "node:child_process";
import { inNs } from "./netns.ts";

export const CLI = new URL("../agent/cli/bin.ts", import.meta.url).pathname;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `xdp-counter ARGS` in a namespace (or the host's, with ns undefined) and waits for it. */
export function runCli(ns: string | undefined, args: string[], prefix: string[] = []): Promise<CliResult> {
  const argv = [...prefix, process.execPath, CLI, ...args];
  const [cmd, ...rest] = ns ? inNs(ns, argv) : argv;
  return new Promise((resolve) => {
    execFile(cmd as string, rest, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err
        ? typeof (err as { code?: unknown }).code === "number"
          ? (err as { code: number }).code
          : 1
        : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts `xdp-counter ARGS` in a namespace and leaves it running. */
export function startCli(ns: string, args: string[]): ChildProcessWithoutNullStreams {
  const [cmd, ...rest] = inNs(ns, [process.execPath, CLI, ...args]);
  return spawn(cmd as string, rest, { stdio: "pipe" });
}

/** Counters of one interface from `status --json`, as bigint. */
export async function statusOf(
  ns: string,
  iface: string,
): Promise<{
  attached: boolean;
  mode: string | null;
  action: string | null;
  packets: Record<string, bigint>;
  bytes: Record<string, bigint>;
}> {
  const r = await runCli(ns, ["status", "--iface", iface, "--json"]);
  if (r.code !== 0) throw new Error(`status failed (${r.code}): ${r.stderr}`);
  const s = (
    JSON.parse(r.stdout) as {
      interfaces: Array<{
        attached: boolean;
        mode: string | null;
        action: string | null;
        counters: Record<string, { packets: string; bytes: string }> | null;
      }>;
    }
  ).interfaces[0];
  if (!s?.counters) throw new Error(`no counters for ${iface}: ${r.stdout}`);
  const packets: Record<string, bigint> = {};
  const bytes: Record<string, bigint> = {};
  for (const [a, c] of Object.entries(s.counters)) {
    packets[a] = BigInt(c.packets);
    bytes[a] = BigInt(c.bytes);
  }
  return { attached: s.attached, mode: s.mode, action: s.action, packets, bytes };
}
