/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Shared by the kernel side (xdp_counter.c) and user space (agent/bpf/layout.ts mirrors it byte for byte;
 * agent/bpf/layout.test.ts checks the mirror against this object's BTF).
 */
#ifndef XDP_COUNTER_H
#define XDP_COUNTER_H

#include <linux/types.h>

/* One record per XDP action and per CPU: the map's value. Both fields are u64 and wrap only after 2^64. */
struct xdp_counter_rec {
	__u64 packets;
	__u64 bytes;
};

/*
 * Load-time settings, the whole content of the object's .rodata section. User space writes them between
 * open and load; the verifier then sees them as constants, so the unused branch is removed.
 */
struct xdp_counter_config {
	__u32 action; /* the XDP action every packet gets: XDP_PASS (default) or XDP_DROP */
};

#endif /* XDP_COUNTER_H */
