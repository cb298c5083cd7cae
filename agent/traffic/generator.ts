// Sends exactly `count` copies of a frame out of an interface, at the rate the kernel can: BPF_PROG_TEST_RUN
// of a program returning XDP_TX, with BPF_F_TEST_XDP_LIVE_FRAMES and the sending interface as ingress. The
// kernel transmits each repetition for real. Must run in the sending interface's network namespace.
import { join } from "node:path";
import { BpfError, BpfErrorCode, codeFor } from "../bpf/errors.ts";
import { native } from "../bpf/libbpf.ts";
import { type BpfObject, loadObject } from "../bpf/object.ts";
import { ifindexOf } from "../bpf/xdp.ts";

export const TX_OBJECT_PATH = join(import.meta.dirname, "..", "..", "bpf", "xdp_tx.o");
const BPF_F_TEST_XDP_LIVE_FRAMES = 1 << 1;
const XDP_MD_SIZE = 24; // struct xdp_md: data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex
const MAX_REPEAT = 0x7fffffff;

export interface SendResult {
  sent: number;
  /** the kernel's own timing of the run, in nanoseconds */
  durationNs: bigint;
}

export class TrafficGenerator implements Disposable {
  readonly #obj: BpfObject;
  readonly #progFd: number;

  constructor(objectPath = TX_OBJECT_PATH) {
    this.#obj = loadObject(objectPath);
    this.#progFd = this.#obj.programFd("xdp_tx");
  }

  /**
   * Transmits `count` frames through `iface`. `batchSize` frames go to the driver at a time (the kernel's
   * default is 64); the run returns when all were handed over.
   */
  send(iface: string, frame: Buffer, count: number, batchSize = 64): SendResult {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new BpfError({
        code: BpfErrorCode.InvalidArgument,
        op: "send frames",
        iface,
        detail: `bad count ${count}`,
      });
    }
    const ifindex = ifindexOf(iface);
    const ctx = Buffer.alloc(XDP_MD_SIZE);
    ctx.writeUInt32LE(frame.length, 4); // data_end: the frame's length
    ctx.writeUInt32LE(ifindex, 12); // ingress_ifindex
    let sent = 0;
    let durationNs = 0n;
    while (sent < count) {
      const repeat = Math.min(count - sent, MAX_REPEAT);
      const opts = {
        sz: 80,
        data_in: frame,
        data_out: null,
        data_size_in: frame.length,
        data_size_out: 0,
        ctx_in: ctx,
        ctx_out: null,
        ctx_size_in: ctx.length,
        ctx_size_out: 0,
        retval: 0,
        repeat,
        duration: 0,
        flags: BPF_F_TEST_XDP_LIVE_FRAMES,
        cpu: 0,
        batch_size: batchSize,
      };
      const ret = native.bpf_prog_test_run_opts(this.#progFd, opts);
      if (ret < 0) {
        throw new BpfError({
          code: codeFor(-ret, BpfErrorCode.AttachFailed),
          op: "send frames (XDP live frames)",
          errno: -ret,
          iface,
        });
      }
      sent += repeat;
      durationNs += BigInt(opts.duration) * BigInt(repeat);
    }
    return { sent, durationNs };
  }

  close(): void {
    this.#obj.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
