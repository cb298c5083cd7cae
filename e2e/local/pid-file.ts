// A process's identity on disk: the pid and the process's start time (field 22 of /proc/<pid>/stat), so a
// pid reused by another process is never taken for one of ours. Shared by the control plane's and the real
// nodes' launchers, which both clean up what a killed run left.
import { readFileSync, writeFileSync } from "node:fs";

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
