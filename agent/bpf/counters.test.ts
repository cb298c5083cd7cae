// Reading the per-CPU map: exact bigint sums across CPUs, far above 2^53. Loads the real program (root).
import assert from "node:assert/strict";
import { test } from "node:test";
import { CounterReader, numPossibleCpus } from "./counters.ts";
import { actionValue, REC_SIZE, XDP_ACTIONS } from "./layout.ts";
import { native } from "./libbpf.ts";
import { LoadedCounter } from "./object.ts";

function writePerCpu(
  mapFd: number,
  action: (typeof XDP_ACTIONS)[number],
  values: Array<[bigint, bigint]>,
): void {
  const cpus = numPossibleCpus();
  const buf = Buffer.alloc(cpus * REC_SIZE);
  values.forEach(([packets, bytes], cpu) => {
    buf.writeBigUInt64LE(packets, cpu * REC_SIZE);
    buf.writeBigUInt64LE(bytes, cpu * REC_SIZE + 8);
  });
  const key = Buffer.alloc(4);
  key.writeUInt32LE(actionValue(action));
  assert.equal(native.bpf_map_update_elem(mapFd, key, buf, 0n), 0);
}

test("per-CPU values are summed exactly as bigint above 2^53 and wrap like u64", () => {
  using counter = LoadedCounter.load({ action: "pass" });
  const cpus = numPossibleCpus();
  assert.ok(cpus >= 1);
  const big = 2n ** 53n + 1n;
  writePerCpu(
    counter.mapFd,
    "pass",
    Array.from({ length: cpus }, (_, i) => [big + BigInt(i), 2n ** 62n + BigInt(i)]),
  );
  writePerCpu(counter.mapFd, "drop", [[7n, 448n]]);
  const c = new CounterReader(counter.mapFd).read();
  const n = BigInt(cpus);
  assert.equal(c.pass.packets, big * n + (n * (n - 1n)) / 2n);
  assert.equal(c.pass.bytes, (2n ** 62n * n + (n * (n - 1n)) / 2n) & (2n ** 64n - 1n));
  assert.deepEqual(c.drop, { packets: 7n, bytes: 448n });
  assert.deepEqual(c.aborted, { packets: 0n, bytes: 0n });
  assert.deepEqual(Object.keys(c), [...XDP_ACTIONS]);
});

test("the action is a load-time constant in the program's own .rodata", async () => {
  const { programAction, progInfo } = await import("./info.ts");
  for (const action of ["pass", "drop"] as const) {
    using counter = LoadedCounter.load({ action });
    assert.equal(programAction(progInfo(counter.progFd).id), action);
  }
});
