// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdp-counter: counts every packet that reaches an interface, by the XDP action it gets, in packets and bytes.
 *
 * Descends from xdp-tutorial's basic03 (xdp_stats1_func), with four changes:
 *  - a per-CPU array instead of a shared array updated with atomic adds (lock_xadd): XDP runs in softirq
 *    context, pinned to one CPU and never preempted by another XDP run on that CPU, so each CPU owns its slot
 *    and plain increments are exact. No atomic instruction, no cache line bouncing between CPUs; user space
 *    sums the CPUs' slots when it reads.
 *  - bytes as well as packets: the frame's whole length from the Ethernet header on, fragments included.
 *  - the returned action is a load-time constant, and the packet is counted under the action it returns.
 *  - a multi-buffer program (SEC("xdp.frags")): drivers that support multi-buffer XDP (veth, ena, mlx5, ice,
 *    i40e, bnxt among them) accept it at jumbo MTUs, where a single-buffer program is refused (ERANGE on veth
 *    above a page-sized frame). Such a frame arrives as a linear part plus fragments: data_end - data is only
 *    the linear part, bpf_xdp_get_buff_len() is the whole frame. The program never touches packet data, so
 *    nothing else changes for fragments.
 */
#include <linux/bpf.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "xdp_counter.h"

/*
 * Three builds of this file: the counter (xdp_counter.o), its compat build (xdp_counter_compat.o: -D
 * XDP_COUNTER_COMPAT) and, for the benchmarks and the tests only, the counter as it was before multi-buffer
 * support (bench/bpf/xdp_counter_linear.o: -DXDP_COUNTER_LINEAR), a single-buffer program counting
 * data_end - data, what an earlier agent left attached.
 */
#ifdef XDP_COUNTER_LINEAR
#define XDP_COUNTER_SECTION "xdp"
#else
#define XDP_COUNTER_SECTION "xdp.frags"
#endif

#if !defined(XDP_COUNTER_COMPAT) && !defined(XDP_COUNTER_LINEAR)
/*
 * The kernel's own view of the context, for its fragments flag: only the field read here, relocated by
 * CO-RE against the running kernel's BTF. bpf_cast_to_kern_ctx() (Linux 6.2+) costs nothing at run time: the
 * verifier turns the call into a register move.
 */
struct xdp_buff {
	__u32 flags;
} __attribute__((preserve_access_index));

enum xdp_buff_flags {
	XDP_FLAGS_HAS_FRAGS = 1,
};

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;
#endif

/*
 * The frame's whole length. bpf_xdp_get_buff_len() is a helper call, which costs several ns per packet on
 * CPUs whose return-stack mitigations make every call and return dear (BENCHMARKS.md §1), so it is called
 * only for a frame that has fragments; a single-buffer frame, the common case, is data_end - data.
 * The compat build (xdp_counter_compat.o, for kernels before bpf_cast_to_kern_ctx) always calls it.
 */
static __always_inline __u64 frame_len(struct xdp_md *ctx)
{
#if defined(XDP_COUNTER_LINEAR)
	return ctx->data_end - ctx->data;
#elif defined(XDP_COUNTER_COMPAT)
	return bpf_xdp_get_buff_len(ctx);
#else
	struct xdp_buff *xdp = bpf_cast_to_kern_ctx(ctx);

	if (__builtin_expect(xdp->flags & bpf_core_enum_value(enum xdp_buff_flags, XDP_FLAGS_HAS_FRAGS), 0))
		return bpf_xdp_get_buff_len(ctx);
	return ctx->data_end - ctx->data;
#endif
}

/* Set by user space before load (see xdp_counter.h). `volatile` keeps clang from folding the default in. */
const volatile struct xdp_counter_config config = {
	.action = XDP_PASS,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDP_REDIRECT + 1); /* one slot per XDP action: ABORTED, DROP, PASS, TX, REDIRECT */
	__type(key, __u32);
	__type(value, struct xdp_counter_rec);
} xdp_counter_stats SEC(".maps");

/*
 * Counts one packet under `action` and returns it. Always inlined with a constant action, so each call site
 * has a constant key and a constant return value. The frame's length is read before the record is touched:
 * measured, that order keeps the fragments check within noise of the single-buffer counter, where reading
 * it after the update cost some 2 ns more (BENCHMARKS.md §1, variants).
 */
static __always_inline int count(struct xdp_md *ctx, const __u32 action)
{
	__u64 len = frame_len(ctx);
	__u32 key = action;
	struct xdp_counter_rec *rec = bpf_map_lookup_elem(&xdp_counter_stats, &key);

	if (!rec) /* cannot happen for a key below max_entries; the verifier still wants the check */
		return action;
	rec->packets++;
	rec->bytes += len;
	return action;
}

/*
 * One path per action. .rodata is frozen at load, so the verifier knows config.action and removes the paths
 * not taken: what runs is one lookup with a constant key and two adds. (A key computed at run time measured
 * 1.5-2 ns slower per packet; see BENCHMARKS.md.)
 */
SEC(XDP_COUNTER_SECTION)
int xdp_counter(struct xdp_md *ctx)
{
	if (config.action == XDP_PASS)
		return count(ctx, XDP_PASS);
	if (config.action == XDP_DROP)
		return count(ctx, XDP_DROP);
	/* Anything else would be a user-space bug: refuse it loudly rather than forward blindly. */
	return count(ctx, XDP_ABORTED);
}

char LICENSE[] SEC("license") = "GPL";
