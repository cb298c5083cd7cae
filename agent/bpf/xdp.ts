// XDP on an interface: what is attached, and attaching/replacing/detaching a program through a BPF link.
// A link never replaces a program it did not create: the kernel refuses with EBUSY when one is attached.
import { constants } from "node:os";
import { BpfError, BpfErrorCode, check, codeFor } from "./errors.ts";
import { progInfoById } from "./info.ts";
import { BPF_XDP, XDP_ATTACHED, XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE } from "./layout.ts";
import { errno, native } from "./libbpf.ts";
import { type NativeRefusal, probeNativeRefusal } from "./native-refusal.ts";

/** What the user asks for: native (driver) XDP, generic (SKB) XDP, or native when available. */
export type AttachMode = "auto" | "native" | "generic";
export const ATTACH_MODES = ["auto", "native", "generic"] as const;
/** What is in effect on an interface. */
export type XdpMode = "native" | "generic" | "offload" | "multi";

export interface XdpState {
  progId: number;
  mode: XdpMode | undefined;
}

const MODES: Record<number, XdpMode> = {
  [XDP_ATTACHED.DRV]: "native",
  [XDP_ATTACHED.SKB]: "generic",
  [XDP_ATTACHED.HW]: "offload",
  [XDP_ATTACHED.MULTI]: "multi",
};
const modeOf = (attachMode: number): XdpMode | undefined => MODES[attachMode];

export function ifindexOf(iface: string): number {
  if (!iface || iface.length > 15 || /[\s/]/.test(iface)) {
    throw new BpfError({
      code: BpfErrorCode.InvalidArgument,
      op: "find interface",
      iface,
      detail: "not a valid interface name",
    });
  }
  const index = native.if_nametoindex(iface);
  if (index === 0) {
    throw new BpfError({
      code: BpfErrorCode.NoSuchInterface,
      op: "find interface",
      iface,
      detail: "no interface of that name in this network namespace (see `ip link`)",
    });
  }
  return index;
}

/** The XDP program attached to an interface, if any, and its mode. */
export function queryXdp(ifindex: number, iface?: string): XdpState {
  const opts = { sz: 32, prog_id: 0, drv_prog_id: 0, hw_prog_id: 0, skb_prog_id: 0, attach_mode: 0 };
  check(native.bpf_xdp_query(ifindex, 0, opts), { code: BpfErrorCode.ReadFailed, op: "query XDP", iface });
  const progId = opts.prog_id || opts.drv_prog_id || opts.skb_prog_id || opts.hw_prog_id;
  return { progId, mode: progId ? modeOf(opts.attach_mode) : undefined };
}

/** "program 'name' (id 42, tag 0123…, native mode)": how errors and status name someone's program. */
export function describeProgram(state: XdpState): string {
  let name = "?";
  let tag = "";
  try {
    const info = progInfoById(state.progId);
    name = info.name || "(no name)";
    tag = `, tag ${info.tag}`;
  } catch {
    // The program may be gone by now, or unreadable; its id is still worth naming.
  }
  return `program '${name}' (id ${state.progId}${tag}, ${state.mode ?? "unknown"} mode)`;
}

const EBUSY = constants.errno.EBUSY;
const EEXIST = constants.errno.EEXIST;
/** Failures of a native attach that are not the driver's refusal: generic mode would fail the same way. */
const NOT_THE_DRIVER: ReadonlySet<number> = new Set([
  EBUSY, // another program is attached
  EEXIST, // another program is attached (in the other mode)
  constants.errno.EPERM,
  constants.errno.EACCES,
  constants.errno.ENODEV, // the interface went away
  constants.errno.ENXIO,
]);

export interface Link {
  fd: number;
  mode: "native" | "generic";
  /** why native XDP was not used, when `auto` fell back to generic */
  fallback?: NativeRefusal;
}

/** The driver refused native XDP: the error carries the refusal, so `auto` can report why it fell back. */
export class NativeRefusedError extends BpfError {
  readonly refusal: NativeRefusal;

  constructor(errno: number, iface: string, refusal: NativeRefusal) {
    super({
      code: BpfErrorCode.ModeUnsupported,
      op: "attach XDP program in native mode",
      errno,
      iface,
      detail: `${refusal.message}; generic mode works on any interface: use --mode generic (or auto)`,
    });
    this.refusal = refusal;
  }
}

function createLink(
  progFd: number,
  ifindex: number,
  mode: "native" | "generic",
  iface: string,
  retry = true,
): number {
  const flags = mode === "native" ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
  const fd = native.bpf_link_create(progFd, ifindex, BPF_XDP, { sz: 12, flags });
  if (fd >= 0) return fd;
  const err = -fd || errno();
  if (mode === "native" && !NOT_THE_DRIVER.has(err)) {
    // The driver's refusal (MTU, no native XDP, queues, ...): find out why, in the kernel's words.
    const probe = probeNativeRefusal(progFd, ifindex, iface, err);
    if (!probe.accepted) throw new NativeRefusedError(err, iface, probe.refusal);
    if (retry) return createLink(progFd, ifindex, mode, iface, false);
  }
  if (err === EBUSY || err === EEXIST) {
    const state = queryXdp(ifindex, iface);
    throw new BpfError({
      code: BpfErrorCode.ForeignProgram,
      op: "attach XDP program",
      errno: err,
      iface,
      detail: state.progId
        ? `${describeProgram(state)} is already attached; xdp-counter never replaces another XDP program`
        : "another XDP program is attached",
    });
  }
  throw new BpfError({
    code: codeFor(err, BpfErrorCode.AttachFailed),
    op: `attach XDP program in ${mode} mode`,
    errno: err,
    iface,
  });
}

/**
 * Attaches through a new link. `auto` tries native first and falls back to generic whenever the driver
 * refuses native XDP (no support, an MTU its XDP cannot take, any refusal generic mode does not share),
 * returning the refusal with the link. Another program on the interface, or missing privileges, fail both
 * modes alike and are never a reason to fall back.
 */
export function attachXdp(progFd: number, ifindex: number, mode: AttachMode, iface: string): Link {
  if (mode !== "auto") return { fd: createLink(progFd, ifindex, mode, iface), mode };
  try {
    return { fd: createLink(progFd, ifindex, "native", iface), mode: "native" };
  } catch (err) {
    if (err instanceof NativeRefusedError) {
      return { fd: createLink(progFd, ifindex, "generic", iface), mode: "generic", fallback: err.refusal };
    }
    throw err;
  }
}

/** Swaps the program behind a link atomically: no packet goes uncounted in between. */
export function replaceLinkProgram(linkFd: number, newProgFd: number, iface: string): void {
  check(native.bpf_link_update(linkFd, newProgFd, { sz: 16, flags: 0, old_prog_fd: 0 }), {
    code: BpfErrorCode.AttachFailed,
    op: "replace XDP program",
    iface,
  });
}

/** Detaches a link's program from its interface, whoever else holds the link (its pin, another process). */
export function detachLink(linkFd: number, iface: string): void {
  check(native.bpf_link_detach(linkFd), { code: BpfErrorCode.AttachFailed, op: "detach XDP program", iface });
}
