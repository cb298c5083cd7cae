// The CLI's exit codes, documented in the README and in `xdp-counter --help`.
import { BpfError, BpfErrorCode } from "../bpf/index.ts";

export const ExitCode = {
  Ok: 0,
  /** an unexpected failure (a bug: please report it) */
  Internal: 1,
  /** bad command line: unknown command or flag, bad value */
  Usage: 2,
  /** the machine is not ready: not root, no bpffs, missing BPF object or libbpf */
  Environment: 3,
  /** the interface: it doesn't exist, or lacks the attach mode demanded */
  Interface: 4,
  /** another XDP program is attached to the interface (it was left untouched) */
  Conflict: 5,
  /** the kernel refused to load, attach, read or detach */
  Kernel: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class UsageError extends Error {
  override name = "UsageError";
}

export class EnvironmentError extends Error {
  override name = "EnvironmentError";
}

const BY_BPF_CODE: Record<BpfErrorCode, ExitCode> = {
  [BpfErrorCode.ObjectMissing]: ExitCode.Environment,
  [BpfErrorCode.NoBpffs]: ExitCode.Environment,
  [BpfErrorCode.PermissionDenied]: ExitCode.Environment,
  [BpfErrorCode.NoSuchInterface]: ExitCode.Interface,
  [BpfErrorCode.ModeUnsupported]: ExitCode.Interface,
  [BpfErrorCode.InvalidArgument]: ExitCode.Usage,
  [BpfErrorCode.ForeignProgram]: ExitCode.Conflict,
  [BpfErrorCode.LoadFailed]: ExitCode.Kernel,
  [BpfErrorCode.AttachFailed]: ExitCode.Kernel,
  [BpfErrorCode.PinFailed]: ExitCode.Kernel,
  [BpfErrorCode.ReadFailed]: ExitCode.Kernel,
};

export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof UsageError) return ExitCode.Usage;
  if (err instanceof EnvironmentError) return ExitCode.Environment;
  if (err instanceof BpfError) return BY_BPF_CODE[err.code];
  return ExitCode.Internal;
}
