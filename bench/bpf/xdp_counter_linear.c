// SPDX-License-Identifier: GPL-2.0-only
/*
 * The counter as it was before multi-buffer support: bpf/xdp_counter.c as a single-buffer program
 * (SEC("xdp")) that counts only the frame's linear part (data_end - data). Kept for two uses:
 *  - the per-packet benchmark measures what the multi-buffer counter costs over it (§1 of BENCHMARKS.md);
 *  - tests load it as what an earlier agent left attached, to check that a newer agent swaps it for the
 *    multi-buffer program without losing a count, and that the kernel refuses a jumbo MTU while it runs.
 * Same program, map and .rodata names and layout as the counter, so the loader treats it as one.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xdp_counter.h"

const volatile struct xdp_counter_config config = {
	.action = XDP_PASS,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDP_REDIRECT + 1);
	__type(key, __u32);
	__type(value, struct xdp_counter_rec);
} xdp_counter_stats SEC(".maps");

static __always_inline int count(struct xdp_md *ctx, const __u32 action)
{
	__u32 key = action;
	struct xdp_counter_rec *rec = bpf_map_lookup_elem(&xdp_counter_stats, &key);

	if (!rec)
		return action;
	rec->packets++;
	rec->bytes += ctx->data_end - ctx->data;
	return action;
}

SEC("xdp")
int xdp_counter(struct xdp_md *ctx)
{
	if (config.action == XDP_PASS)
		return count(ctx, XDP_PASS);
	if (config.action == XDP_DROP)
		return count(ctx, XDP_DROP);
	return count(ctx, XDP_ABORTED);
}

char LICENSE[] SEC("license") = "GPL";
