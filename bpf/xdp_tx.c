// SPDX-License-Identifier: GPL-2.0-only
/*
 * The traffic generator's program. Run with BPF_PROG_TEST_RUN and BPF_F_TEST_XDP_LIVE_FRAMES, with the
 * sending interface as ingress: every repetition hands the same frame to the driver as XDP_TX, so it leaves
 * through that interface for real, at rates a socket cannot reach. Not attached to any interface.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_tx(struct xdp_md *ctx)
{
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
