// SPDX-License-Identifier: GPL-2.0-only
/*
 * The benchmarks' floor: an XDP program that does nothing but return XDP_PASS. Whatever the kernel spends
 * running any XDP program at all (the dispatcher, the call, the return) is in its cost; the counters' cost is
 * what they add on top of it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
