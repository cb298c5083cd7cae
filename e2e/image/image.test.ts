// The container image as the project builds it from its Dockerfile on a machine that cannot pull images (a base
// made locally, base-image.ts, passed as BASE_IMAGE; e2e/local/node/images/product.ts, which `bash .ci/install`
// runs, so the build itself is checked there), loaded into a private Docker engine (Debian's docker.io). Then the
// image is run as a user would run it: the CLI counts exact packets on a real interface, privileged with host
// networking and the host's bpffs, and the operator's container runs non-root on a read-only root filesystem.
// Everything the engine made (containers, images, its data root) is removed at the end, also on failure.
//
// Needs root (dockerd, veths, BPF); `bash .ci/install` installs docker.io and debootstrap.
import assert from "node:assert/strict";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { parseOperatorConfig, renderAgentDaemonSet } from "../../operator/index.ts";
import { sh, VethPair } from "../../testing/netns.ts";
import { productImage } from "../local/node/images/product.ts";
import { DockerEngine } from "./docker-engine.ts";
import { agentRunOptions } from "./pod-to-docker.ts";

const root = join(import.meta.dirname, "..", "..");
const tag = `${process.pid}`;
const IMAGE = `xdp-counter:e2e-${tag}`;
const NONROOT = "65532:65532";

let engine: DockerEngine | undefined;
let logDir = "";
const timings: string[] = [];

