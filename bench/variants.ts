// Optional part "variants" (not run by default): why the counter's cost over the empty program moves from
// one run to the next, and what would make it smaller. Each program is loaded afresh several times (fresh
// maps each time), and measured after each load in interleaved rounds against the empty program, on one
// CPU (BPF_PROG_TEST_RUN, 64-byte frames, CPU time). Variants: the counter as built, the counter reading the
// frame's length before updating its record, the counter with one constant-key path per load-time action,
// the counter with its action fixed at compile time, and the seed.
import { execFile } from "node:child_process";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Machine, machine } from "./machine.ts";
import { round, roundSummary, type Summary, summarize } from "./stats.ts";
import { VARIANTS, type Variant } from "./variants-worker.ts";

const run = promisify(execFile);
const WORKER = join(import.meta.dirname, "variants-worker.ts");

export interface VariantsOptions {
  loads: number;
  rounds: number;
  repeat: number;
  cpu?: number;
  quick: boolean;
  log: (text: string) => void;
}

export interface VariantRow {
  variant: Variant;
  /** per load: the median over rounds of (variant − empty) CPU-time ns/packet */
  perLoadOverEmptyNs: number[];
  /** summary of perLoadOverEmptyNs: the spread between loads */
  acrossLoads: Summary;
  /** every round of every load pooled */
  allRounds: Summary;
}

export interface VariantsResult {
  part: "variants";
  quick: boolean;
  machine: Machine;
  method: { loads: number; rounds: number; repeat: number; cpu: number; size: number; note: string };
  rows: VariantRow[];
}

export async function runVariants(opts: VariantsOptions): Promise<VariantsResult> {
  const cpu = opts.cpu ?? availableParallelism() - 1;
  const { stdout } = await run(
    "taskset",
    [
      "-c",
      String(cpu),
      process.execPath,
      WORKER,
      "--loads",
      String(opts.loads),
      "--rounds",
      String(opts.rounds),
      "--repeat",
      String(opts.repeat),
    ],
    { maxBuffer: 16 << 20 },
  );
  const raw = JSON.parse(stdout) as Record<Variant, number[][]>;
  const rows = (Object.keys(VARIANTS) as Variant[]).map((variant) => {
    const perLoad = raw[variant].map((diffs) => summarize(diffs).median);
    return {
      variant,
      perLoadOverEmptyNs: perLoad.map((x) => round(x)),
      acrossLoads: roundSummary(summarize(perLoad)),
      allRounds: roundSummary(summarize(raw[variant].flat())),
    };
  });
  opts.log(`variants: ${opts.loads} loads × ${opts.rounds} rounds done`);
  return {
    part: "variants",
    quick: opts.quick,
    machine: machine(),
    method: {
      loads: opts.loads,
      rounds: opts.rounds,
      repeat: opts.repeat,
      cpu,
      size: 64,
      note: "One process pinned with taskset; each load creates fresh maps; per round: the empty program, then the variant; figure = variant − empty in CPU-time ns/packet.",
    },
    rows,
  };
}
