// One error type for everything the BPF core can fail at. Each carries the step that failed, the errno (name
// and libbpf's text), the interface when there is one, and a code a caller can branch on.
import { constants } from "node:os";
import { permissionHint } from "./capabilities.ts";
import { native } from "./libbpf.ts";

export const BpfErrorCode = {
  /** the BPF object file is missing or not a BPF object */
  ObjectMissing: "ObjectMissing",
  /** libbpf refused to open, or the kernel to load, the program (the verifier's log is in `detail`) */
  LoadFailed: "LoadFailed",
  /** no interface of that name in this network namespace */
  NoSuchInterface: "NoSuchInterface",
  /** another XDP program is attached to the interface; it is left untouched */
  ForeignProgram: "ForeignProgram",
  /** the requested attach mode is not available on this interface (e.g. native XDP on a driver without it) */
  ModeUnsupported: "ModeUnsupported",
  /** attaching, updating or detaching the XDP link failed */
  AttachFailed: "AttachFailed",
  /** bpffs is not mounted where pins live */
  NoBpffs: "NoBpffs",
  /** pinning, opening or removing a pin failed, or a pin is not what xdp-counter put there */
  PinFailed: "PinFailed",
  /** reading the counters failed */
  ReadFailed: "ReadFailed",
  /** the kernel said EPERM/EACCES: a capability is missing (the message names it), or seccomp/an LSM refused */
  PermissionDenied: "PermissionDenied",
  /** a bad argument from the caller, caught before the kernel is asked */
  InvalidArgument: "InvalidArgument",
} as const;
export type BpfErrorCode = (typeof BpfErrorCode)[keyof typeof BpfErrorCode];

const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** The symbolic name of an errno value, e.g. 16 → "EBUSY". */
export function errnoName(errno: number): string {
  return errnoNames.get(Math.abs(errno)) ?? `errno ${Math.abs(errno)}`;
}

/** libbpf's text for an errno value (libbpf knows its own codes above 4000 as well as the system's). */
export function errnoText(errno: number): string {
  const buf = Buffer.alloc(256);
  native.libbpf_strerror(Math.abs(errno), buf, buf.length);
  const end = buf.indexOf(0);
  return buf.toString("utf8", 0, end < 0 ? buf.length : end);
}

const EPERM = constants.errno.EPERM;
const EACCES = constants.errno.EACCES;

export interface BpfErrorInit {
  code: BpfErrorCode;
  /** what was being done, e.g. "attach XDP program" */
  op: string;
  /** positive errno, when the kernel or libbpf gave one */
  errno?: number;
  iface?: string;
  /** extra text: the verifier log, the name of a foreign program, a hint */
  detail?: string;
}

export class BpfError extends Error {
  readonly code: BpfErrorCode;
  readonly op: string;
  readonly errno: number | undefined;
  readonly errnoName: string | undefined;
  readonly iface: string | undefined;
  readonly detail: string | undefined;

  constructor(init: BpfErrorInit) {
    const where = init.iface ? ` on ${init.iface}` : "";
    const why = init.errno ? `: ${errnoName(init.errno)} (${errnoText(init.errno)})` : "";
    // EPERM/EACCES: name the capabilities this step needs that the process lacks (docs/adr/0020)
    const denied = init.errno === EPERM || init.errno === EACCES;
    const hint = denied ? `; ${permissionHint(init.op)}` : "";
    const detail = init.detail ? `: ${init.detail}` : "";
    super(`${init.op}${where} failed${why}${hint}${detail}`);
    this.name = "BpfError";
    this.code = init.code;
    this.op = init.op;
    this.errno = init.errno;
    this.errnoName = init.errno ? errnoName(init.errno) : undefined;
    this.iface = init.iface;
    this.detail = init.detail;
  }
}

/** The code for a failed call, given the code the step would otherwise get. */
export function codeFor(errno: number, fallback: BpfErrorCode): BpfErrorCode {
  return errno === EPERM || errno === EACCES ? BpfErrorCode.PermissionDenied : fallback;
}

/** Checks an int-returning libbpf call: a negative result is -errno. */
export function check(ret: number, init: Omit<BpfErrorInit, "errno">): number {
  if (ret < 0) throw new BpfError({ ...init, code: codeFor(-ret, init.code), errno: -ret });
  return ret;
}
