// Where a cluster of real nodes keeps its state, and the clean-up of what a killed run left.
//
// Each cluster has a folder `<root>/xn<index>/`, bind-mounted on itself and made private (so `unshare
// --mount=FILE` may keep a node's mount namespace in a file there), holding an `owner.pid` (the process that
// started it), pid files of the processes it started outside the nodes, and a folder per node: its mount
// namespace file, certificates, configuration, containerd's and the kubelet's data, logs and pid files. A pid
// file holds the pid and the process's start time (field 22 of /proc/<pid>/stat), so a reused pid is never
// taken for ours.
//
// Everything of a cluster is named from its index: its folder, namespaces (`xn<index>-…`), the host's link
// (`xn<index>h`) and its nodes' cgroups (`/xdp-counter-xn<index>-<node>` in every hierarchy). So
// `destroyClusterSync` can remove a cluster from its index alone: it is what `stop()` ends with, what the exit
// handlers run, and what the next start runs on the folder of a run that was SIGKILLed.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  isRunning,
  killSync,
  type ProcessIdentity,
  processIdentity,
  readPidFile,
  writePidFile,
} from "../process.ts";
import { cgroupsWithPrefix, destroyCgroups } from "./cgroups.ts";
import { runSync, tryRunSync } from "./cmd.ts";
import { cgroupPrefix, clusterPlan, MAX_CLUSTERS } from "./plan.ts";

export {
  isRunning,
  killSync,
  type ProcessIdentity,
  processIdentity,
  readPidFile,
  sleepSync,
  writePidFile,
} from "../process.ts";

/** The default root of the clusters' folders; `XDP_COUNTER_NODES_STATE` replaces it. */
export const defaultNodesStateRoot = "/var/lib/xdp-counter/nodes";

export function nodesStateRoot(): string {
  return process.env.XDP_COUNTER_NODES_STATE || defaultNodesStateRoot;
}

/** The pid files of a cluster: its own (`<dir>/*.pid`) and its nodes' (`<dir>/<node>/*.pid`). */
function pidFiles(dir: string): string[] {
  const out: string[] = [];
  const entries = (d: string) => {
    try {
      return readdirSync(d, { withFileTypes: true });
    } catch {
      return [];
    }
  };
  for (const e of entries(dir)) {
    if (e.isFile() && e.name.endsWith(".pid") && e.name !== "owner.pid") out.push(join(dir, e.name));
    // a node's folder: its pid files only, never down into containerd's or the kubelet's data
    if (e.isDirectory())
      for (const f of entries(join(dir, e.name)))
        if (f.isFile() && f.name.endsWith(".pid")) out.push(join(dir, e.name, f.name));
  }
  return out;
}

