// SPDX-License-Identifier: GPL-2.0-only
/*
 * A variant of bpf/xdp_counter.c for the benchmarks only (`npm run bench -- --part variants`): the counter's
 * earlier design, kept to compare against. Same map, record and load-time action in .rodata, but the action
 * is read into a variable, checked, and used as the lookup key and the return value at run time, so the key
 * makes a round trip through the stack. The counter itself now takes one constant-key path per action.
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

SEC("xdp")
int xdp_counter_runtime_key(struct xdp_md *ctx)
{
	__u32 action = config.action;
	struct xdp_counter_rec *rec;

	if (action != XDP_PASS && action != XDP_DROP)
		action = XDP_ABORTED;

	rec = bpf_map_lookup_elem(&xdp_counter_stats, &action);
	if (!rec)
		return action;

	rec->packets++;
	rec->bytes += ctx->data_end - ctx->data;
	return action;
}

char LICENSE[] SEC("license") = "GPL";
