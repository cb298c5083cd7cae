// Where a control plane keeps its state, and the clean-up of what a killed run left. Each control plane has a
// folder `<root>/<id>/` holding an `owner.pid` (the process that started it) and a `<component>.pid` per
// process it runs, beside their data, certificates and logs. A pid file holds the pid and the process's start
// time (field 22 of /proc/<pid>/stat), so a pid reused by another process is never taken for ours. Before a
// start, every folder whose owner is gone is cleaned: its processes are killed and the folder removed.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  isRunning,
  killSync,
  type ProcessIdentity,
  processIdentity,
  readPidFile,
  writePidFile,
} from "../process.ts";

export {
  isRunning,
  killSync,
  type ProcessIdentity,
  processIdentity,
  readPidFile,
  signalGroup,
  sleepSync,
  writePidFile,
} from "../process.ts";

/** The default root of the control planes' state folders; one folder per control plane under it. */
export const defaultStateRoot = "/tmp/xdp-counter-controlplane";

/** A new state folder under `root`, owned by this process. */
export function createStateDir(root: string): string {
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(join(root, "cp-"));
  const self = processIdentity(process.pid);
  if (!self) throw new Error(`cannot read /proc/${process.pid}/stat`);
  writePidFile(join(dir, "owner.pid"), self);
  return dir;
}

/** The component pid files of a state folder. */
export function componentPids(dir: string): ProcessIdentity[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.endsWith(".pid") && e !== "owner.pid")
    .map((e) => readPidFile(join(dir, e)))
    .filter((id): id is ProcessIdentity => id !== undefined);
}

/** A folder without an owner file this long after it was made is a start that died before writing it. */
const OWNERLESS_GRACE_MS = 60_000;

/**
 * Cleans what control planes whose owner is gone (SIGKILLed, crashed) left under `root`: kills their processes
 * and removes their folders. Returns the folders removed.
 */
export function removeAbandoned(root: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const entry of entries) {
    const dir = join(root, entry);
    const owner = readPidFile(join(dir, "owner.pid"));
    if (owner && isRunning(owner)) continue;
    if (!owner) {
      try {
        if (Date.now() - statSync(dir).mtimeMs < OWNERLESS_GRACE_MS) continue;
      } catch {
        continue;
      }
    }
    killSync(componentPids(dir));
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}
