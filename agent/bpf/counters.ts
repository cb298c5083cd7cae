// Reads the per-CPU stats map and sums it. Values stay bigint from the kernel's u64 to the caller: a sum
// never passes through a JavaScript number.
import { BpfError, BpfErrorCode, codeFor } from "./errors.ts";
import { REC_SIZE, XDP_ACTIONS, type XdpAction } from "./layout.ts";
import { errno, native } from "./libbpf.ts";

export interface Count {
  packets: bigint;
  bytes: bigint;
}
export type Counters = Record<XdpAction, Count>;

export const zeroCounters = (): Counters =>
  Object.fromEntries(XDP_ACTIONS.map((a) => [a, { packets: 0n, bytes: 0n }])) as Counters;

let possibleCpus: number | undefined;
/** The number of possible CPUs: the per-CPU value's stride, as libbpf_num_possible_cpus() says. */
export function numPossibleCpus(): number {
  if (possibleCpus !== undefined) return possibleCpus;
  const n: number = native.libbpf_num_possible_cpus();
  if (n <= 0) throw new BpfError({ code: BpfErrorCode.ReadFailed, op: "count possible CPUs", errno: -n });
  possibleCpus = n;
  return n;
}

const ENOENT = 2;

/**
 * Reads every action's per-CPU records in one syscall (BPF_MAP_LOOKUP_BATCH) and sums them. The value of
 * one key is `possibleCPUs × align8(sizeof rec)` bytes; the record is 16 bytes, already aligned.
 */
export class CounterReader {
  readonly #fd: number;
  readonly #cpus = numPossibleCpus();
  readonly #keys = Buffer.alloc(4 * XDP_ACTIONS.length);
  readonly #values = Buffer.alloc(XDP_ACTIONS.length * this.#cpus * REC_SIZE);
  readonly #outBatch = Buffer.alloc(4);
  readonly #count = [0];
  readonly #opts = { sz: 24, elem_flags: 0, flags: 0 };
  readonly #iface: string | undefined;

  constructor(mapFd: number, iface?: string) {
    this.#fd = mapFd;
    this.#iface = iface;
  }

  read(): Counters {
    this.#count[0] = XDP_ACTIONS.length;
    const ret = native.bpf_map_lookup_batch(
      this.#fd,
      null,
      this.#outBatch,
      this.#keys,
      this.#values,
      this.#count,
      this.#opts,
    );
    // ENOENT marks the end of the map; with a batch as large as the map it comes with every element read.
    const err = ret < 0 ? -ret || errno() : 0;
    if (err && err !== ENOENT) {
      throw new BpfError({
        code: codeFor(err, BpfErrorCode.ReadFailed),
        op: "read counters",
        errno: err,
        iface: this.#iface,
      });
    }
    const read = this.#count[0] ?? 0;
    if (read !== XDP_ACTIONS.length) {
      throw new BpfError({
        code: BpfErrorCode.ReadFailed,
        op: "read counters",
        iface: this.#iface,
        detail: `expected ${XDP_ACTIONS.length} entries, the map returned ${read}`,
      });
    }
    const out = zeroCounters();
    const stride = this.#cpus * REC_SIZE;
    for (let i = 0; i < read; i++) {
      const action = XDP_ACTIONS[this.#keys.readUInt32LE(4 * i)];
      if (!action) continue;
      let packets = 0n;
      let bytes = 0n;
      for (let cpu = 0; cpu < this.#cpus; cpu++) {
        const off = i * stride + cpu * REC_SIZE;
        packets += this.#values.readBigUInt64LE(off);
        bytes += this.#values.readBigUInt64LE(off + 8);
      }
      out[action] = { packets: packets & U64_MASK, bytes: bytes & U64_MASK };
    }
    return out;
  }
}

/** A sum of per-CPU u64 counters wraps like the u64 it stands for. */
const U64_MASK = (1n << 64n) - 1n;