/** Mount points at or below `dir` in this mount namespace, deepest first. */
export function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4] ?? "")
    .map((target) => target.replace(/\\040/g, " "))
    .filter((target) => target === dir || target.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/**
 * Removes everything of cluster `index`, whatever state it is in: every process under its nodes' cgroups
 * (daemons, shims, containers) and in its pid files, the cgroups, the mount namespace files (and with them
 * every mount of every node), the namespaces, the host's link (and with it the routes to the pods), the folder.
 * Synchronous. Returns what could not be removed.
 */
export function destroyClusterSync(root: string, index: number): string[] {
  const plan = clusterPlan(index);
  const dir = join(root, plan.id);
  const left: string[] = [];
  for (const path of cgroupsWithPrefix(cgroupPrefix(plan.id))) left.push(...destroyCgroups(path));
  killSync(pidFiles(dir).flatMap((f) => readPidFile(f) ?? []));
  for (const target of mountsUnder(dir)) tryRunSync(["umount", "-l", target]);
  for (const ns of netnsWithPrefix(`${plan.id}-`)) {
    if (!tryRunSync(["ip", "netns", "del", ns])) left.push(`network namespace ${ns}`);
  }
  if (linkExists(plan.hostIface) && !tryRunSync(["ip", "link", "del", plan.hostIface]))
    left.push(`link ${plan.hostIface}`);
  rmSync(dir, { recursive: true, force: true });
  if (existsSync(dir)) left.push(dir);
  return left;
}

export function netnsWithPrefix(prefix: string): string[] {
  let names: string[];
  try {
    names = readdirSync("/run/netns");
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith(prefix));
}

export function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

/** A folder without an owner file this long after it was made is a start that died before writing it. */
const OWNERLESS_GRACE_MS = 60_000;

function owner(dir: string): ProcessIdentity | undefined {
  return readPidFile(join(dir, "owner.pid"));
}

function abandoned(dir: string): boolean {
  const id = owner(dir);
  if (id) return !isRunning(id);
  try {
    return Date.now() - statSync(dir).mtimeMs > OWNERLESS_GRACE_MS;
  } catch {
    return false;
  }
}

/**
 * Cleans what clusters whose owner is gone (SIGKILLed, crashed) left under `root`, and whatever carries a
 * cluster's names with no folder at all (a clean-up cut short after the folder went). Returns the cluster ids
 * cleaned.
 */
export function removeAbandonedClusters(root: string = nodesStateRoot()): string[] {
  const cleaned: string[] = [];
  for (let index = 0; index < MAX_CLUSTERS; index++) {
    const plan = clusterPlan(index);
    const dir = join(root, plan.id);
    const hasDir = existsSync(dir);
    if (hasDir && !abandoned(dir)) continue;
    const traces =
      hasDir ||
      netnsWithPrefix(`${plan.id}-`).length > 0 ||
      linkExists(plan.hostIface) ||
      cgroupsWithPrefix(cgroupPrefix(plan.id)).length > 0;
    if (!traces) continue;
    // no folder but names in use: only garbage if no live run is about to make the folder (it makes it first)
    const left = destroyClusterSync(root, index);
    cleaned.push(left.length ? `${plan.id} (left: ${left.join(", ")})` : plan.id);
  }
  return cleaned;
}

/** Whether a host address, link or namespace already uses cluster `index`'s names or ranges. */
function inUse(index: number): boolean {
  const plan = clusterPlan(index);
  if (netnsWithPrefix(`${plan.id}-`).length > 0 || linkExists(plan.hostIface)) return true;
  const prefixes = [plan.network, plan.podRange].map((cidr) => `${cidr.split(".").slice(0, 3).join(".")}.`);
  const addresses = runSync(["ip", "-o", "-4", "addr", "show"]);
  const routes = runSync(["ip", "-4", "route", "show", "table", "all"]);
  return prefixes.some((p) => addresses.includes(` ${p}`) || routes.includes(p));
}

/**
 * Takes a free cluster index: makes its folder (the lock: mkdir either makes it or fails), writes the owner
 * file, bind-mounts the folder on itself and makes it private. Returns the index and the folder.
 */
export function allocateCluster(root: string = nodesStateRoot()): { index: number; dir: string } {
  mkdirSync(root, { recursive: true });
  const self = processIdentity(process.pid);
  if (!self) throw new Error(`cannot read /proc/${process.pid}/stat`);
  const start = process.pid % MAX_CLUSTERS;
  for (let k = 0; k < MAX_CLUSTERS; k++) {
    const index = (start + k) % MAX_CLUSTERS;
    const dir = join(root, clusterPlan(index).id);
    try {
      mkdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw err;
    }
    writePidFile(join(dir, "owner.pid"), self);
    if (inUse(index)) {
      rmSync(dir, { recursive: true, force: true });
      continue;
    }
    // A private bind mount of its own: `unshare --mount=FILE` refuses a file on a shared mount, and a node's
    // mount namespace file must not propagate anywhere.
    runSync(["mount", "--bind", dir, dir]);
    runSync(["mount", "--make-private", dir]);
    return { index, dir };
  }
  throw new Error(`no free cluster index under ${root} (${MAX_CLUSTERS} clusters running?)`);
}

// Clusters alive in this process, destroyed synchronously if it exits or is interrupted before their stop().
const live = new Map<number, string>();
const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

function destroyAllLive(): void {
  for (const [index, root] of live) destroyClusterSync(root, index);
  live.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // Removed synchronously first, then the signal raised again with this handler gone: any other handler (the
  // control plane's own, which stands back while another handler listens) then sees it once more, and with
  // none left the default action ends the process as the signal asked.
  destroyAllLive();
  uninstall();
  process.kill(process.pid, signal);
}

function install(): void {
  process.on("exit", destroyAllLive);
  for (const s of signals) process.on(s, onSignal);
}

function uninstall(): void {
  process.off("exit", destroyAllLive);
  for (const s of signals) process.off(s, onSignal);
}

export function registerLiveCluster(root: string, index: number): void {
  if (live.size === 0) install();
  live.set(index, root);
}

export function unregisterLiveCluster(index: number): void {
  if (!live.delete(index)) return;
  if (live.size === 0) uninstall();
}
