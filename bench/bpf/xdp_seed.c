// SPDX-License-Identifier: GPL-2.0-only
/*
 * The seed's design, kept as the benchmarks' reference: one BPF_MAP_TYPE_ARRAY shared by every CPU, one
 * record per XDP action, updated with atomic adds (__sync_fetch_and_add, which clang turns into the BPF
 * atomic add instruction that xdp-tutorial's basic03 calls lock_xadd). Exact, but every CPU that counts
 * writes the same cache line, so CPUs counting at once take turns owning it.
 *
 * Same record and same work as bpf/xdp_counter.c (packets and bytes, under XDP_PASS), so that the only
 * difference measured is the shared atomic array against the per-CPU array with plain adds.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct xdp_seed_rec {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDP_REDIRECT + 1); /* one record per XDP action */
	__type(key, __u32);
	__type(value, struct xdp_seed_rec);
} xdp_seed_stats SEC(".maps");

SEC("xdp")
int xdp_seed(struct xdp_md *ctx)
{
	__u32 action = XDP_PASS;
	struct xdp_seed_rec *rec;

	rec = bpf_map_lookup_elem(&xdp_seed_stats, &action);
	if (!rec)
		return XDP_ABORTED;

	/* Shared by all CPUs: a plain ++ would lose counts when two CPUs update the record at once. */
	__sync_fetch_and_add(&rec->packets, 1);
	__sync_fetch_and_add(&rec->bytes, ctx->data_end - ctx->data);
	return action;
}

char LICENSE[] SEC("license") = "GPL";