function elapsed(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

function docker(args: string[]): { status: number; stdout: string; stderr: string } {
  if (!engine) throw new Error("no engine");
  return engine.run(args);
}

/** `docker run --rm IMAGE args`, with run options before the image. */
function runImage(options: string[], args: string[]) {
  return docker(["run", "--rm", ...options, IMAGE, ...args]);
}

// Capability names by bit number, as Docker spells them (CAP_ without the prefix).
const CAPABILITIES = [
  "CHOWN",
  "DAC_OVERRIDE",
  "DAC_READ_SEARCH",
  "FOWNER",
  "FSETID",
  "KILL",
  "SETGID",
  "SETUID",
  "SETPCAP",
  "LINUX_IMMUTABLE",
  "NET_BIND_SERVICE",
  "NET_BROADCAST",
  "NET_ADMIN",
  "NET_RAW",
  "IPC_LOCK",
  "IPC_OWNER",
  "SYS_MODULE",
  "SYS_RAWIO",
  "SYS_CHROOT",
  "SYS_PTRACE",
  "SYS_PACCT",
  "SYS_ADMIN",
  "SYS_BOOT",
  "SYS_NICE",
  "SYS_RESOURCE",
  "SYS_TIME",
  "SYS_TTY_CONFIG",
  "MKNOD",
  "LEASE",
  "AUDIT_WRITE",
  "AUDIT_CONTROL",
  "SETFCAP",
  "MAC_OVERRIDE",
  "MAC_ADMIN",
  "SYSLOG",
  "WAKE_ALARM",
  "BLOCK_SUSPEND",
  "AUDIT_READ",
  "PERFMON",
  "BPF",
];

/**
 * How to run a container "privileged". `--privileged` asks for every capability; where this machine's own
 * bounding set lacks some (sandboxed CI runners drop CAP_SYS_RESOURCE), runc cannot grant them and refuses to
 * start the container. Then the closest equivalent: every capability the machine has, no seccomp filter, no
 * AppArmor profile. A real node runs the DaemonSet with privileged: true.
 */
function privilegedOptions(): { options: string[]; note: string } {
  const probe = runImage(["--privileged", "--network", "none", "--user", "0:0", "--entrypoint", "true"], []);
  if (probe.status === 0) return { options: ["--privileged"], note: "--privileged" };
  if (!/apply caps/.test(probe.stderr)) assert.fail(`a privileged container did not start: ${probe.stderr}`);
  const bounding = BigInt(
    `0x${/^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1]}`,
  );
  const missing = CAPABILITIES.filter((_, bit) => (bounding & (1n << BigInt(bit))) === 0n);
  return {
    options: [
      "--cap-add",
      "ALL",
      ...missing.flatMap((cap) => ["--cap-drop", cap]),
      "--security-opt",
      "seccomp=unconfined",
      "--security-opt",
      "apparmor=unconfined",
    ],
    note: `all capabilities but ${missing.join(", ")} (not in this machine's bounding set, so --privileged cannot start)`,
  };
}

/**
 * The capabilities of the agent's pod this engine cannot name, and what stands for them: docker before 23
 * (Debian's docker.io is 20.10) knows no CAP_BPF and no CAP_PERFMON; CAP_SYS_ADMIN, which the kernel lets do
 * what both do, stands for them there. Real nodes run the pod's own list (e2e/local/node/chart.test.ts).
 */
function capabilitySubstitutes(): Record<string, string> {
  const substitutes: Record<string, string> = {};
  for (const cap of ["BPF", "PERFMON"]) {
    const probe = runImage(["--cap-add", cap, "--network", "none", "--entrypoint", "true"], []);
    if (probe.status === 0) continue;
    if (!/unknown capability/.test(probe.stderr)) assert.fail(`--cap-add ${cap}: ${probe.stderr}`);
    substitutes[cap] = "SYS_ADMIN";
  }
  return substitutes;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

describe("container image", { timeout: 15 * 60_000 }, () => {
  before(async () => {
    assert.equal(process.getuid?.(), 0, "the image test needs root: it runs dockerd, veths and BPF");
    logDir = mkdtempSync(join(tmpdir(), "xdp-counter-image-logs-"));
    chmodSync(logDir, 0o755); // the operator's container (uid 65532) reads its kubeconfig from here

    // The image .ci/install built from the project's Dockerfile (e2e/local/node/images/product.ts, the same one
    // the real nodes import), or built now if the cache lacks it: a private engine, a base made locally
    // (base-image.ts) and passed as BASE_IMAGE, the classic builder, the host's network for apt and npm.
    let start = Date.now();
    const image = await productImage((line) => console.log(`# image: ${line}`));
    timings.push(`product image (cached or built): ${elapsed(start)}`);

    start = Date.now();
    engine = await DockerEngine.start();
    timings.push(`dockerd start: ${elapsed(start)}`);

    start = Date.now();
    engine.check(["load", "--input", image.tarball]);
    engine.check(["tag", image.name, IMAGE]);
    timings.push(`docker load: ${elapsed(start)}`);
  });

  after(async () => {
    const start = Date.now();
    try {
      if (engine) {
        if (process.exitCode) console.log(`# dockerd log:\n${engine.tailLog()}`);
        await engine[Symbol.asyncDispose]();
        assert.ok(!existsSync(engine.dir), "the engine's directory is gone");
        const dir = engine.dir;
        const leftovers = readdirSync("/proc")
          .filter((pid) => /^\d+$/.test(pid))
          .filter((pid) => {
            try {
              return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(dir);
            } catch {
              return false;
            }
          });
        assert.deepEqual(leftovers, [], "no process of the engine is left");
      }
    } finally {
      if (logDir) rmSync(logDir, { recursive: true, force: true });
      timings.push(`engine clean-up: ${elapsed(start)}`);
      for (const line of timings) console.log(`# timing: ${line}`);
    }
  });

  it("runs the CLI as a non-root user by default, Node.js 24 and `xdp-counter` on the PATH", () => {
    const inspect = JSON.parse(docker(["image", "inspect", IMAGE]).stdout) as [
      { Config: { User: string; Entrypoint: string[] } },
    ];
    assert.equal(inspect[0].Config.User, NONROOT);
    assert.deepEqual(inspect[0].Config.Entrypoint, ["node", "/app/dist/agent/cli/bin.js"]);
    const id = runImage(["--network", "none", "--entrypoint", "id"], ["-u"]);
    assert.equal(id.stdout.trim(), "65532");
    const help = runImage(["--network", "none"], ["--help"]);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /xdp-counter attach --iface/);
    // The operator renders the agents' command as ["xdp-counter", "agent"]: the name must be on the PATH.
    const onPath = runImage(["--network", "none", "--entrypoint", "xdp-counter"], ["--help"]);
    assert.equal(onPath.status, 0, onPath.stderr);
    const node = runImage(["--network", "none", "--entrypoint", "node"], ["--version"]);
    assert.match(node.stdout, /^v24\./);
  });

  it("ships the compiled JavaScript, the BPF object and production dependencies only, no sources, tests, typings or apt caches", () => {
    const script = [
      "set -e",
      "test -f /app/dist/bpf/xdp_counter.o",
      "test -x /app/dist/agent/cli/bin.js",
      "test -f /app/dist/agent/cluster/main.js && test -f /app/dist/operator/run-operator.js",
      "! find /app -name '*.ts' -not -path '/app/node_modules/*' | grep .",
      "! find /app/dist -name '*.test.js' | grep .",
      "test -d /app/node_modules/koffi && test -d /app/node_modules/zod && test -d /app/node_modules/yaml",
      "for dev in typescript @biomejs/biome node aws-cdk-lib @aws-cdk; do ! test -e /app/node_modules/$dev || { echo dev dependency $dev shipped; exit 1; }; done",
      "! test -e /app/e2e && ! test -e /app/.git && ! test -e /app/bench && ! test -e /app/dist/testing",
      "! find /app/node_modules -name '*.d.ts' -o -name '*.map' | grep .",
      // apt's package lists, downloads and caches stay out of the image
      "! find /var/lib/apt/lists /var/cache/apt -type f -name '*_Packages*' -o -name '*.deb' -o -name '*.bin' | grep .",
      "! command -v clang",
      "ldconfig -p | grep -q libbpf.so.1",
      "command -v ip",
    ].join("\n");
    const result = runImage(["--network", "none", "--entrypoint", "sh"], ["-c", script]);
    assert.equal(result.status, 0, result.stdout + result.stderr);

    // npm's record of what it installed: nothing that only the project's devDependencies need.
    const installed = runImage(
      ["--network", "none", "--entrypoint", "cat"],
      ["/app/node_modules/.package-lock.json"],
    );
    assert.equal(installed.status, 0, installed.stderr);
    const packages = (
      JSON.parse(installed.stdout) as { packages: Record<string, { dev?: boolean; peer?: boolean }> }
    ).packages;
    const devOnly = Object.entries(packages)
      .filter(([, p]) => p.dev || p.peer)
      .map(([path]) => path);
    assert.deepEqual(devOnly, [], "no dev or peer dependency is installed");
    const declared = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    for (const name of Object.keys(declared.dependencies)) {
      assert.ok(`node_modules/${name}` in packages, `dependency ${name} is installed`);
    }
  });

  it("counts exact packets on a host interface, run as the agent DaemonSet's pod", async (t) => {
    // The container shares the host's network namespace, so the counted end of the veth pair moves there; the
    // sending end stays in its own namespace. Dropping what it counts keeps the test's frames out of the host.
    const pair = await VethPair.create();
    const iface = pair.node.iface;
    const pinRoot = `/sys/fs/bpf/xdp-counter-image-test-${tag}`;
    t.after(async () => {
      await sh("ip", ["link", "del", iface]).catch(() => undefined);
      await pair.destroy();
      rmSync(pinRoot, { recursive: true, force: true });
    });
    await sh("ip", ["-n", pair.node.ns, "link", "set", iface, "netns", String(process.pid)]);
    await sh("sysctl", ["-qw", `net.ipv6.conf.${iface}.disable_ipv6=1`]);
    await sh("ip", ["link", "set", iface, "up"]);

    // The container runs as the operator's agent pod would: its rendered host network, privilege and mounts.
    const privileged = privilegedOptions();
    t.diagnostic(`privileged as: ${privileged.note}`);
    const config = parseOperatorConfig({
      XDP_COUNTER_NAMESPACE: "xdp-system",
      XDP_COUNTER_AGENT_IMAGE: IMAGE,
    });
    const pod = agentRunOptions(renderAgentDaemonSet(config), privileged.options, capabilitySubstitutes());
    for (const note of pod.notes) t.diagnostic(note);
    const agent = pod.options;
    const cli = (args: string[]) => runImage(agent, [...args, "--pin-root", pinRoot]);

    const attached = cli(["attach", "--iface", iface, "--action", "drop", "--json"]);
    assert.equal(attached.status, 0, attached.stderr);
    const linkInfo = await sh("ip", ["-j", "link", "show", "dev", iface]);
    assert.match(linkInfo, /"xdp"/, "an XDP program is attached after the container exited (pinned link)");

    const count = 25_000;
    const length = 128;
    assert.equal(await pair.send(count, length), count);

    const status = cli(["status", "--iface", iface, "--json"]);
    assert.equal(status.status, 0, status.stderr);
    const entry = (
      JSON.parse(status.stdout) as {
        interfaces: {
          attached: boolean;
          action: string;
          counters: Record<string, { packets: string; bytes: string }>;
        }[];
      }
    ).interfaces[0];
    assert.ok(entry?.attached);
    assert.equal(entry.action, "drop");
    assert.deepEqual(entry.counters.drop, { packets: String(count), bytes: String(count * length) });
    for (const action of ["aborted", "pass", "tx", "redirect"]) {
      assert.equal(entry.counters[action]?.packets, "0", action);
    }

    const detached = cli(["detach", "--iface", iface]);
    assert.equal(detached.status, 0, detached.stderr);
    assert.doesNotMatch(await sh("ip", ["-j", "link", "show", "dev", iface]), /"xdp"/);
  });

  it("cannot count as its default non-root user, even privileged: agents must run as root", (t) => {
    // Pins the contract with the agent DaemonSet: privileged alone gives a non-root process no capabilities,
    // so the pod must also set runAsUser: 0 (the image's default user is for the operator).
    const privileged = privilegedOptions();
    t.diagnostic(`privileged as: ${privileged.note}`);
    const result = runImage(
      [...privileged.options, "--network", "host", "-v", "/sys/fs/bpf:/sys/fs/bpf"],
      ["status", "--json"],
    );
    assert.equal(
      result.status,
      3,
      `expected exit 3 (machine not ready: not root): ${result.stdout}${result.stderr}`,
    );
  });

  it("runs the CLI non-root on a read-only root filesystem with every capability dropped", () => {
    const result = runImage(
      [
        "--read-only",
        "--user",
        NONROOT,
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--network",
        "none",
      ],
      ["--help"],
    );
    assert.equal(result.status, 0, result.stderr);
  });

  it("agent: the in-cluster entry `xdp-counter agent` starts with the rendered pod's Node.js options", (t) => {
    const privileged = privilegedOptions();
    const config = parseOperatorConfig({
      XDP_COUNTER_NAMESPACE: "xdp-system",
      XDP_COUNTER_AGENT_IMAGE: IMAGE,
    });
    const ds = renderAgentDaemonSet(config);
    const pod = agentRunOptions(ds, privileged.options, capabilitySubstitutes());
    for (const note of pod.notes) t.diagnostic(note);
    const nodeOptions = ds.spec.template.spec.containers[0]?.env.find((v) => v.name === "NODE_OPTIONS");
    assert.ok(nodeOptions && "value" in nodeOptions && nodeOptions.value.includes("--max-semi-space-size=1"));

    // What the one agent per node needs besides: its node, the release namespace and the agents' ConfigMap,
    // as the kubelet would give them (docs/adr/0021). Every variable of the pod is carried over.
    assert.deepEqual(
      pod.notes.filter((n) => / is not set$/.test(n)),
      [],
      "every env variable of the rendered pod is set",
    );
    const env = runImage(
      [...pod.options, "--entrypoint", "printenv"],
      ["NODE_NAME", "POD_NAMESPACE", "XDP_COUNTER_AGENT_SPECS"],
    );
    assert.equal(env.status, 0, env.stderr);
    assert.deepEqual(env.stdout.trim().split("\n"), [hostname(), "xdp-system", config.agentSpecs]);

    const result = runImage(pod.options, ["agent", "--help"]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /agent/);
    assert.match(result.stdout, /XDP_COUNTER_AGENT_SPECS/);
    // The options take effect. The young generation stays two 1 MiB semi-spaces after allocating well past
    // it (V8's default grows it to tens of MiB): the median of 5 rounds, since V8 may grow it for a moment.
    // And --jitless: no JIT, so no WebAssembly.
    const script =
      "const v8 = require('node:v8'); const s = []; for (let r = 0; r < 5; r++) { let a = []; " +
      "for (let i = 0; i < 1e6; i++) a.push({ i }); a = null; s.push(v8.getHeapSpaceStatistics()" +
      ".find((x) => x.space_name === 'new_space').space_size); } s.sort((x, y) => x - y); " +
      "process.stdout.write(JSON.stringify({ newSpace: s[2], wasm: typeof WebAssembly !== 'undefined' }))";
    const heap = runImage([...pod.options, "--entrypoint", "node"], ["-e", script]);
    assert.equal(heap.status, 0, heap.stderr);
    const seen = JSON.parse(heap.stdout) as { newSpace: number; wasm: boolean };
    assert.ok(seen.newSpace <= 2 * 1024 * 1024, `new space ${seen.newSpace} bytes (median of 5 rounds)`);
    assert.equal(seen.wasm, false, "--jitless: no WebAssembly");
  });

  it("operator: starts non-root on a read-only root filesystem and answers /healthz", async (t) => {
    const port = await freePort();
    const name = `xdp-counter-operator-${tag}`;
    // An API server that cannot answer (port 1 on loopback): the operator must stay up and answer /healthz
    // while it retries, and can never reconcile against some real cluster this machine might reach.
    const kubeconfig = join(logDir, "kubeconfig");
    writeFileSync(
      kubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters: [{name: none, cluster: {server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}}]",
        "users: [{name: none, user: {token: none}}]",
        "contexts: [{name: none, context: {cluster: none, user: none}}]",
        "current-context: none",
        "",
      ].join("\n"),
      { mode: 0o644 },
    );
    t.after(() => docker(["rm", "-f", name]));
    const started = docker([
      "run",
      "--detach",
      "--name",
      name,
      "--read-only",
      "--tmpfs",
      "/tmp",
      "--user",
      NONROOT,
      "--cap-drop",
      "ALL",
      "--security-opt",
      "no-new-privileges",
      "--network",
      "host",
      "--volume",
      `${kubeconfig}:/etc/xdp-counter/kubeconfig:ro`,
      "--env",
      "KUBECONFIG=/etc/xdp-counter/kubeconfig",
      "--env",
      "XDP_COUNTER_NAMESPACE=xdp-system",
      "--env",
      `XDP_COUNTER_AGENT_IMAGE=${IMAGE}`,
      "--env",
      `XDP_COUNTER_PORT=${port}`,
      IMAGE,
      "operator",
    ]);
    assert.equal(started.status, 0, started.stderr);
    const deadline = Date.now() + 30_000;
    let last = "";
    while (Date.now() < deadline) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (response.ok) return;
        last = `HTTP ${response.status}`;
      } catch (err) {
        last = String(err);
      }
      await sleep(500);
    }
    assert.fail(`no /healthz answer on port ${port} (${last}); logs:\n${docker(["logs", name]).stderr}`);
  });
});
