// SPDX-License-Identifier: GPL-2.0-only
/*
 * A variant of bpf/xdp_counter.c for the benchmarks only (`npm run bench -- --part variants`): the same
 * map, record and load-time action in .rodata, but each action has its own path with a constant key and a
 * constant return value. The verifier knows the frozen .rodata value, so it removes the paths not taken:
 * what runs is the fixed-action program plus one load of the action.
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
int xdp_counter_const_key(struct xdp_md *ctx)
{
	if (config.action == XDP_PASS)
		return count(ctx, XDP_PASS);
	if (config.action == XDP_DROP)
		return count(ctx, XDP_DROP);
	return count(ctx, XDP_ABORTED);
}

char LICENSE[] SEC("license") = "GPL";
