// The variants part's measuring process, started by variants.ts under `taskset -c N`. Loads every program
// afresh `loads` times (fresh maps each time, so their per-CPU values land somewhere new), and after each
// load runs `rounds` interleaved pairs: the empty program, then the variant, on the same 64-byte frame.
// Prints one JSON object: for each variant and load, the per-round CPU-time ns/packet over the empty run.
import { join } from "node:path";
import { parseArgs } from "node:util";
import { encodeConfig } from "../agent/bpf/layout.ts";
import { loadObject } from "../agent/bpf/object.ts";
import { testRun } from "../agent/bpf/test-run.ts";
import { udpFrame } from "../testing/traffic/frame.ts";

const BPF = join(import.meta.dirname, "..", "bpf");
const BENCH_BPF = join(import.meta.dirname, "bpf");
const XDP_PASS = 2;

/** name → object file, program name, and whether its action is set in .rodata */
export const VARIANTS = {
  counter: { path: join(BPF, "xdp_counter.o"), prog: "xdp_counter", rodata: true },
  // the counter before multi-buffer support, and the multi-buffer counter's compat build (kernels < 6.2)
  "counter-linear": { path: join(BENCH_BPF, "xdp_counter_linear.o"), prog: "xdp_counter", rodata: true },
  "counter-compat": { path: join(BPF, "xdp_counter_compat.o"), prog: "xdp_counter", rodata: true },
  "counter-len-first": {
    path: join(BENCH_BPF, "xdp_counter_len_first.o"),
    prog: "xdp_counter_len_first",
    rodata: true,
  },
  "counter-runtime-key": {
    path: join(BENCH_BPF, "xdp_counter_runtime_key.o"),
    prog: "xdp_counter_runtime_key",
    rodata: true,
  },
  "counter-fixed": { path: join(BENCH_BPF, "xdp_counter_fixed.o"), prog: "xdp_counter_fixed", rodata: false },
  seed: { path: join(BENCH_BPF, "xdp_seed.o"), prog: "xdp_seed", rodata: false },
} as const;
export type Variant = keyof typeof VARIANTS;

if (import.meta.main) {
  const { values } = parseArgs({
    options: { loads: { type: "string" }, rounds: { type: "string" }, repeat: { type: "string" } },
  });
  const loads = Number(values.loads);
  const rounds = Number(values.rounds);
  const repeat = Number(values.repeat);
  const data = udpFrame({
    srcMac: "02:00:c6:12:00:02",
    dstMac: "02:00:c6:12:00:01",
    srcIp: "198.18.0.2",
    dstIp: "198.18.0.1",
    length: 64,
  });
  const cpuNs = (fd: number): number => {
    const started = process.cpuUsage();
    const run = testRun(fd, { data, repeat, op: "test-run XDP program" });
    const used = process.cpuUsage(started);
    if (run.retval !== XDP_PASS) throw new Error(`program returned ${run.retval}, not XDP_PASS`);
    return ((used.user + used.system) * 1000) / repeat;
  };
  using empty = loadObject(join(BENCH_BPF, "xdp_empty.o"));
  const emptyFd = empty.programFd("xdp_empty");
  const names = Object.keys(VARIANTS) as Variant[];
  const out: Record<string, number[][]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let l = 0; l < loads; l++) {
    const loaded = names.map((n) => {
      const v = VARIANTS[n];
      const obj = loadObject(v.path, v.rodata ? encodeConfig("pass") : undefined);
      return { name: n, obj, fd: obj.programFd(v.prog), diffs: [] as number[] };
    });
    try {
      for (let r = 0; r < rounds; r++) {
        for (let i = 0; i < loaded.length; i++) {
          const v = loaded[(i + r) % loaded.length] as (typeof loaded)[number];
          const floor = cpuNs(emptyFd);
          v.diffs.push(cpuNs(v.fd) - floor);
        }
      }
      for (const v of loaded) out[v.name]?.push(v.diffs);
    } finally {
      for (const v of loaded) v.obj.close();
    }
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
