// The CLI checks up front that it may do BPF at all, so that a user without privileges gets one clear line
// instead of an EPERM from the middle of a load.
import { readFileSync } from "node:fs";
import { EnvironmentError } from "./exit-codes.ts";

const CAP_NET_ADMIN = 12n;
const CAP_SYS_ADMIN = 21n;
const CAP_BPF = 39n;

function effectiveCaps(): bigint {
  const status = readFileSync("/proc/self/status", "utf8");
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  return hex ? BigInt(`0x${hex}`) : 0n;
}

const has = (caps: bigint, cap: bigint): boolean => (caps & (1n << cap)) !== 0n;

export function requirePrivileges(): void {
  const caps = effectiveCaps();
  const bpf = has(caps, CAP_BPF) || has(caps, CAP_SYS_ADMIN);
  if (!bpf || !has(caps, CAP_NET_ADMIN)) {
    throw new EnvironmentError(
      "xdp-counter needs root (or CAP_BPF and CAP_NET_ADMIN) to load and attach XDP programs; run it with sudo",
    );
  }
}
