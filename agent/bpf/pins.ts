// Where xdp-counter keeps its pins: <root>/<owner>/<interface>/{link,stats,fallback,prog,config}. <root> is
// /sys/fs/bpf/xdp-counter on a node; <owner> is an XdpCounter's name, or "_standalone" for the CLI (no XdpCounter name can start
// with "_", so the two never collide).
import { existsSync, readdirSync, rmdirSync, rmSync, statfsSync } from "node:fs";
import { dirname, join } from "node:path";
import { BpfError, BpfErrorCode, check } from "./errors.ts";
import { native } from "./libbpf.ts";

export const BPFFS = "/sys/fs/bpf";
export const DEFAULT_PIN_ROOT = join(BPFFS, "xdp-counter");
export const STANDALONE_OWNER = "_standalone";
const BPF_FS_MAGIC = 0xcafe4a11;

export interface PinPaths {
  dir: string;
  link: string;
  stats: string;
  /** why `auto` runs generic here: a note kept beside the link (fallback-note.ts) */
  fallback: string;
  /**
   * The link's program and its .rodata (the action), pinned so that a later process reads them by pin, not
   * by id: opening a BPF object by id needs CAP_SYS_ADMIN (docs/adr/0020).
   */
  prog: string;
  config: string;
}

export function pinPaths(root: string, owner: string, iface: string): PinPaths {
  if (!owner || owner.includes("/") || owner === "." || owner === "..") {
    throw new BpfError({
      code: BpfErrorCode.InvalidArgument,
      op: "name pin directory",
      detail: `bad owner name ${JSON.stringify(owner)}`,
    });
  }
  const dir = join(root, owner, iface);
  return {
    dir,
    link: join(dir, "link"),
    stats: join(dir, "stats"),
    fallback: join(dir, "fallback"),
    prog: join(dir, "prog"),
    config: join(dir, "config"),
  };
}

/** Fails with a clear error unless a bpffs is mounted at (or above) the pin root. */
export function requireBpffs(root: string): void {
  let probe = root;
  while (!existsSync(probe)) probe = dirname(probe);
  let type: number;
  try {
    type = statfsSync(probe).type;
  } catch (err) {
    throw new BpfError({ code: BpfErrorCode.NoBpffs, op: "check bpffs", detail: (err as Error).message });
  }
  if (type !== BPF_FS_MAGIC) {
    throw new BpfError({
      code: BpfErrorCode.NoBpffs,
      op: "check bpffs",
      detail: `${probe} is not a BPF filesystem, so pins under ${root} cannot be made; mount it with: mount -t bpf bpf ${BPFFS}`,
    });
  }
}

/** Opens a pinned object; undefined if there is no pin. */
export function openPin(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  return check(native.bpf_obj_get(path), { code: BpfErrorCode.PinFailed, op: `open pin ${path}` });
}

export function pin(fd: number, path: string): void {
  rmSync(path, { force: true });
  check(native.bpf_obj_pin(fd, path), { code: BpfErrorCode.PinFailed, op: `pin ${path}` });
}

/** Removes an interface's pins and its directory, and the owner's directory once it is empty. */
export function removePins(paths: PinPaths): void {
  for (const path of [paths.link, paths.stats, paths.fallback, paths.prog, paths.config])
    if (path) rmSync(path, { force: true });
  for (const dir of [paths.dir, dirname(paths.dir)]) {
    if (existsSync(dir) && readdirSync(dir).length === 0) rmdirSync(dir);
  }
}

/** The interfaces that have pins under an owner. */
export function pinnedInterfaces(root: string, owner: string): string[] {
  const dir = join(root, owner);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort();
}

/** The owners (XdpCounter names, or the CLI) that have pins under a root. */
export function pinOwners(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root).sort();
}
