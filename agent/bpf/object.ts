// The counter program from open to load: open the object → set the load-time constants → (reuse a pinned
// map) → load. A LoadedCounter holds the program's and the map's file descriptors until it is closed.
import { existsSync } from "node:fs";
import { BpfError, BpfErrorCode, check, codeFor } from "./errors.ts";
import {
  type CounterAction,
  DEFAULT_OBJECT_PATH,
  encodeConfig,
  PROGRAM_NAME,
  RODATA_SUFFIX,
  STATS_MAP_NAME,
} from "./layout.ts";
import { errno, native, type Pointer } from "./libbpf.ts";
import { captureLibbpfLog, takeLibbpfLog } from "./log.ts";

export interface LoadSpec {
  action: CounterAction;
  /** the compiled object; defaults to bpf/xdp_counter.o */
  objectPath?: string;
  /** a stats map to count into instead of a fresh one (a pinned map, so counting continues) */
  reuseMapFd?: number;
}

/** Verifier and libbpf output of a failed load, cut to what helps: the last lines. */
function loadLog(): string {
  const lines = takeLibbpfLog("info").flatMap((m) => m.text.split("\n"));
  return lines.slice(-30).join("\n");
}

function findMap(obj: Pointer, match: (name: string) => boolean): Pointer | null {
  for (let map = native.bpf_object__next_map(obj, null); map; map = native.bpf_object__next_map(obj, map)) {
    if (match(native.bpf_map__name(map))) return map;
  }
  return null;
}

export class LoadedCounter implements Disposable {
  #obj: Pointer | null;
  readonly progFd: number;
  readonly mapFd: number;
  readonly action: CounterAction;

  private constructor(obj: Pointer, progFd: number, mapFd: number, action: CounterAction) {
    this.#obj = obj;
    this.progFd = progFd;
    this.mapFd = mapFd;
    this.action = action;
  }

  static load(spec: LoadSpec): LoadedCounter {
    captureLibbpfLog();
    const path = spec.objectPath ?? DEFAULT_OBJECT_PATH;
    if (!existsSync(path)) {
      throw new BpfError({
        code: BpfErrorCode.ObjectMissing,
        op: "open BPF object",
        detail: `${path} does not exist; build it with \`npm run build\` (needs clang: apt-get install -y clang llvm libbpf-dev)`,
      });
    }
    takeLibbpfLog(); // start the log afresh for this load
    const obj = native.bpf_object__open_file(path, null);
    if (!obj) {
      throw new BpfError({
        code: BpfErrorCode.LoadFailed,
        op: `open BPF object ${path}`,
        errno: errno(),
        detail: loadLog(),
      });
    }
    try {
      const rodata = findMap(obj, (name) => name.endsWith(RODATA_SUFFIX));
      if (!rodata) {
        throw new BpfError({
          code: BpfErrorCode.LoadFailed,
          op: "set load-time constants",
          detail: `${path} has no .rodata section`,
        });
      }
      const config = encodeConfig(spec.action);
      check(native.bpf_map__set_initial_value(rodata, config, config.length), {
        code: BpfErrorCode.LoadFailed,
        op: "set load-time constants",
        detail: "the object's .rodata does not match struct xdp_counter_config",
      });

      const stats = native.bpf_object__find_map_by_name(obj, STATS_MAP_NAME);
      if (!stats) {
        throw new BpfError({
          code: BpfErrorCode.LoadFailed,
          op: "find stats map",
          detail: `${path} has no map ${STATS_MAP_NAME}`,
        });
      }
      if (spec.reuseMapFd !== undefined) {
        check(native.bpf_map__reuse_fd(stats, spec.reuseMapFd), {
          code: BpfErrorCode.LoadFailed,
          op: "reuse pinned stats map",
        });
      }

      const ret = native.bpf_object__load(obj);
      if (ret < 0) {
        throw new BpfError({
          code: codeFor(-ret, BpfErrorCode.LoadFailed),
          op: "load XDP program",
          errno: -ret,
          detail: loadLog(),
        });
      }
      const prog = native.bpf_object__find_program_by_name(obj, PROGRAM_NAME);
      if (!prog) {
        throw new BpfError({
          code: BpfErrorCode.LoadFailed,
          op: "find program",
          detail: `${path} has no program ${PROGRAM_NAME}`,
        });
      }
      return new LoadedCounter(obj, native.bpf_program__fd(prog), native.bpf_map__fd(stats), spec.action);
    } catch (err) {
      native.bpf_object__close(obj);
      throw err;
    }
  }

  /** Closes the object: its program and map fds. What was pinned or linked stays in the kernel. */
  close(): void {
    if (this.#obj) native.bpf_object__close(this.#obj);
    this.#obj = null;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
