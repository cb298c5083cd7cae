// BPF objects from open to load. BpfObject is libbpf's own lifecycle, one method a step, each with one clear
// failure: open → set load-time constants → reuse pinned maps → load → find program and map fds. It holds
// the fds until closed. LoadedCounter is the counter program built on it.
import { existsSync } from "node:fs";
import { BpfError, BpfErrorCode, check, codeFor } from "./errors.ts";
import {
  COMPAT_KFUNC,
  COMPAT_OBJECT_PATH,
  type CounterAction,
  DEFAULT_OBJECT_PATH,
  encodeConfig,
  PROGRAM_NAME,
  RODATA_SUFFIX,
  STATS_MAP_NAME,
} from "./layout.ts";
import { errno, native, type Pointer } from "./libbpf.ts";
import { captureLibbpfLog, takeLibbpfLog } from "./log.ts";

/** Verifier and libbpf output of a failed step, cut to what helps: the last lines. */
function libbpfLog(): string {
  const lines = takeLibbpfLog("info").flatMap((m) => m.text.split("\n"));
  return lines.slice(-30).join("\n");
}

export class BpfObject implements Disposable {
  readonly path: string;
  #obj: Pointer | null;

  private constructor(path: string, obj: Pointer) {
    this.path = path;
    this.#obj = obj;
  }

  static open(path: string): BpfObject {
    captureLibbpfLog();
    if (!existsSync(path)) {
      throw new BpfError({
        code: BpfErrorCode.ObjectMissing,
        op: "open BPF object",
        detail: `${path} does not exist; build it with \`npm run build\` (needs clang: apt-get install -y clang llvm libbpf-dev)`,
      });
    }
    takeLibbpfLog(); // start the log afresh for this object
    const obj = native.bpf_object__open_file(path, null);
    if (!obj) {
      throw new BpfError({
        code: BpfErrorCode.LoadFailed,
        op: `open BPF object ${path}`,
        errno: errno(),
        detail: libbpfLog(),
      });
    }
    return new BpfObject(path, obj);
  }

  get #handle(): Pointer {
    if (!this.#obj)
      throw new BpfError({
        code: BpfErrorCode.InvalidArgument,
        op: "use BPF object",
        detail: `${this.path} is closed`,
      });
    return this.#obj;
  }

  #map(name: string): Pointer {
    const map = native.bpf_object__find_map_by_name(this.#handle, name);
    if (!map)
      throw new BpfError({
        code: BpfErrorCode.LoadFailed,
        op: "find map",
        detail: `${this.path} has no map ${name}`,
      });
    return map;
  }

  /** Writes the whole .rodata section: the load-time constants. Before load only. */
  setRodata(data: Buffer): void {
    const obj = this.#handle;
    for (let map = native.bpf_object__next_map(obj, null); map; map = native.bpf_object__next_map(obj, map)) {
      if (!native.bpf_map__name(map).endsWith(RODATA_SUFFIX)) continue;
      check(native.bpf_map__set_initial_value(map, data, data.length), {
        code: BpfErrorCode.LoadFailed,
        op: "set load-time constants",
        detail: `${this.path}: .rodata is not ${data.length} bytes long`,
      });
      return;
    }
    throw new BpfError({
      code: BpfErrorCode.LoadFailed,
      op: "set load-time constants",
      detail: `${this.path} has no .rodata section`,
    });
  }

  /** Makes the program use an existing map (e.g. a pinned one) instead of creating its own. Before load only. */
  reuseMap(name: string, fd: number): void {
    check(native.bpf_map__reuse_fd(this.#map(name), fd), {
      code: BpfErrorCode.LoadFailed,
      op: `reuse map ${name}`,
    });
  }

