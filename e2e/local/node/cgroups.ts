// A node's cgroups. This machine runs cgroup v1 (each controller a hierarchy of its own under /sys/fs/cgroup,
// plus name=systemd and an empty cgroup2 at unified): the kubelet, with cgroupDriver cgroupfs, puts its pods
// under its cgroupRoot, which must exist in every hierarchy, and runc joins each container to all of them.
// The node's own daemons (containerd, the kubelet, kube-proxy, and so the shims containerd starts) run in
// `<cgroupRoot>/node`, so everything of a node is somewhere under its cgroupRoot: stopping it is "freeze,
// SIGKILL every process under cgroupRoot, thaw, remove the cgroups", whoever started the process.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Hierarchy {
  /** where the host mounts it, e.g. /sys/fs/cgroup/memory */
  mountpoint: string;
  type: "cgroup" | "cgroup2";
  /** the options that name the hierarchy: its controllers, or name=…, for `mount -o` */
  options: string;
}

/** The host's cgroup hierarchies under /sys/fs/cgroup, read from /proc/self/mountinfo. */
export function hostHierarchies(): Hierarchy[] {
  const found: Hierarchy[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    // id parent major:minor root mountpoint options [optional fields] - type source super-options
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const mountpoint = left.split(" ")[4] ?? "";
    const [type, , superOptions = ""] = right.split(" ");
    if (!mountpoint.startsWith("/sys/fs/cgroup/")) continue;
    if (type !== "cgroup" && type !== "cgroup2") continue;
    // for v1 the super options hold the controllers (and name=…) besides rw/ro and flags
    const options = superOptions
      .split(",")
      .filter((o) => o !== "rw" && o !== "ro")
      .join(",");
    found.push({ mountpoint, type, options });
  }
  return found;
}

export function v1Hierarchies(all: Hierarchy[] = hostHierarchies()): Hierarchy[] {
  return all.filter((h) => h.type === "cgroup");
}

/** The shell commands that mount the host's hierarchies again on a fresh tmpfs at /sys/fs/cgroup. */
export function mountHierarchiesScript(hierarchies: Hierarchy[]): string {
  const lines = ["mount -t tmpfs -o mode=755,size=64k cgroup /sys/fs/cgroup"];
  for (const h of hierarchies) {
    lines.push(`mkdir -p ${h.mountpoint}`);
    // the same controller set finds the host's hierarchy: this mounts it again, it does not make a new one;
    // a named hierarchy without controllers (name=systemd) needs "none", or it would ask for every controller
    const named = h.options.split(",").every((o) => o.startsWith("name=") || o === "");
    const options = h.type === "cgroup2" ? h.options : named ? `none,${h.options}` : h.options;
    lines.push(`mount -t ${h.type}${options ? ` -o ${options}` : ""} ${h.type} ${h.mountpoint}`);
  }
  return lines.join("\n");
}

/**
 * argv that joins the cgroups whose `cgroup.procs` files are given, then execs `argv`: sh writes its own pid
 * (which exec keeps) into each, so the process is in them from its first instruction; sh exits 125 if one
 * cannot be joined.
 */
export function inCgroups(procsFiles: readonly string[], argv: readonly string[]): string[] {
  const join = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';
  return ["/bin/sh", "-c", join, "sh", ...procsFiles, "--", ...argv];
}

/** The folders of a cgroup in every hierarchy. */
export function cgroupDirs(path: string, hierarchies: Hierarchy[] = hostHierarchies()): string[] {
  return hierarchies.map((h) => join(h.mountpoint, path));
}

/** Makes `path` (and `path/node`, for the node's daemons) in every hierarchy. */
export function createNodeCgroups(path: string, hierarchies: Hierarchy[] = hostHierarchies()): void {
  for (const dir of cgroupDirs(path, hierarchies)) mkdirSync(join(dir, "node"), { recursive: true });
  // cpuset: a child starts with no CPUs and no memory nodes; copy the parent's, level by level
  const cpuset = hierarchies.find((h) => h.type === "cgroup" && h.options.split(",").includes("cpuset"));
  if (cpuset) {
    for (const dir of [join(cpuset.mountpoint, path), join(cpuset.mountpoint, path, "node")]) {
      for (const file of ["cpuset.cpus", "cpuset.mems"]) {
        const current = readFileSync(join(dir, file), "utf8").trim();
        if (current === "") writeFileSync(join(dir, file), readFileSync(join(dir, "..", file), "utf8"));
      }
    }
  }
}

