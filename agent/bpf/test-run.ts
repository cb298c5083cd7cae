// BPF_PROG_TEST_RUN of a loaded program: the kernel runs it `repeat` times on a given frame and reports the
// last return value and its own timing. Used by the traffic generator (with BPF_F_TEST_XDP_LIVE_FRAMES, so
// every repetition is transmitted for real) and by the per-packet benchmark (without, so nothing leaves).
import { BpfError, BpfErrorCode, codeFor } from "./errors.ts";
import { native } from "./libbpf.ts";

export const BPF_F_TEST_XDP_LIVE_FRAMES = 1 << 1;
/** sizeof(struct bpf_test_run_opts) as TestRunOpts declares it */
const TEST_RUN_OPTS_SIZE = 80;
/** the most repetitions one call takes (the field is an int) */
export const MAX_REPEAT = 0x7fffffff;

export interface TestRunSpec {
  data: Buffer;
  repeat: number;
  /** the program's context (struct xdp_md for XDP), or none */
  ctx?: Buffer;
  flags?: number;
  /** frames per batch in live-frames mode (0: the kernel's default, 64) */
  batchSize?: number;
  /** what is being done, for the error message */
  op?: string;
  /** the error code on failure (permission errors always become PermissionDenied) */
  code?: BpfErrorCode;
  iface?: string;
}

export interface TestRunResult {
  /** the program's return value on the last repetition */
  retval: number;
  /** the kernel's average time per repetition, in whole nanoseconds (it divides and truncates) */
  durationNs: number;
}

export function testRun(progFd: number, spec: TestRunSpec): TestRunResult {
  if (!Number.isInteger(spec.repeat) || spec.repeat < 1 || spec.repeat > MAX_REPEAT) {
    throw new BpfError({
      code: BpfErrorCode.InvalidArgument,
      op: spec.op ?? "test-run program",
      iface: spec.iface,
      detail: `bad repeat count ${spec.repeat}`,
    });
  }
  const opts = {
    sz: TEST_RUN_OPTS_SIZE,
    data_in: spec.data,
    data_out: null,
    data_size_in: spec.data.length,
    data_size_out: 0,
    ctx_in: spec.ctx ?? null,
    ctx_out: null,
    ctx_size_in: spec.ctx?.length ?? 0,
    ctx_size_out: 0,
    retval: 0,
    repeat: spec.repeat,
    duration: 0,
    flags: spec.flags ?? 0,
    cpu: 0,
    batch_size: spec.batchSize ?? 0,
  };
  const ret: number = native.bpf_prog_test_run_opts(progFd, opts);
  if (ret < 0) {
    throw new BpfError({
      code: codeFor(-ret, spec.code ?? BpfErrorCode.LoadFailed),
      op: spec.op ?? "test-run program",
      errno: -ret,
      iface: spec.iface,
    });
  }
  return { retval: opts.retval, durationNs: opts.duration };
}
