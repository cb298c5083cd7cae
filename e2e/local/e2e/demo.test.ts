// `npm run demo` as a user runs it: with --seconds it prints how to reach its cluster, shows non-zero PASS
// counts on both real nodes and removes everything it made; without privileges it refuses before changing
// anything. Needs root; about 2 minutes.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { defaultNodesStateRoot } from "../node/index.ts";
import { repo } from "./setup.ts";

const demo = join(repo, "scripts", "demo.ts");

function run(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { cwd: repo, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

async function netnsList(): Promise<string[]> {
  const r = await run(["ip", "netns", "list"]);
  return r.stdout.split("\n").map((l) => l.split(" ")[0] ?? "");
}

test("the demo shows non-zero PASS on both nodes, then removes everything it made", {
  timeout: 600_000,
}, async () => {
  const r = await run([process.execPath, demo, "--seconds", "15"]);
  assert.equal(r.code, 0, `demo failed:\n${r.stdout}\n${r.stderr}`);
  for (const step of [
    "helm install",
    "kubectl apply",
    "kubectl get xdpcounters -o wide",
    "helm uninstall",
    "done",
  ])
    assert.ok(r.stdout.includes(step), `the demo says what it does: ${step}`);
  const lines = r.stdout.split("\n").filter((l) => l.startsWith("PASS by node:"));
  const last = lines.at(-1) ?? "";
  const pass = Object.fromEntries(
    [...last.matchAll(/(node-\d)=(\d+)/g)].map((m) => [m[1], BigInt(m[2] ?? 0)]),
  );
  assert.ok(
    (pass["node-1"] ?? 0n) > 0n && (pass["node-2"] ?? 0n) > 0n,
    `non-zero PASS on both nodes: ${last}`,
  );
  assert.match(
    r.stdout,
    /^workers\s+2\s+2\s+\S+\s+[1-9]\d*\s/m, // ready, desired, packets/s, pass
    "kubectl get xdpcounters -o wide shows the totals",
  );

  const kubeconfig = /^export KUBECONFIG=(\S+)$/m.exec(r.stdout)?.[1];
  assert.ok(kubeconfig, "the demo prints the KUBECONFIG to use");
  const path = /^export PATH=(\S+):\$PATH$/m.exec(r.stdout)?.[1] ?? "";
  for (const tool of ["kubectl", "helm"])
    assert.ok(
      path.split(":").some((dir) => existsSync(join(dir, tool))),
      `the demo's PATH has ${tool}: ${path}`,
    );
  assert.equal(existsSync(kubeconfig), false, "the control plane's folder is gone");
  const cluster = /netns (xn\d+)-node-1/.exec(r.stdout)?.[1];
  assert.ok(cluster, "the demo names its nodes' namespaces");
  assert.deepEqual(
    (await netnsList()).filter((n) => n.startsWith(`${cluster}-`)),
    [],
    "no namespace of the demo's cluster is left",
  );
  assert.equal(existsSync(join(defaultNodesStateRoot, cluster)), false, "its folder is gone");
});

test("without privileges the demo refuses with a clear message before changing anything", {
  timeout: 120_000,
}, async () => {
  const r = await run([
    "setpriv",
    "--bounding-set=-all",
    "--inh-caps=-all",
    "--ambient-caps=-all",
    "--",
    process.execPath,
    demo,
    "--seconds",
    "5",
  ]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /demo: cannot run: .*root/);
  // it stops at the check, before building, starting a cluster or making any namespace (other tests may be
  // making namespaces meanwhile, so the output is what shows it)
  assert.equal(r.stdout, "");
});
