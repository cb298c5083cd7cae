#!/usr/bin/env node
// The end-to-end scenario on a real kind cluster, for a machine with Docker, kind, kubectl and helm (it pulls
// kindest/node and builds the image from the Dockerfile, so it needs the network; it does not run in CI here).
//   node e2e/kind/run.ts [--name NAME] [--keep]
// Creates a kind cluster (a control plane and two workers), builds the image and loads it into the nodes,
// joins the two workers with a Docker network of their own (their eth1: only the test's datagrams cross it),
// helm installs the chart, applies examples/xdpcounter.yaml (interfaces: that eth1; reportInterval 1s), and
// sends an exact number of UDP datagrams from a pod on each worker to a sink pod's host-network address on
// the other; then asserts, with the local suite's assertions (e2e/scenario), exact counts, a spec change, an
// agent killed, RBAC of the agents' ServiceAccount, no XDP and no pins after deletion, nothing left after
// helm uninstall. Removes the cluster, the network and the image tag at the end, also on failure or Ctrl-C,
// unless --keep.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  type CommandResult,
  exampleManifest,
  exampleName,
  expectAllowed,
  expectExactCounts,
  expectForbidden,
  expectNoXdpAnywhere,
  kubectlOk,
  type ScenarioCluster,
  watchNeverDecreases,
} from "../scenario/index.ts";
import { clientPod, kindConfig, serverPod, tokenKubeconfig, trafficNet } from "./plan.ts";

const repo = join(import.meta.dirname, "..", "..");
const { values } = parseArgs({
  options: { name: { type: "string" }, keep: { type: "boolean", default: false } },
});
const name = values.name ?? `xdpc-e2e-${process.pid}`;
const image = `xdp-counter:e2e-${name}`;
const release = "xdp-counter";
const namespace = "xdp-counter";
const dir = mkdtempSync(join(tmpdir(), "xdp-counter-kind-"));
const kubeconfig = join(dir, "kubeconfig");

const log = (text: string): void => {
  process.stdout.write(`kind-e2e: ${text}\n`);
};

function sh(argv: string[], opts: { input?: string; quiet?: boolean } = {}): Promise<CommandResult> {
  if (!opts.quiet) log(`$ ${argv.join(" ")}`);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), {
      env: { ...process.env, KUBECONFIG: kubeconfig },
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d;
    });
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    if (child.stdin) {
      child.stdin.on("error", () => {}); // a command that exits without reading its input
      child.stdin.end(opts.input);
    }
  });
}

