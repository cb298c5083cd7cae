// User space's mirror of bpf/xdp_counter.h and of the kernel's XDP constants.
// layout.test.ts checks it against the BTF of the compiled object, so the two sides cannot drift silently.
import { join } from "node:path";

/** XDP actions in the kernel's order: the map's key is the action's value. */
export const XDP_ACTIONS = ["aborted", "drop", "pass", "tx", "redirect"] as const;
export type XdpAction = (typeof XDP_ACTIONS)[number];

/** The actions a user may choose for the counter to return. */
export const COUNTER_ACTIONS = ["pass", "drop"] as const;
export type CounterAction = (typeof COUNTER_ACTIONS)[number];

export const actionValue = (action: XdpAction): number => XDP_ACTIONS.indexOf(action);

/** sizeof(struct xdp_counter_rec): packets and bytes, u64 each. */
export const REC_SIZE = 16;
/** sizeof(struct xdp_counter_config) */
export const CONFIG_SIZE = 4;

/** Names inside the object file. */
export const PROGRAM_NAME = "xdp_counter";
export const STATS_MAP_NAME = "xdp_counter_stats";
export const RODATA_SUFFIX = ".rodata";

export const BPF_MAP_TYPE_ARRAY = 2;
export const BPF_MAP_TYPE_PERCPU_ARRAY = 6;
export const BPF_PROG_TYPE_XDP = 6;
export const BPF_XDP = 37; // enum bpf_attach_type
export const BPF_LINK_TYPE_XDP = 6;

// XDP attach flags (linux/if_link.h) and the attach modes bpf_xdp_query reports.
export const XDP_FLAGS_UPDATE_IF_NOEXIST = 1 << 0;
export const XDP_FLAGS_SKB_MODE = 1 << 1;
export const XDP_FLAGS_DRV_MODE = 1 << 2;
export const XDP_FLAGS_REPLACE = 1 << 4;
export const XDP_ATTACHED = { NONE: 0, DRV: 1, SKB: 2, HW: 3, MULTI: 4 } as const;

/** The compiled object, built by `make -C bpf`. */
export const DEFAULT_OBJECT_PATH = join(import.meta.dirname, "..", "..", "bpf", "xdp_counter.o");
/**
 * The same counter for kernels before 6.2, which lack the kfunc bpf_cast_to_kern_ctx: it calls
 * bpf_xdp_get_buff_len for every frame. Loaded when the kernel refuses the default object for that reason.
 */
export const COMPAT_OBJECT_PATH = join(import.meta.dirname, "..", "..", "bpf", "xdp_counter_compat.o");
/** The kfunc whose absence sends the loader to the compat object. */
export const COMPAT_KFUNC = "bpf_cast_to_kern_ctx";

/** Encodes struct xdp_counter_config for .rodata. */
export function encodeConfig(action: CounterAction): Buffer {
  const buf = Buffer.alloc(CONFIG_SIZE);
  buf.writeUInt32LE(actionValue(action), 0);
  return buf;
}

export function decodeConfigAction(buf: Buffer): XdpAction | undefined {
  return XDP_ACTIONS[buf.readUInt32LE(0)];
}