  load(): void {
    const ret = native.bpf_object__load(this.#handle);
    if (ret < 0) {
      throw new BpfError({
        code: codeFor(-ret, BpfErrorCode.LoadFailed),
        op: `load ${this.path}`,
        errno: -ret,
        detail: libbpfLog(),
      });
    }
  }

  programFd(name: string): number {
    const prog = native.bpf_object__find_program_by_name(this.#handle, name);
    if (!prog)
      throw new BpfError({
        code: BpfErrorCode.LoadFailed,
        op: "find program",
        detail: `${this.path} has no program ${name}`,
      });
    return native.bpf_program__fd(prog);
  }

  mapFd(name: string): number {
    return native.bpf_map__fd(this.#map(name));
  }

  /** The fd of the .rodata map (the load-time constants). After load only. */
  rodataFd(): number {
    const obj = this.#handle;
    for (let map = native.bpf_object__next_map(obj, null); map; map = native.bpf_object__next_map(obj, map)) {
      if (native.bpf_map__name(map).endsWith(RODATA_SUFFIX)) return native.bpf_map__fd(map);
    }
    throw new BpfError({
      code: BpfErrorCode.LoadFailed,
      op: "find map",
      detail: `${this.path} has no .rodata`,
    });
  }

  /** Closes the object and its program and map fds. What was pinned or linked stays in the kernel. */
  close(): void {
    if (this.#obj) native.bpf_object__close(this.#obj);
    this.#obj = null;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Opens and loads an object whose programs need no settings (benchmark references, the traffic generator). */
export function loadObject(path: string, rodata?: Buffer): BpfObject {
  const obj = BpfObject.open(path);
  try {
    if (rodata) obj.setRodata(rodata);
    obj.load();
    return obj;
  } catch (err) {
    obj.close();
    throw err;
  }
}

export interface LoadSpec {
  action: CounterAction;
  /** the compiled object; defaults to bpf/xdp_counter.o */
  objectPath?: string;
  /** a stats map to count into instead of a fresh one (a pinned map, so counting continues) */
  reuseMapFd?: number;
}

/** Whether a load failed because the kernel lacks the kfunc of the default object (libbpf names it). */
export function needsCompat(err: unknown): boolean {
  return (
    err instanceof BpfError &&
    err.code === BpfErrorCode.LoadFailed &&
    (err.detail ?? "").includes(COMPAT_KFUNC)
  );
}

/** The counter program, loaded and not yet attached. */
export class LoadedCounter implements Disposable {
  readonly #obj: BpfObject;
  readonly progFd: number;
  readonly mapFd: number;
  /** the program's .rodata, which holds its action */
  readonly configFd: number;
  readonly action: CounterAction;

  private constructor(obj: BpfObject, action: CounterAction) {
    this.#obj = obj;
    this.action = action;
    this.progFd = obj.programFd(PROGRAM_NAME);
    this.mapFd = obj.mapFd(STATS_MAP_NAME);
    this.configFd = obj.rodataFd();
  }

  /**
   * Loads the counter. Without an explicit object, a kernel that lacks the kfunc the default object uses
   * (before Linux 6.2) gets the compat object: the same counter, a little dearer per packet.
   */
  static load(spec: LoadSpec): LoadedCounter {
    if (spec.objectPath !== undefined) return LoadedCounter.#load(spec, spec.objectPath);
    try {
      return LoadedCounter.#load(spec, DEFAULT_OBJECT_PATH);
    } catch (err) {
      if (!needsCompat(err)) throw err;
      return LoadedCounter.#load(spec, COMPAT_OBJECT_PATH);
    }
  }

  static #load(spec: LoadSpec, path: string): LoadedCounter {
    const obj = BpfObject.open(path);
    try {
      obj.setRodata(encodeConfig(spec.action));
      if (spec.reuseMapFd !== undefined) obj.reuseMap(STATS_MAP_NAME, spec.reuseMapFd);
      obj.load();
      return new LoadedCounter(obj, spec.action);
    } catch (err) {
      obj.close();
      throw err;
    }
  }

  close(): void {
    this.#obj.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
