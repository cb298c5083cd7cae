// One CPU's worker for the per-packet benchmark. Started by per-packet.ts under `taskset -c N`, with the
// loaded programs handed down as file descriptors 3, 4, 5… (the same programs and maps the parent holds, so
// workers on several CPUs update the very same maps). Reads one JSON request a line on stdin, runs
// BPF_PROG_TEST_RUN as asked, and writes one JSON reply a line on stdout.
//   request: {"prog": 0, "size": 64, "repeat": 1000000, "startAt": <epoch ms>}
//   reply:   {"ok": true, "retval": 2, "kernelNs": 7, "cpuNs": 7.31, "startMs": …, "endMs": …}  or  {"ok": false, "error": "…"}
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { testRun } from "../agent/bpf/test-run.ts";
import { udpFrame } from "../testing/traffic/frame.ts";

const FIRST_FD = 3;

interface Request {
  prog: number;
  size: number;
  repeat: number;
  startAt?: number;
}

/** The CPUs this process may run on, as the kernel says (taskset's doing). */
function allowedCpus(): string {
  const status = readFileSync("/proc/self/status", "utf8");
  return /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1] ?? "?";
}

const frames = new Map<number, Buffer>();
function frame(size: number): Buffer {
  let f = frames.get(size);
  if (!f) {
    f = udpFrame({
      srcMac: "02:00:c6:12:00:02",
      dstMac: "02:00:c6:12:00:01",
      srcIp: "198.18.0.2",
      dstIp: "198.18.0.1",
      length: size,
    });
    frames.set(size, f);
  }
  return f;
}

process.stdout.write(`${JSON.stringify({ ready: true, cpus: allowedCpus() })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  try {
    const req = JSON.parse(line) as Request;
    const data = frame(req.size);
    // Start together with the other workers: spin until the agreed moment.
    while (req.startAt !== undefined && Date.now() < req.startAt) {}
    // CPU time rather than wall-clock: when the kernel yields the CPU mid-run (need_resched: other work on
    // this CPU), neither its own timer nor this process's CPU time runs on, but the wall clock does.
    const startMs = performance.timeOrigin + performance.now();
    const started = process.cpuUsage();
    const run = testRun(FIRST_FD + req.prog, { data, repeat: req.repeat, op: "test-run XDP program" });
    const used = process.cpuUsage(started);
    const endMs = performance.timeOrigin + performance.now();
    const cpuNs = ((used.user + used.system) * 1000) / req.repeat;
    process.stdout.write(
      `${JSON.stringify({ ok: true, retval: run.retval, kernelNs: run.durationNs, cpuNs, startMs, endMs })}\n`,
    );
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: (err as Error).message })}\n`);
  }
}