/** The `cgroup.procs` files a process writes its pid into to join the node's daemons' cgroup everywhere. */
export function daemonProcsFiles(path: string, hierarchies: Hierarchy[] = hostHierarchies()): string[] {
  return cgroupDirs(path, hierarchies).map((dir) => join(dir, "node", "cgroup.procs"));
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(dir, e.name));
  } catch {
    return [];
  }
}

/** Every cgroup folder at and below `dir`, deepest first. */
function treeDeepestFirst(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const child of subdirs(d)) walk(child);
    out.push(d);
  };
  walk(dir);
  return out;
}

/** The pids in a cgroup tree, in one hierarchy. */
function pidsIn(dir: string): number[] {
  const pids: number[] = [];
  for (const d of treeDeepestFirst(dir)) {
    try {
      for (const line of readFileSync(join(d, "cgroup.procs"), "utf8").split("\n")) {
        if (line) pids.push(Number(line));
      }
    } catch {
      // removed meanwhile
    }
  }
  return pids;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
const sleepSync = (ms: number): void => void Atomics.wait(sleepCell, 0, 0, ms);

/** The processes under `path`, in any hierarchy. */
export function processesUnder(path: string, hierarchies: Hierarchy[] = hostHierarchies()): number[] {
  const all = new Set<number>();
  for (const dir of cgroupDirs(path, hierarchies)) for (const pid of pidsIn(dir)) all.add(pid);
  return [...all];
}

/**
 * SIGKILLs every process under the cgroup path, the node's daemons and its containers alike, freezing the
 * cgroup meanwhile so that nothing forks away; returns undefined once none is left, or what still runs after
 * `timeoutMs`. The cgroups stay (a node "rebooted" in place keeps them).
 */
export function killAllUnder(
  path: string,
  timeoutMs = 10_000,
  hierarchies: Hierarchy[] = hostHierarchies(),
): string | undefined {
  const freezer = hierarchies.find((h) => h.type === "cgroup" && h.options.split(",").includes("freezer"));
  const freezerState = freezer ? join(freezer.mountpoint, path, "freezer.state") : undefined;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = processesUnder(path, hierarchies);
    if (pids.length === 0) return undefined;
    if (Date.now() > deadline) return `processes still under ${path}: ${pids.join(" ")}`;
    if (freezerState && existsSync(freezerState)) {
      try {
        writeFileSync(freezerState, "FROZEN");
      } catch {}
    }
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    if (freezerState && existsSync(freezerState)) {
      try {
        writeFileSync(freezerState, "THAWED");
      } catch {}
    }
    sleepSync(20);
  }
}

/**
 * SIGKILLs every process under `path` (frozen first, so none can fork meanwhile), waits until all are gone,
 * then removes the cgroups, deepest first, in every hierarchy. Synchronous: it also runs from exit handlers.
 * Returns what could not be removed (empty when all went).
 */
export function destroyCgroups(path: string, timeoutMs = 10_000): string[] {
  const hierarchies = hostHierarchies();
  const alive = killAllUnder(path, timeoutMs, hierarchies);
  if (alive) return [alive];
  const left: string[] = [];
  for (const dir of cgroupDirs(path, hierarchies)) {
    for (const d of treeDeepestFirst(dir)) {
      let removed = false;
      // a cgroup whose last process just exited may refuse rmdir (EBUSY) for a moment
      for (let attempt = 0; attempt < 50 && !removed; attempt++) {
        try {
          rmdirSync(d);
          removed = true;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOENT") removed = true;
          else sleepSync(20);
        }
      }
      if (!removed) left.push(d);
    }
  }
  return left;
}

/** The top-level cgroups whose name starts with `prefix` (e.g. "/xdp-counter-xn3-"), in any hierarchy. */
export function cgroupsWithPrefix(prefix: string): string[] {
  const name = prefix.replace(/^\//, "");
  const found = new Set<string>();
  for (const h of hostHierarchies()) {
    for (const dir of subdirs(h.mountpoint)) {
      const base = dir.slice(h.mountpoint.length + 1);
      if (base.startsWith(name)) found.add(`/${base}`);
    }
  }
  return [...found];
}
