// What the benchmarks ran on, recorded with every result file.
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release } from "node:os";

export interface Machine {
  nproc: number;
  cpuModel: string;
  kernel: string;
  node: string;
  date: string;
  /** 1, 5 and 15-minute load averages when the part ended: other work on the machine, which skews timing */
  loadAvg: number[];
}

export function machine(): Machine {
  let model = cpus()[0]?.model ?? "unknown";
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? model;
  } catch {
    // keep os.cpus()'s answer
  }
  return {
    nproc: availableParallelism(),
    cpuModel: model,
    kernel: release(),
    node: process.version,
    date: new Date().toISOString(),
    loadAvg: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