async function ok(argv: string[], input?: string): Promise<string> {
  const r = await sh(argv, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`${argv.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

const cluster: ScenarioCluster = {
  kubectl: (args, opts = {}) =>
    sh(["kubectl", ...(opts.kubeconfig ? ["--kubeconfig", opts.kubeconfig] : []), ...args], {
      quiet: true,
      ...(opts.input === undefined ? {} : { input: opts.input }),
    }),
  execOnNode: (node, argv) => sh(["docker", "exec", node, ...argv], { quiet: true }),
};

// Undo steps, newest first; run once, at the end or on Ctrl-C.
const undo: { what: string; argv: string[] }[] = [];
let cleaned = false;
async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  if (values.keep) {
    log(`--keep: left cluster ${name} (KUBECONFIG=${kubeconfig}); undo with:`);
    for (const step of undo) log(`  ${step.argv.join(" ")}`);
    return;
  }
  for (const step of undo) {
    log(`cleanup: ${step.what}`);
    await sh(step.argv, { quiet: true });
  }
  rmSync(dir, { recursive: true, force: true });
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanup().then(() => process.exit(130));
  });
}

async function nodeExec(node: string, script: string): Promise<string> {
  return ok(["docker", "exec", node, "sh", "-c", script]);
}

async function main(): Promise<void> {
  for (const tool of ["docker", "kind", "kubectl", "helm"]) {
    const r = await sh(["sh", "-c", `command -v ${tool}`], { quiet: true });
    if (r.code !== 0)
      throw new Error(`${tool} is not on the PATH: this script needs docker, kind, kubectl and helm`);
  }

  writeFileSync(join(dir, "kind.yaml"), kindConfig());
  undo.unshift({
    what: `kind delete cluster --name ${name}`,
    argv: ["kind", "delete", "cluster", "--name", name],
  });
  await ok([
    "kind",
    "create",
    "cluster",
    "--name",
    name,
    "--config",
    join(dir, "kind.yaml"),
    "--kubeconfig",
    kubeconfig,
    "--wait",
    "180s",
  ]);
  const workers = (
    await ok([
      "kubectl",
      "get",
      "nodes",
      "-l",
      "!node-role.kubernetes.io/control-plane",
      "-o",
      "jsonpath={.items[*].metadata.name}",
    ])
  )
    .split(" ")
    .filter(Boolean)
    .sort();
  const [w1, w2] = workers;
  assert.ok(w1 && w2 && workers.length === 2, `two workers, got ${workers.join(", ")}`);

  undo.unshift({ what: `docker rmi ${image}`, argv: ["docker", "rmi", image] });
  await ok(["docker", "build", "-t", image, repo]);
  await ok(["kind", "load", "docker-image", image, "--name", name]);

  // The dedicated traffic network: eth1 on both workers, nothing else on it.
  // A /24 of 172.31.0.0/16 that no other Docker network holds.
  let net = trafficNet(name, 200);
  for (let attempt = 0; ; attempt++) {
    net = trafficNet(name, 200 + ((process.pid + attempt) % 55));
    const r = await sh(["docker", "network", "create", "--subnet", net.subnet, net.name]);
    if (r.code === 0) break;
    if (attempt >= 20 || !/overlap/i.test(r.stderr))
      throw new Error(`docker network create: ${r.stderr.trim()}`);
  }
  undo.unshift({
    what: `docker network rm ${net.name}`,
    argv: [
      "sh",
      "-c",
      `docker network disconnect -f ${net.name} ${w1}; docker network disconnect -f ${net.name} ${w2}; docker network rm ${net.name}`,
    ],
  });
  const ifaces: string[] = [];
  const macs: string[] = [];
  for (const [i, w] of [w1, w2].entries()) {
    await ok(["docker", "network", "connect", "--ip", net.ips[i] as string, net.name, w]);
    const iface = (
      await nodeExec(w, `ip -o -4 addr show | awk '$4 ~ /^${net.ips[i]}\\// {print $2}'`)
    ).trim();
    assert.ok(iface, `${w} has ${net.ips[i]}`);
    ifaces.push(iface);
    await nodeExec(w, `sysctl -qw net.ipv6.conf.${iface}.disable_ipv6=1`);
    macs.push((await nodeExec(w, `cat /sys/class/net/${iface}/address`)).trim());
    // The agents pin into the node's bpffs (a hostPath); kind nodes have one, but make sure.
    await nodeExec(w, "mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf");
  }
  assert.equal(ifaces[0], ifaces[1], "the traffic interface has the same name on both workers");
  const iface = ifaces[0] as string;
  // Permanent neighbours: no ARP on the traffic network once counting starts.
  await nodeExec(w1, `ip neigh replace ${net.ips[1]} lladdr ${macs[1]} dev ${iface} nud permanent`);
  await nodeExec(w2, `ip neigh replace ${net.ips[0]} lladdr ${macs[0]} dev ${iface} nud permanent`);

  const [repository, tag] = image.split(":") as [string, string];
  await ok([
    "helm",
    "install",
    release,
    join(repo, "charts", "xdp-counter"),
    "--namespace",
    namespace,
    "--create-namespace",
    "--set",
    `image.repository=${repository}`,
    "--set",
    `image.tag=${tag}`,
    "--set",
    "image.pullPolicy=Never",
    // reports every second (one write a minute per node by default, docs/adr/0027)
    "--set",
    "agent.reportWritesPerMinute=600",
    "--wait",
    "--timeout",
    "5m",
  ]);
  undo.unshift({
    what: `helm uninstall ${release}`,
    argv: ["helm", "uninstall", release, "--namespace", namespace],
  });

  const xdpc = exampleName();
  const manifest = (edits: Parameters<typeof exampleManifest>[0] = {}) =>
    exampleManifest({ interfaces: [iface], reportInterval: "1s", ...edits });
  log(`kubectl apply -f examples/xdpcounter.yaml with interfaces [${iface}], reportInterval 1s`);
  await kubectlOk(cluster, ["apply", "-f", "-"], manifest());
  const expected: Record<string, bigint> = { [w1]: 0n, [w2]: 0n };
  await expectExactCounts(cluster, xdpc, expected, { timeoutMs: 180_000 });
  log("an agent on each worker reports 0");

  log("RBAC: the agents' ServiceAccount");
  const token = (await ok(["kubectl", "create", "token", `${release}-agent`, "-n", namespace])).trim();
  const server = (
    await ok([
      "kubectl",
      "config",
      "view",
      "--raw",
      "--minify",
      "-o",
      "jsonpath={.clusters[0].cluster.server}",
    ])
  ).trim();
  const ca = (
    await ok([
      "kubectl",
      "config",
      "view",
      "--raw",
      "--minify",
      "-o",
      "jsonpath={.clusters[0].cluster.certificate-authority-data}",
    ])
  ).trim();
  const agentKubeconfig = join(dir, "agent-kubeconfig");
  writeFileSync(agentKubeconfig, tokenKubeconfig(server, ca, token));
  await expectForbidden(cluster, agentKubeconfig, ["get", "secrets", "-A"]);
  await expectForbidden(cluster, agentKubeconfig, ["delete", "xdpcounter", xdpc]);
  await expectForbidden(cluster, agentKubeconfig, ["get", "pods", "-n", namespace]);
  // the agents read their specs from the agents' ConfigMap, never an XdpCounter
  await expectForbidden(cluster, agentKubeconfig, ["get", "xdpcounter", xdpc]);
  await expectAllowed(cluster, agentKubeconfig, [
    "get",
    "configmap",
    `${release}-agent-specs`,
    "-n",
    namespace,
  ]);
  await expectAllowed(cluster, agentKubeconfig, ["get", "node", w1]);

  log("UDP sinks on both workers' host network");
  for (const w of [w1, w2])
    await kubectlOk(cluster, ["apply", "-f", "-"], JSON.stringify(serverPod(w, image)));
  await ok([
    "kubectl",
    "wait",
    "--for=condition=Ready",
    "pod",
    "-l",
    "app=xdp-counter-e2e-traffic",
    "--timeout=120s",
  ]);
  let round = 0;
  const send = async (from: string, to: string, count: number): Promise<void> => {
    const target = net.ips[to === w1 ? 0 : 1] as string;
    const pod = `udp-send-${round++}`;
    log(`${pod}: ${count} datagrams from ${from} to ${to} (${target})`);
    await kubectlOk(
      cluster,
      ["apply", "-f", "-"],
      JSON.stringify(clientPod(pod, from, image, target, count)),
    );
    await ok(["kubectl", "wait", "--for=jsonpath={.status.phase}=Succeeded", `pod/${pod}`, "--timeout=180s"]);
    await ok(["kubectl", "delete", "pod", pod, "--wait=false"]);
    expected[to] = (expected[to] ?? 0n) + BigInt(count);
  };

  await send(w1, w2, 10_000);
  await send(w2, w1, 4_321);
  await expectExactCounts(cluster, xdpc, expected, { timeoutMs: 60_000 });
  log(`exact: ${w1}=${expected[w1]} ${w2}=${expected[w2]}`);

  log("a spec change (reportInterval 2s) rolls out; counts continue");
  let watch = watchNeverDecreases(cluster, xdpc);
  await kubectlOk(cluster, ["apply", "-f", "-"], manifest({ reportInterval: "2s" }));
  await ok([
    "kubectl",
    "rollout",
    "status",
    "daemonset",
    "-n",
    namespace,
    "-l",
    `app.kubernetes.io/component=agent`,
    "--timeout=180s",
  ]).catch(
    // older kubectl: rollout status takes no selector; the counts below still wait for the new agents
    () => "",
  );
  await send(w1, w2, 1_000);
  await expectExactCounts(cluster, xdpc, expected, { timeoutMs: 60_000 });
  await watch.stop();

  log(`the agent on ${w2} killed (force-deleted); counts never go down and end exact`);
  watch = watchNeverDecreases(cluster, xdpc);
  const agent = (
    await ok([
      "kubectl",
      "get",
      "pods",
      "-n",
      namespace,
      "-l",
      "app.kubernetes.io/component=agent",
      "--field-selector",
      `spec.nodeName=${w2}`,
      "-o",
      "jsonpath={.items[0].metadata.name}",
    ])
  ).trim();
  await ok(["kubectl", "delete", "pod", "-n", namespace, agent, "--grace-period=0", "--force"]);
  await send(w1, w2, 2_000);
  await expectExactCounts(cluster, xdpc, expected, { timeoutMs: 120_000 });
  await watch.stop();

  log("kubectl delete xdpcounter: no XDP program, no pin on any worker");
  await kubectlOk(cluster, ["delete", "xdpcounter", xdpc, "--wait=true", "--timeout=120s"]);
  await expectNoXdpAnywhere(cluster, [w1, w2], 120_000);

  log("helm uninstall: nothing of the release left");
  await ok(["helm", "uninstall", release, "--namespace", namespace, "--wait", "--timeout", "2m"]);
  undo.shift();
  const left = await kubectlOk(cluster, [
    "get",
    "deployments,daemonsets,serviceaccounts,roles,rolebindings,clusterroles,clusterrolebindings",
    "-A",
    "-l",
    `app.kubernetes.io/instance=${release}`,
    "-o",
    "name",
  ]);
  assert.equal(left.trim(), "", `left behind: ${left}`);
  log("PASS");
}

try {
  await main();
} catch (err) {
  log(`FAIL: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
