// SPDX-License-Identifier: GPL-2.0-only
/*
 * A variant of bpf/xdp_counter.c for the benchmarks only (`npm run bench -- --part variants`): the same
 * map and record, but the action is fixed when compiling (XDP_PASS) instead of read from .rodata at run
 * time, so the key and the return value are constants.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xdp_counter.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDP_REDIRECT + 1);
	__type(key, __u32);
	__type(value, struct xdp_counter_rec);
} xdp_counter_stats SEC(".maps");

SEC("xdp")
int xdp_counter_fixed(struct xdp_md *ctx)
{
	__u32 key = XDP_PASS;
	struct xdp_counter_rec *rec;

	rec = bpf_map_lookup_elem(&xdp_counter_stats, &key);
	if (!rec)
		return XDP_PASS;

	rec->packets++;
	rec->bytes += ctx->data_end - ctx->data;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
