// The CLI checks up front that it may do BPF at all, so that a user without privileges gets one clear line
// instead of an EPERM from the middle of a load. Should the kernel refuse a step all the same, the step's own
// error names what is missing (docs/adr/0020).
import { missingCapabilities } from "../bpf/capabilities.ts";
import { EnvironmentError } from "./exit-codes.ts";

export function requirePrivileges(caps?: bigint): void {
  const missing = missingCapabilities(["BPF", "NET_ADMIN", "PERFMON"], caps);
  if (missing.length > 0) {
    throw new EnvironmentError(
      `xdp-counter needs root (or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON) to load and attach XDP programs; ` +
        `this process lacks ${missing.join(", ")}; run it with sudo`,
    );
  }
}
