// The demo: xdp-counter on a local Kubernetes cluster. Checks that it may run (root, a kernel with XDP and
// bpffs) before it changes anything, then brings up the local cluster (e2e/local/node: the real control plane
// and two real nodes running the product's image), `helm install`s the chart, applies
// examples/xdpcounter.yaml, sends traffic into both nodes and shows `kubectl get xdpcounters -o wide` every 2 s
// until Ctrl-C (or --seconds N). After --seconds it deletes the XdpCounter, uninstalls the chart and stops
// the cluster; Ctrl-C removes the whole cluster at once.
//   node scripts/demo.ts [--seconds N]
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { release } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { EnvironmentError } from "../agent/cli/exit-codes.ts";
import { requirePrivileges } from "../agent/cli/privileges.ts";
import type { Cluster } from "../e2e/local/node/index.ts";
import { exampleManifest, exampleName, examplePath, readCounts } from "../e2e/scenario/index.ts";

const repo = join(import.meta.dirname, "..");
const { values } = parseArgs({ options: { seconds: { type: "string" } } });
const seconds = values.seconds === undefined ? Number.POSITIVE_INFINITY : Number(values.seconds);
if (!(seconds > 0)) {
  console.error("demo: --seconds must be a positive number");
  process.exit(2);
}

const log = (text: string): void => {
  process.stdout.write(`demo: ${text}\n`);
};

/** Why this machine cannot run the demo, or undefined when it can. Reads only; changes nothing. */
function cannotRun(): string | undefined {
  try {
    requirePrivileges();
  } catch (err) {
    if (err instanceof EnvironmentError)
      return `${err.message.replace(/^xdp-counter/, "the demo")} (it also creates network namespaces)`;
    throw err;
  }
  if (process.getuid?.() !== 0)
    return "the demo needs root: it creates network and mount namespaces; run it with sudo";
  const [major = 0, minor = 0] = release().split(".").map(Number);
  if (major < 5 || (major === 5 && minor < 9))
    return `the kernel ${release()} is too old: XDP through BPF links needs Linux 5.9 or later`;
  if (!/\tbpf$/m.test(readFileSync("/proc/filesystems", "utf8")))
    return "the kernel has no bpffs (no bpf in /proc/filesystems): it was built without CONFIG_BPF_SYSCALL";
  return undefined;
}

const problem = cannotRun();
if (problem) {
  console.error(`demo: cannot run: ${problem}`);
  process.exit(3);
}

// Imported only now: loading the local cluster registers exit handlers, which a refused run need not have.
const { startLocalCluster, createReleaseNamespace, helmInstall, NAMESPACE, RELEASE } = await import(
  "../e2e/local/e2e/setup.ts"
);
const { ensureTools } = await import("../e2e/local/tools.ts");

const began = performance.now();
const elapsed = (): string => `${((performance.now() - began) / 1000).toFixed(1)} s`;
let stopping = false;
// Ctrl-C: the local cluster's own handler removes the whole cluster at once (its nodes, and with them the
// agents, their XDP programs and pins), so there is nothing left to delete one by one
let interrupted = false;
const wake = new AbortController();
const finish = (): void => {
  if (!stopping) log("stopping: cleaning up");
  stopping = true;
  interrupted = true;
  wake.abort();
};
process.on("SIGINT", finish);
process.on("SIGTERM", finish);

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake.signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

