// The counter on one interface, from attach to detach, with its pins as the source of truth: any process
// (a restarted CLI, an agent's successor) finds, continues, changes or removes what an earlier one attached.
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { CounterReader, type Counters } from "./counters.ts";
import { BpfError, BpfErrorCode } from "./errors.ts";
import { readFallbackNote, removeFallbackNote, writeFallbackNote } from "./fallback-note.ts";
import { configAction, linkInfo, mapInfo, progInfo, progInfoById, programAction } from "./info.ts";
import {
  BPF_MAP_TYPE_PERCPU_ARRAY,
  type CounterAction,
  DEFAULT_OBJECT_PATH,
  REC_SIZE,
  XDP_ACTIONS,
  type XdpAction,
} from "./layout.ts";
import { native } from "./libbpf.ts";
import type { NativeRefusal } from "./native-refusal.ts";
import { LoadedCounter } from "./object.ts";
import {
  DEFAULT_PIN_ROOT,
  openPin,
  type PinPaths,
  pin,
  pinnedInterfaces,
  pinPaths,
  removePins,
  requireBpffs,
} from "./pins.ts";
import {
  type AttachMode,
  attachXdp,
  describeProgram,
  detachLink,
  ifindexOf,
  queryXdp,
  replaceLinkProgram,
} from "./xdp.ts";

export interface CounterLocation {
  iface: string;
  /** whose counter: an XdpCounter's name, or STANDALONE_OWNER for the CLI */
  owner: string;
  /** defaults to /sys/fs/bpf/xdp-counter */
  pinRoot?: string;
}

export interface CounterSpec extends CounterLocation {
  mode: AttachMode;
  action: CounterAction;
  objectPath?: string;
}

/** How attach found the interface. */
export type AttachOutcome =
  | "attached" // nothing was there: loaded and attached afresh (continuing pinned counters if any)
  | "adopted" // our program was already attached as asked: nothing changed
  | "replaced" // our program was attached with another action: swapped atomically, counters kept
  | "upgraded" // an earlier build of our program was attached: swapped for this one atomically, counters kept
  | "reattached"; // our program was attached in another mode: detached and attached again, counters kept

const close = (fd: number | undefined): void => {
  if (fd !== undefined && fd >= 0) native.close(fd);
};

/** Opens the pinned stats map, checking it is an xdp-counter map and not something else under that name. */
function openStats(paths: PinPaths, iface: string): number | undefined {
  const fd = openPin(paths.stats);
  if (fd === undefined) return undefined;
  const info = mapInfo(fd);
  if (
    info.type !== BPF_MAP_TYPE_PERCPU_ARRAY ||
    info.keySize !== 4 ||
    info.valueSize !== REC_SIZE ||
    info.maxEntries !== XDP_ACTIONS.length
  ) {
    close(fd);
    throw new BpfError({
      code: BpfErrorCode.PinFailed,
      op: "open pinned counters",
      iface,
      detail: `${paths.stats} is not an xdp-counter stats map (type ${info.type}, value size ${info.valueSize}, ${info.maxEntries} entries)`,
    });
  }
  return fd;
}

/** Pins the link's program and its .rodata beside the link, for runningProgram. */
function pinProgram(paths: PinPaths, loaded: LoadedCounter): void {
  pin(loaded.progFd, paths.prog);
  pin(loaded.configFd, paths.config);
}

/**
 * The action and tag of our program running as `progId`, read through its pins (pinProgram). Pins an earlier
 * xdp-counter made lack them: then by id, which the kernel allows CAP_SYS_ADMIN alone; undefined when that
 * is refused (the caller swaps the program for this build's, which pins them).
 */
function runningProgram(
  paths: PinPaths,
  progId: number,
): { action: XdpAction | undefined; tag: string } | undefined {
  const progFd = openPin(paths.prog);
  let configFd: number | undefined;
  try {
    configFd = openPin(paths.config);
    if (progFd !== undefined && configFd !== undefined) {
      const info = progInfo(progFd);
      if (info.id === progId && info.mapIds.includes(mapInfo(configFd).id)) {
        return { action: configAction(configFd), tag: info.tag };
      }
    }
  } finally {
    close(progFd);
    close(configFd);
  }
  try {
    return { action: programAction(progId), tag: progInfoById(progId).tag };
  } catch (err) {
    if (err instanceof BpfError && err.code === BpfErrorCode.PermissionDenied) return undefined;
    throw err;
  }
}

/** A live counter: reads its interface's totals until closed. Closing leaves it attached and pinned. */
export class AttachedCounter implements Disposable {
  readonly iface: string;
  readonly ifindex: number;
  readonly mode: "native" | "generic";
  readonly action: CounterAction;
  readonly outcome: AttachOutcome;
  readonly progId: number;
  /** why `auto` runs generic here: the driver's refusal of native XDP, in the kernel's words */
  readonly fallback: NativeRefusal | undefined;
  readonly #mapFd: number;
  readonly #reader: CounterReader;

