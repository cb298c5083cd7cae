// The benchmark's memory cgroup, for real (root): a process started in it finds the limit (Node.js sizes its
// heap from it), is OOM-killed above it and counted, and the group goes when asked.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, rmdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { test } from "node:test";
import {
  createMemoryCgroup,
  memoryCgroupsOf,
  memoryQuantityBytes,
  removeStaleMemoryCgroups,
} from "./memory-cgroup.ts";

test("memory quantities read as Kubernetes reads them; anything else is refused by name", () => {
  assert.equal(memoryQuantityBytes("256Mi"), 256 * 2 ** 20);
  assert.equal(memoryQuantityBytes("1Gi"), 2 ** 30);
  assert.equal(memoryQuantityBytes("1.5Gi"), 1.5 * 2 ** 30);
  assert.equal(memoryQuantityBytes("512M"), 512e6);
  assert.equal(memoryQuantityBytes("1000"), 1000);
  assert.throws(() => memoryQuantityBytes("256MB"), /not a memory quantity: "256MB"/);
  assert.throws(() => memoryQuantityBytes(""), /not a memory quantity/);
});

function run(argv: string[]): Promise<{ code: number | null; signal: string | null; out: string }> {
  const [cmd, ...args] = argv;
  const child = spawn(cmd as string, args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  return new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal, out })));
}

test("a process in the group sees its limit, is OOM-killed above it, and the kill is counted", async () => {
  assert.equal(process.getuid?.(), 0, "run as root, as CI does");
  const group = createMemoryCgroup("test", 96 * 2 ** 20);
  try {
    assert.deepEqual(memoryCgroupsOf(), [group.path.split("/").at(-1)]);
    const seen = await run(
      group.startIn([process.execPath, "-e", "console.log(process.constrainedMemory())"]),
    );
    assert.equal(seen.code, 0);
    assert.equal(Number(seen.out.trim()), 96 * 2 ** 20, "Node.js finds the group's limit");
    assert.equal(group.oomKills(), 0);
    assert.ok((group.peakBytes() ?? 1) > 0);
    // 200 MiB touched, in native memory V8 does not limit: only the kernel stops it
    const hog = await run(
      group.startIn([process.execPath, "-e", "const b = Buffer.alloc(200 * 2 ** 20, 1); console.log(b[0]);"]),
    );
    assert.equal(hog.signal, "SIGKILL", `killed above the limit, not ${JSON.stringify(hog)}`);
    assert.equal(group.oomKills(), 1);
  } finally {
    group.remove();
  }
  assert.equal(existsSync(group.path), false);
  assert.deepEqual(memoryCgroupsOf(), []);
});

test("groups left by a killed run are removed by the next; a live process's group is not", async () => {
  const gone = spawn(process.execPath, ["-e", ""]);
  await new Promise((r) => gone.on("exit", r));
  const ours = createMemoryCgroup("test", 64 * 2 ** 20);
  const stale = join(dirname(ours.path), `xdp-counter-bench-test-${gone.pid}`);
  mkdirSync(stale);
  try {
    assert.ok(removeStaleMemoryCgroups().includes(basename(stale)));
    assert.equal(existsSync(stale), false, "the dead run's group is gone");
    assert.ok(existsSync(ours.path), "this live process's group stays");
  } finally {
    if (existsSync(stale)) rmdirSync(stale);
    ours.remove();
  }
});