async function must(
  what: string,
  run: Promise<{ code: number; stdout: string; stderr: string }>,
): Promise<string> {
  const r = await run;
  if (r.code !== 0) throw new Error(`${what} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

log("building the XDP program (make -C bpf)");
execFileSync("make", ["-s", "-C", join(repo, "bpf")], { stdio: "inherit" });
const tools = ensureTools();
log(
  "starting a local cluster: the real control plane and two real nodes (each a network and mount namespace " +
    "with containerd, a kubelet and kube-proxy), the product's image imported into each",
);
let cluster: Cluster | undefined;
let installed = false;
let applied = false;
const name = exampleName();
try {
  const local = await startLocalCluster(2);
  cluster = local.cluster;
  const c = cluster;
  log(`cluster ${c.plan.id} up after ${elapsed()}`);
  for (const n of c.nodes)
    log(
      `  ${n.name}: eth0 ${n.plan.ip} (cluster network), eth1 (traffic), netns ${n.plan.netns}, ` +
        `mount ns ${n.ns.mountNs}, traffic netns ${n.plan.trafficNs}`,
    );
  log("kubectl and helm work from another shell:");
  process.stdout.write(`export KUBECONFIG=${c.kubeconfig}\n`);
  process.stdout.write(`export PATH=${dirname(c.controlPlane.kubectl)}:${dirname(tools.helm)}:$PATH\n`);

  log(
    `kubectl create namespace ${NAMESPACE}; kubectl label namespace ${NAMESPACE} pod-security.kubernetes.io/enforce=privileged`,
  );
  await createReleaseNamespace(c);
  log(
    `helm install ${RELEASE} charts/xdp-counter --namespace ${NAMESPACE} --wait ` +
      `--set agent.reportWritesPerMinute=600 (image ${local.image.name}, imported into the nodes: ` +
      "pullPolicy Never; reports every second on two nodes, beyond the default budget of one a minute)",
  );
  await must("helm install", helmInstall(local));
  installed = true;
  log("the operator runs (the chart's Deployment, a pod on the pod network)");

  log(
    `kubectl apply -f ${examplePath.slice(repo.length + 1)}, edited for these nodes: ` +
      "interfaces [eth1] (a veth, which the example's globs leave out), reportInterval 1s",
  );
  await must(
    "kubectl apply",
    c.kubectl(["apply", "-f", "-"], {
      input: exampleManifest({ interfaces: ["eth1"], reportInterval: "1s" }),
    }),
  );
  applied = true;

  log("sending UDP frames into each node's eth1, continuously");
  let trafficError: unknown;
  const traffic = (async () => {
    const sizes = [64, 512, 1514];
    for (let round = 0; !stopping; round++) {
      try {
        await Promise.all(c.nodes.map((n, i) => n.send(5_000 * (i + 1), sizes[round % 3] ?? 64)));
      } catch (err) {
        // Ctrl-C reaches the sender too (same process group): that is the end, not an error
        if (!stopping) throw err;
      }
      await sleep(500);
    }
  })().catch((err: unknown) => {
    trafficError = err;
    stopping = true;
    wake.abort();
  });

  const deadline = Date.now() + seconds * 1000;
  log(
    "kubectl get xdpcounters -o wide, every 2 s" +
      (Number.isFinite(seconds) ? ` for ${seconds} s` : "; Ctrl-C stops"),
  );
  let counted = false;
  while (!stopping && Date.now() < deadline) {
    const r = await c.kubectl(["get", "xdpcounters", "-o", "wide"]);
    if (stopping) break;
    if (process.stdout.isTTY) process.stdout.write("\x1b[2J\x1b[H");
    process.stdout.write(`--- ${new Date().toISOString()}\n${r.stdout}${r.stderr}`);
    const counts = await readCounts(c, name).catch(() => undefined);
    const perNode = Object.entries(counts?.nodes ?? {}).map(([n, v]) => `${n}=${v}`);
    if (!counted && Object.values(counts?.nodes ?? {}).some((v) => v > 0n)) {
      counted = true;
      log(`first counts ${elapsed()} after the start`);
    }
    process.stdout.write(`PASS by node: ${perNode.join(" ") || "(none yet)"}\n`);
    await sleep(Math.min(2_000, Math.max(0, deadline - Date.now())));
  }
  stopping = true;
  wake.abort();
  await traffic;
  if (trafficError) throw trafficError;
} catch (err) {
  console.error(`demo: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  if (cluster) {
    if (interrupted) log("interrupted: the cluster was removed with everything on it");
    else if (applied) {
      log(`kubectl delete xdpcounter ${name} (the agents detach and unpin)`);
      await cluster.kubectl(["delete", "xdpcounter", name, "--wait=true", "--timeout=60s"]);
    }
    if (installed && !interrupted) {
      log(`helm uninstall ${RELEASE}`);
      await cluster.helm(["uninstall", RELEASE, "--namespace", NAMESPACE, "--wait", "--timeout", "60s"]);
    }
    log("stopping the local cluster (its processes, namespaces and mounts go)");
    // interrupted, only the control plane is left (stopped at exit anyway; here in order)
    await (interrupted ? cluster.controlPlane.stop() : cluster.stop()).catch((err: unknown) => {
      console.error(`demo: ${(err as Error).message}`);
      process.exitCode = 1;
    });
  }
  log("done");
}
