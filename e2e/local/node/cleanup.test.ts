// Nothing of a cluster of real nodes is left after it stops: no process (daemons, shims, containers), mount,
// cgroup, namespace, link, route or folder; and when the process that started it is SIGKILLed, the next start
// removes all of it. Needs root.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, it } from "node:test";
import { cgroupsWithPrefix, processesUnder } from "./cgroups.ts";
import { startCluster } from "./cluster.ts";
import { pauseImage } from "./images/pause.ts";
import { cgroupPrefix, clusterPlan } from "./plan.ts";
import {
  isRunning,
  linkExists,
  mountsUnder,
  netnsWithPrefix,
  type ProcessIdentity,
  processIdentity,
} from "./state.ts";

/** Everything of cluster `index` still on the machine, in words; empty when nothing is. */
function leftovers(
  index: number,
  dir: string,
  controlPlaneDir: string,
  processes: ProcessIdentity[],
): string[] {
  const plan = clusterPlan(index);
  const left: string[] = [];
  if (existsSync(dir)) left.push(`folder ${dir}`);
  if (existsSync(controlPlaneDir)) left.push(`control plane folder ${controlPlaneDir}`);
  for (const ns of netnsWithPrefix(`${plan.id}-`)) left.push(`network namespace ${ns}`);
  if (linkExists(plan.hostIface)) left.push(`link ${plan.hostIface}`);
  for (const cg of cgroupsWithPrefix(cgroupPrefix(plan.id))) left.push(`cgroup ${cg}`);
  for (const p of processes) if (isRunning(p)) left.push(`process ${p.pid}`);
  // by path, not by text: another cluster's folder (`xn1` against `xn17`) is no leftover of this one
  const mounts = mountsUnder(dir);
  if (mounts.length) left.push(`mounts under ${dir}: ${mounts.join(", ")}`);
  const routes = readFileSync("/proc/net/route", "utf8");
  // the host's routes to the cluster network and the pods all go through the cluster's link
  if (routes.split("\n").some((l) => l.startsWith(`${plan.hostIface}\t`)))
    left.push(`routes via ${plan.hostIface}`);
  return left;
}

/** The processes under a cluster's node cgroups now: daemons, shims, containers. */
function nodeProcesses(index: number): ProcessIdentity[] {
  return cgroupsWithPrefix(cgroupPrefix(clusterPlan(index).id))
    .flatMap((cg) => processesUnder(cg))
    .flatMap((pid) => processIdentity(pid) ?? []);
}

describe("clean-up", { timeout: 300_000 }, () => {
  it("stop() leaves nothing of a cluster with a running pod", async () => {
    assert.equal(process.getuid?.(), 0, "real nodes need root");
    const cluster = await startCluster({ nodes: [{ name: "solo" }] });
    const { index } = cluster.plan;
    let processes: ProcessIdentity[] = [];
    try {
      const pod = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "p", namespace: "default" },
        spec: { containers: [{ name: "pause", image: pauseImage().name, imagePullPolicy: "Never" }] },
      };
      const r = await cluster.kubectl(["apply", "-f", "-"], { input: JSON.stringify(pod) });
      assert.equal(r.code, 0, r.stderr);
      const w = await cluster.kubectl(["wait", "--for=condition=Ready", "pod/p", "--timeout=60s"]);
      assert.equal(w.code, 0, w.stderr);
      processes = nodeProcesses(index);
      // containerd, the kubelet, kube-proxy, a shim, the sandbox's pause and the container's
      assert.ok(processes.length >= 6, `${processes.length} processes under the node's cgroups`);
    } finally {
      await cluster.stop();
    }
    assert.deepEqual(leftovers(index, cluster.dir, cluster.controlPlane.dir, processes), []);
  });

  it("a start after the starting process was SIGKILLed removes everything the killed run left", async () => {
    const child = spawn(process.execPath, [join(import.meta.dirname, "testdata", "hold-cluster.ts")], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once("line", resolve);
      child.once("exit", (code) => reject(new Error(`hold-cluster.ts exited ${code} before it was ready`)));
    });
    const held = JSON.parse(line) as { index: number; dir: string; controlPlane: string };
    const processes = nodeProcesses(held.index);
    child.kill("SIGKILL");
    await exited;
    // the killed run's exit handlers never ran: all of it is still there
    const before = leftovers(held.index, held.dir, held.controlPlane, processes);
    assert.ok(
      before.some((l) => l.startsWith("process")),
      before.join(", "),
    );
    assert.ok(
      before.some((l) => l.startsWith("network namespace")),
      before.join(", "),
    );

    const cleaned: string[] = [];
    const next = await startCluster({
      nodes: [{ name: "next" }],
      log: (l) => {
        if (l.includes("killed run")) cleaned.push(l);
      },
    });
    try {
      assert.deepEqual(leftovers(held.index, held.dir, held.controlPlane, processes), []);
      assert.ok(
        cleaned.some(
          (l) =>
            l.endsWith(`: ${clusterPlan(held.index).id}`) || l.includes(`: ${clusterPlan(held.index).id} (`),
        ),
        `the start says what it removed: ${cleaned.join("; ")}`,
      );
    } finally {
      await next.stop();
    }
    assert.deepEqual(leftovers(next.plan.index, next.dir, next.controlPlane.dir, []), []);
  });
});
