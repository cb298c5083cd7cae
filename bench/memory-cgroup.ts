// A memory cgroup for one benchmarked process, so that it runs under the memory limit its container has in the
// chart: Node.js sizes V8's heap from the limit it finds (process.constrainedMemory()), so a process without one
// on a large machine lets its heap grow to gigabytes before collecting, and its RSS says nothing of what the pod
// needs. The process is started inside the group (`startIn`), its usage and OOM kills read from the group's own
// files, and the group removed after it. cgroup v2 (memory.max, memory.events) and v1 (memory.limit_in_bytes,
// memory.oom_control) are both handled.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inCgroups } from "../e2e/local/node/cgroups.ts";

const ROOT = "/sys/fs/cgroup";
const PREFIX = "xdp-counter-bench-";

export interface MemoryCgroup {
  readonly path: string;
  readonly limitBytes: number;
  /** argv that enters the group, then execs `argv` (the process starts inside it, its first allocation too) */
  startIn(argv: readonly string[]): string[];
  /** the group's peak usage so far in bytes (v1: max_usage_in_bytes; v2: memory.peak where the kernel has it) */
  peakBytes(): number | undefined;
  /** how many times the kernel's OOM killer killed a process of the group */
  oomKills(): number;
  /** removes the group; its processes must have exited */
  remove(): void;
}

/** "256Mi", "1Gi", "512M", "1000000": bytes, as Kubernetes reads a memory quantity. */
export function memoryQuantityBytes(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity.trim());
  if (!m) throw new Error(`not a memory quantity: ${JSON.stringify(quantity)} (e.g. 256Mi)`);
  const unit: Record<string, number> = {
    "": 1,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Math.round(Number(m[1]) * (unit[m[2] ?? ""] as number));
}

function v1(): boolean {
  return !existsSync(join(ROOT, "cgroup.controllers")) && existsSync(join(ROOT, "memory"));
}

function parent(): string {
  if (v1()) return join(ROOT, "memory");
  if (existsSync(join(ROOT, "cgroup.controllers"))) return ROOT;
  throw new Error(`no memory cgroup hierarchy under ${ROOT}: cannot hold a process to its memory limit`);
}

function field(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name} (\\d+)$`, "m").exec(text);
  return m ? Number(m[1]) : undefined;
}

/** The benchmark groups that a process made and that still exist. */
export function memoryCgroupsOf(pid: number = process.pid): string[] {
  try {
    return readdirSync(parent()).filter((n) => n.startsWith(PREFIX) && n.endsWith(`-${pid}`));
  } catch {
    return [];
  }
}

/** Removes the empty groups of benchmark runs that were killed before they removed their own. */
export function removeStaleMemoryCgroups(): string[] {
  const removed: string[] = [];
  let dir: string;
  try {
    dir = parent();
  } catch {
    return removed;
  }
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(PREFIX)) continue;
    const pid = Number(name.split("-").at(-1));
    if (Number.isInteger(pid) && existsSync(`/proc/${pid}`)) continue;
    try {
      rmdirSync(join(dir, name));
      removed.push(name);
    } catch {
      // still holds a process: left for its owner
    }
  }
  return removed;
}

/** A new group named for `what` and this process, holding its processes to `limitBytes`. */
export function createMemoryCgroup(what: string, limitBytes: number): MemoryCgroup {
  const path = join(parent(), `${PREFIX}${what}-${process.pid}`);
  mkdirSync(path);
  const legacy = v1();
  try {
    if (legacy) {
      writeFileSync(join(path, "memory.limit_in_bytes"), String(limitBytes));
      // as a container's: no swap beyond the limit
      if (existsSync(join(path, "memory.memsw.limit_in_bytes")))
        writeFileSync(join(path, "memory.memsw.limit_in_bytes"), String(limitBytes));
    } else {
      writeFileSync(join(path, "memory.max"), String(limitBytes));
      if (existsSync(join(path, "memory.swap.max"))) writeFileSync(join(path, "memory.swap.max"), "0");
    }
  } catch (err) {
    rmdirSync(path);
    throw err;
  }
  const read = (file: string): string | undefined => {
    try {
      return readFileSync(join(path, file), "utf8");
    } catch {
      return undefined;
    }
  };
  return {
    path,
    limitBytes,
    startIn: (argv) => inCgroups([join(path, "cgroup.procs")], argv),
    peakBytes: () => {
      const text = read(legacy ? "memory.max_usage_in_bytes" : "memory.peak");
      return text === undefined ? undefined : Number(text.trim());
    },
    oomKills: () => field(read(legacy ? "memory.oom_control" : "memory.events") ?? "", "oom_kill") ?? 0,
    remove: () => rmdirSync(path),
  };
}