  constructor(init: {
    iface: string;
    ifindex: number;
    mode: "native" | "generic";
    action: CounterAction;
    outcome: AttachOutcome;
    progId: number;
    mapFd: number;
    fallback?: NativeRefusal;
  }) {
    this.iface = init.iface;
    this.ifindex = init.ifindex;
    this.mode = init.mode;
    this.action = init.action;
    this.outcome = init.outcome;
    this.progId = init.progId;
    this.fallback = init.fallback;
    this.#mapFd = init.mapFd;
    this.#reader = new CounterReader(init.mapFd, init.iface);
  }

  read(): Counters {
    return this.#reader.read();
  }

  close(): void {
    close(this.#mapFd);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Makes sure the counter runs on the interface as specified, and returns it for reading. Never touches a
 * program that is not ours; never resets pinned counters.
 */
export function attachCounter(spec: CounterSpec): AttachedCounter {
  const { iface, mode, action } = spec;
  const root = spec.pinRoot ?? DEFAULT_PIN_ROOT;
  requireBpffs(root);
  const ifindex = ifindexOf(iface);
  const paths = pinPaths(root, spec.owner, iface);
  mkdirSync(paths.dir, { recursive: true });

  let mapFd: number | undefined;
  let linkFd: number | undefined;
  try {
    mapFd = openStats(paths, iface);
    linkFd = openPin(paths.link);
    const state = queryXdp(ifindex, iface);

    if (linkFd !== undefined) {
      const link = linkInfo(linkFd);
      const ours = link.ifindex === ifindex && state.progId !== 0 && state.progId === link.progId;
      if (ours && mapFd !== undefined) {
        const current = state.mode === "native" ? "native" : "generic";
        const running = runningProgram(paths, state.progId);
        const currentAction = running?.action;
        if (mode === "auto" || mode === current) {
          const fallback =
            mode === "auto" && current === "generic" ? readFallbackNote(paths.fallback) : undefined;
          const outdated = running === undefined || running.tag !== programTag(spec.objectPath);
          if (currentAction === action && !outdated) {
            return new AttachedCounter({
              iface,
              ifindex,
              mode: current,
              action,
              outcome: "adopted",
              progId: state.progId,
              mapFd,
              fallback,
            });
          }
          // The same link, another program: the driver checks the new one as it would a new attach (a
          // multi-buffer program replacing a single-buffer one lifts veth's MTU limit, say).
          using loaded = LoadedCounter.load({ action, objectPath: spec.objectPath, reuseMapFd: mapFd });
          replaceLinkProgram(linkFd, loaded.progFd, iface);
          pinProgram(paths, loaded);
          const progId = queryXdp(ifindex, iface).progId;
          return new AttachedCounter({
            iface,
            ifindex,
            mode: current,
            action,
            outcome: running === undefined || currentAction === action ? "upgraded" : "replaced",
            progId,
            mapFd,
            fallback,
          });
        }
        // Another mode was asked for: a link cannot change mode, so detach and attach again below.
        detachLink(linkFd, iface);
        return freshAttach(spec, ifindex, paths, mapFd, "reattached");
      }
      // A stale link: its interface is gone or was recreated, or it was detached. Counters stay pinned.
      close(linkFd);
      linkFd = undefined;
    }
    if (state.progId !== 0) {
      throw new BpfError({
        code: BpfErrorCode.ForeignProgram,
        op: "attach XDP program",
        iface,
        detail: `${describeProgram(state)} is already attached; xdp-counter never replaces another XDP program`,
      });
    }
    return freshAttach(spec, ifindex, paths, mapFd, "attached");
  } catch (err) {
    close(mapFd);
    removePins({ ...paths, link: "", stats: "", fallback: "", prog: "", config: "" }); // only empty directories: pins stay
    throw err;
  } finally {
    close(linkFd);
  }
}

function freshAttach(
  spec: CounterSpec,
  ifindex: number,
  paths: PinPaths,
  mapFd: number | undefined,
  outcome: AttachOutcome,
): AttachedCounter {
  using loaded = LoadedCounter.load({ action: spec.action, objectPath: spec.objectPath, reuseMapFd: mapFd });
  const link = attachXdp(loaded.progFd, ifindex, spec.mode, spec.iface);
  try {
    pin(link.fd, paths.link);
    pinProgram(paths, loaded);
    if (mapFd === undefined) pin(loaded.mapFd, paths.stats);
    if (link.fallback) writeFallbackNote(paths.fallback, link.fallback);
    else removeFallbackNote(paths.fallback);
  } catch (err) {
    detachLink(link.fd, spec.iface);
    throw err;
  } finally {
    close(link.fd); // the pin holds the link from here on
  }
  const statsFd = mapFd ?? (openStats(paths, spec.iface) as number);
  const progId = queryXdp(ifindex, spec.iface).progId;
  return new AttachedCounter({
    iface: spec.iface,
    ifindex,
    mode: link.mode,
    action: spec.action,
    outcome,
    progId,
    mapFd: statsFd,
    fallback: link.fallback,
  });
}

const tags = new Map<string, string>();

/**
 * The tag (the kernel's hash of the instructions, the same for every action and every load) of the program
 * this build attaches: an attached program with another tag is an earlier build's, to be swapped.
 */
function programTag(objectPath = DEFAULT_OBJECT_PATH): string {
  let tag = tags.get(objectPath);
  if (tag === undefined) {
    using loaded = LoadedCounter.load({ action: "pass", objectPath });
    tag = progInfo(loaded.progFd).tag;
    tags.set(objectPath, tag);
  }
  return tag;
}

export interface CounterStatus {
  iface: string;
  /** attached here and now: the pinned link is live on an interface of that name in this namespace */
  attached: boolean;
  mode: "native" | "generic" | undefined;
  action: CounterAction | undefined;
  counters: Counters | undefined;
  /** why it runs generic, when `auto` fell back from native */
  fallback: NativeRefusal | undefined;
}

/** What a pinned counter is doing, without changing anything. */
export function counterStatus(loc: CounterLocation): CounterStatus {
  const root = loc.pinRoot ?? DEFAULT_PIN_ROOT;
  requireBpffs(root);
  const paths = pinPaths(root, loc.owner, loc.iface);
  const mapFd = openStats(paths, loc.iface);
  const linkFd = openPin(paths.link);
  try {
    const counters = mapFd === undefined ? undefined : new CounterReader(mapFd, loc.iface).read();
    let attached = false;
    let mode: CounterStatus["mode"];
    let action: CounterStatus["action"];
    let fallback: NativeRefusal | undefined;
    if (linkFd !== undefined) {
      const link = linkInfo(linkFd);
      const ifindex = native.if_nametoindex(loc.iface);
      const state = ifindex ? queryXdp(ifindex, loc.iface) : { progId: 0, mode: undefined };
      attached = ifindex !== 0 && link.ifindex === ifindex && state.progId === link.progId;
      if (attached) {
        mode = state.mode === "native" ? "native" : "generic";
        const a = runningProgram(paths, state.progId)?.action;
        action = a === "pass" || a === "drop" ? a : undefined;
        if (mode === "generic") fallback = readFallbackNote(paths.fallback);
      }
    }
    return { iface: loc.iface, attached, mode, action, counters, fallback };
  } finally {
    close(mapFd);
    close(linkFd);
  }
}

/** Every counter pinned for an owner. */
export function listCounters(owner: string, pinRoot = DEFAULT_PIN_ROOT): CounterStatus[] {
  requireBpffs(pinRoot);
  return pinnedInterfaces(pinRoot, owner).map((iface) => counterStatus({ iface, owner, pinRoot }));
}

/**
 * Detaches the counter (through its pinned link, so any process can) and removes its pins. Returns the
 * final counters, or undefined if nothing was pinned there.
 */
export function detachCounter(loc: CounterLocation): Counters | undefined {
  const root = loc.pinRoot ?? DEFAULT_PIN_ROOT;
  requireBpffs(root);
  const paths = pinPaths(root, loc.owner, loc.iface);
  const linkFd = openPin(paths.link);
  const mapFd = openPin(paths.stats);
  try {
    if (linkFd !== undefined) detachLink(linkFd, loc.iface);
    const final = mapFd === undefined ? undefined : new CounterReader(mapFd, loc.iface).read();
    removePins(paths);
    return final;
  } finally {
    close(linkFd);
    close(mapFd);
  }
}

/**
 * The interface index a pinned counter's link is attached to: 0 once detached (or its interface deleted),
 * undefined when no link is pinned. An interface renamed while counting keeps its index, so this finds a
 * counter whose pins still carry the old name.
 */
export function pinnedLinkIfindex(loc: CounterLocation): number | undefined {
  const root = loc.pinRoot ?? DEFAULT_PIN_ROOT;
  requireBpffs(root);
  const linkFd = openPin(pinPaths(root, loc.owner, loc.iface).link);
  if (linkFd === undefined) return undefined;
  try {
    return linkInfo(linkFd).ifindex;
  } finally {
    close(linkFd);
  }
}

/**
 * Moves a counter's pins to another interface name (after the interface was renamed), so that
 * attachCounter under the new name adopts it and its totals continue. Refuses when the new name has pins.
 */
export function renameCounter(loc: CounterLocation, newIface: string): void {
  const root = loc.pinRoot ?? DEFAULT_PIN_ROOT;
  requireBpffs(root);
  const from = pinPaths(root, loc.owner, loc.iface);
  const to = pinPaths(root, loc.owner, newIface);
  if (existsSync(to.dir)) {
    throw new BpfError({
      code: BpfErrorCode.PinFailed,
      op: "rename pinned counter",
      iface: loc.iface,
      detail: `${to.dir} already exists`,
    });
  }
  try {
    renameSync(from.dir, to.dir);
  } catch (err) {
    throw new BpfError({
      code: BpfErrorCode.PinFailed,
      op: "rename pinned counter",
      iface: loc.iface,
      detail: `${from.dir} → ${to.dir}: ${(err as Error).message}`,
    });
  }
}
