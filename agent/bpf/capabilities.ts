// The capabilities xdp-counter needs, which of them this process lacks, and what to say when the kernel
// answers EPERM (docs/adr/0020). Measured on kernel 6.18:
// - CAP_BPF: bpf() itself (BTF, maps, the program load);
// - CAP_PERFMON: the verifier lets the program read `struct xdp_buff` (through bpf_cast_to_kern_ctx) only
//   with it ("'struct xdp_buff' access is allowed only to CAP_PERFMON and CAP_SYS_ADMIN");
// - CAP_NET_ADMIN: loading an XDP program and attaching it (bpf_link, netlink).
// Not CAP_SYS_ADMIN: the kernel opens BPF objects by id (BPF_PROG_GET_FD_BY_ID, BPF_MAP_GET_FD_BY_ID) for it
// alone, so a later process reads the program behind a pinned link and its .rodata through their own pins
// (counter.ts: pinProgram), never by id; by id only for pins an earlier xdp-counter made, and for naming
// another's program in an error, where it may be refused.
import { readFileSync } from "node:fs";

/** Capability numbers (linux/capability.h). */
export const CAP = { NET_ADMIN: 12, SYS_ADMIN: 21, PERFMON: 38, BPF: 39 } as const;
export type CapabilityName = keyof typeof CAP;

/** Everything xdp-counter's agent needs, as a pod's `capabilities.add` names them. */
export const NEEDED_CAPABILITIES: readonly CapabilityName[] = ["BPF", "NET_ADMIN", "PERFMON"];

/** This process's effective capability set (CapEff of /proc/self/status). */
export function effectiveCapabilities(status = readFileSync("/proc/self/status", "utf8")): bigint {
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  return hex ? BigInt(`0x${hex}`) : 0n;
}

/** The names (CAP_…) of the capabilities in a set, among those xdp-counter cares about. */
export function capabilityNames(caps: bigint): string[] {
  return (Object.keys(CAP) as CapabilityName[]).filter((c) => hasCapability(caps, c)).map((c) => `CAP_${c}`);
}

export function hasCapability(caps: bigint, cap: CapabilityName): boolean {
  return (caps & (1n << BigInt(CAP[cap]))) !== 0n;
}

/**
 * Which of `needed` the set lacks, as CAP_… names. CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON, as
 * the kernel lets it (bpf_capable, perfmon_capable).
 */
export function missingCapabilities(
  needed: readonly CapabilityName[],
  caps: bigint = effectiveCapabilities(),
): string[] {
  const has = (c: CapabilityName): boolean =>
    hasCapability(caps, c) || ((c === "BPF" || c === "PERFMON") && hasCapability(caps, "SYS_ADMIN"));
  return needed.filter((c) => !has(c)).map((c) => `CAP_${c}`);
}

/** The capabilities a step needs, by the step's name (BpfError's `op`). */
function neededFor(op: string): readonly CapabilityName[] {
  if (/^open (prog|map) id /.test(op)) return ["SYS_ADMIN"];
  if (/^load /.test(op)) return ["BPF", "PERFMON", "NET_ADMIN"];
  if (/attach|detach|link/.test(op)) return ["NET_ADMIN", "BPF"];
  return NEEDED_CAPABILITIES;
}

const list = (names: string[]): string =>
  names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;

/**
 * What to add to an EPERM/EACCES from step `op`: the capabilities it needs that this process lacks, or, when
 * it has them all, that something else refused (a seccomp filter, an LSM, lockdown).
 */
export function permissionHint(op: string, caps: bigint = effectiveCapabilities()): string {
  const needed = neededFor(op);
  const missing = missingCapabilities(needed, caps);
  const all = `xdp-counter needs ${list(NEEDED_CAPABILITIES.map((c) => `CAP_${c}`))}`;
  if (missing.length > 0 && needed.includes("SYS_ADMIN")) {
    return `this process lacks CAP_SYS_ADMIN, for which alone the kernel opens a BPF object by id`;
  }
  if (missing.length > 0) return `this process lacks ${list(missing)}, which this step needs; ${all}`;
  return `this process has ${list(needed.map((c) => `CAP_${c}`))}, so something else refused: a seccomp filter, an LSM or kernel lockdown`;
}
