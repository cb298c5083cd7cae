// Sends exactly `count` copies of a frame out of an interface, at the rate the kernel can: BPF_PROG_TEST_RUN
// of a program returning XDP_TX, with BPF_F_TEST_XDP_LIVE_FRAMES and the sending interface as ingress. The
// kernel transmits each repetition for real. Must run in the sending interface's network namespace.
import { join } from "node:path";
import { BpfError, BpfErrorCode } from "../../agent/bpf/errors.ts";
import { type BpfObject, loadObject } from "../../agent/bpf/object.ts";
import { BPF_F_TEST_XDP_LIVE_FRAMES, MAX_REPEAT, testRun } from "../../agent/bpf/test-run.ts";
import { ifindexOf } from "../../agent/bpf/xdp.ts";

export const TX_OBJECT_PATH = join(import.meta.dirname, "..", "..", "bpf", "xdp_tx.o");
const XDP_MD_SIZE = 24; // struct xdp_md: data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex

export interface SendResult {
  sent: number;
  /** the kernel's own timing of the run, in nanoseconds (its per-repetition average, truncated, × count) */
  durationNs: bigint;
  /** the run's wall-clock time in this process, in nanoseconds: the time to rate a send by */
  wallNs: bigint;
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
    const started = process.hrtime.bigint();
    while (sent < count) {
      const repeat = Math.min(count - sent, MAX_REPEAT);
      const run = testRun(this.#progFd, {
        data: frame,
        ctx,
        repeat,
        flags: BPF_F_TEST_XDP_LIVE_FRAMES,
        batchSize,
        op: "send frames (XDP live frames)",
        code: BpfErrorCode.AttachFailed,
        iface,
      });
      sent += repeat;
      durationNs += BigInt(run.durationNs) * BigInt(repeat);
    }
    const wallNs = process.hrtime.bigint() - started;
    return { sent, durationNs, wallNs };
  }

  close(): void {
    this.#obj.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
