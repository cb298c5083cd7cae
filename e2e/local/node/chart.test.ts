// The chart on real nodes, as a user installs it: `helm install` with the product image (imported, never
// pulled), the operator as the chart's Deployment on the pod network, reaching the API server through the
// `kubernetes` Service; the agents as the operator renders them (the image, its security context: not
// privileged, exactly CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON, RuntimeDefault seccomp; the bpffs
// and sysfs mounts, probes, the projected ServiceAccount token) counting exact packets on each node's eth1;
// deletion leaving no XDP program and no pin. Needs root.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AGENT_SECURITY_CONTEXT } from "../../../operator/daemonset/index.ts";
import { parseOperatorConfig, renderDaemonSet } from "../../../operator/index.ts";
import { makeXdpCounter } from "../../../testing/operator.ts";
import {
  exampleManifest,
  exampleName,
  expectExactCounts,
  expectNoXdpAnywhere,
  kubectlOk,
} from "../../scenario/index.ts";
import type { Cluster } from "./cluster.ts";
import type { CachedImage } from "./images/cache.ts";
import { pods, startTestCluster, until } from "./testing.ts";

const chart = join(import.meta.dirname, "..", "..", "..", "charts", "xdp-counter");
const NAMESPACE = "xdp-system";
const RELEASE = "xdp-counter";
const nodes = ["node-a", "node-b"];
const name = exampleName();
let c: Cluster;
let image: CachedImage;

before(
  async () => {
    assert.equal(process.getuid?.(), 0, "real nodes need root: namespaces, mounts, cgroups");
    ({ cluster: c, image } = await startTestCluster(
      nodes.map((n) => ({ name: n })),
      (line) => console.log(`# ${line}`),
    ));
  },
  { timeout: 600_000 },
);

after(async () => {
  await c?.stop();
});

interface PodSpecView {
  spec: {
    hostNetwork?: boolean;
    containers: {
      image: string;
      securityContext?: Record<string, unknown>;
      livenessProbe?: unknown;
      readinessProbe?: unknown;
      volumeMounts?: { name: string; mountPath: string }[];
    }[];
    volumes: {
      name: string;
      hostPath?: { path: string };
      projected?: { sources: Record<string, unknown>[] };
    }[];
  };
}

describe("the chart on real nodes", { timeout: 300_000 }, () => {
  it("helm install: the operator runs as the chart's Deployment, on the pod network", async () => {
    // as the README says: the agents use the host's network, host paths and capabilities beyond Pod Security's
    // baseline, so the namespace allows the privileged level
    await kubectlOk(c, ["create", "namespace", NAMESPACE]);
    await kubectlOk(c, ["label", "namespace", NAMESPACE, "pod-security.kubernetes.io/enforce=privileged"]);
    const [repository, tag] = image.name.split(/:(?=[^:]+$)/);
    const r = await c.helm([
      "install",
      RELEASE,
      chart,
      "--namespace",
      NAMESPACE,
      "--set",
      `image.repository=${repository}`,
      "--set",
      `image.tag=${tag}`,
      "--set",
      "image.pullPolicy=Never",
      "--wait",
      "--timeout",
      "120s",
    ]);
    assert.equal(r.code, 0, `helm install: ${r.stderr}`);
    const [operator] = await pods(c, NAMESPACE, "app.kubernetes.io/component=operator");
    assert.ok(operator?.ready, "the operator's pod is Ready (its readiness probe passes once it reconciles)");
    const cidr = c.node(operator.node).plan.podCidr;
    assert.ok(operator.ip.startsWith(cidr.split(".").slice(0, 3).join(".")), `${operator.ip} from ${cidr}`);
    // it reached the API server (only through the Service: pods know no other address of it)
    const env = await kubectlOk(c, [
      "exec",
      "-n",
      NAMESPACE,
      operator.name,
      "--",
      "printenv",
      "KUBERNETES_SERVICE_HOST",
    ]);
    assert.equal(env.trim(), c.plan.serviceRange.replace(/0\/24$/, "1"));
  });

  it("the example applied: an agent on each node, as the chart's pod spec says, counting exact packets", async () => {
    await kubectlOk(c, ["apply", "-f", "-"], exampleManifest({ interfaces: ["eth1"], reportInterval: "1s" }));
    const agents = await until(
      "a Ready agent on each node",
      async () => {
        const ps = (await pods(c, NAMESPACE)).filter(
          (p) => p.ready && nodes.includes(p.node) && p.ip === c.node(p.node).plan.ip,
        );
        return nodes.every((n) => ps.some((p) => p.node === n)) ? ps : undefined;
      },
      120_000,
    );
    const spec = JSON.parse(
      await kubectlOk(c, ["get", "pod", "-n", NAMESPACE, agents[0]?.name ?? "", "-o", "json"]),
    ) as PodSpecView;
    const [container] = spec.spec.containers;
    assert.equal(spec.spec.hostNetwork, true);
    assert.equal(container?.image, image.name);
    assert.deepEqual(container?.securityContext, AGENT_SECURITY_CONTEXT);
    assert.ok(container?.livenessProbe && container.readinessProbe, "probes");
    const hostPaths = spec.spec.volumes.flatMap((v) => (v.hostPath ? [v.hostPath.path] : [])).sort();
    assert.deepEqual(hostPaths, ["/sys", "/sys/fs/bpf"]);
    const projected = spec.spec.volumes.find((v) => v.projected)?.projected?.sources ?? [];
    assert.ok(
      projected.some((s) => "serviceAccountToken" in s),
      "the projected ServiceAccount token",
    );

    // The running agent (pid 1 of its container) has exactly its three capabilities, in every set that
    // matters (effective, permitted, bounding: none to gain back), under a seccomp filter, with no_new_privs.
    const expected = (1n << 39n) | (1n << 38n) | (1n << 12n); // CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN: no CAP_SYS_ADMIN
    for (const agent of agents) {
      const status = await kubectlOk(c, ["exec", "-n", NAMESPACE, agent.name, "--", "cat", "/proc/1/status"]);
      const field = (key: string): string => new RegExp(`^${key}:\\s*(\\S+)$`, "m").exec(status)?.[1] ?? "";
      for (const set of ["CapEff", "CapPrm", "CapBnd"]) {
        assert.equal(BigInt(`0x${field(set)}`), expected, `${agent.name} ${set} ${field(set)}`);
      }
      assert.equal(BigInt(`0x${field("CapAmb")}`), 0n, `${agent.name} CapAmb`);
      assert.equal(field("Seccomp"), "2", `${agent.name}: a seccomp filter (RuntimeDefault)`);
      assert.equal(field("NoNewPrivs"), "1", `${agent.name}: allowPrivilegeEscalation false`);
      assert.match(status, /^Uid:\s*0\s/m, `${agent.name} runs as uid 0`);
    }

    const sent = { "node-a": 0n, "node-b": 0n };
    await expectExactCounts(c, name, sent);
    sent["node-a"] += BigInt(await c.node("node-a").send(20_000, 64));
    sent["node-b"] += BigInt(await c.node("node-b").send(7_777, 512));
    await expectExactCounts(c, name, sent);
  });

  it("Pod Security: baseline refuses the agent's pod for its host network, host port, host paths and capabilities", async () => {
    // Why the README labels the namespace privileged: the agent's pod as rendered, dry-run into a namespace
    // at the baseline level, is refused for exactly these (docs/adr/0020).
    await kubectlOk(c, ["create", "namespace", "xdp-baseline"]);
    await kubectlOk(c, ["label", "namespace", "xdp-baseline", "pod-security.kubernetes.io/enforce=baseline"]);
    const config = parseOperatorConfig({
      XDP_COUNTER_NAMESPACE: "xdp-baseline",
      XDP_COUNTER_AGENT_IMAGE: image.name,
    });
    const template = renderDaemonSet(makeXdpCounter("baseline"), config).spec.template;
    // the pod's ServiceAccount, so that admission gets as far as Pod Security
    await kubectlOk(c, ["create", "serviceaccount", "-n", "xdp-baseline", template.spec.serviceAccountName]);
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "agent", namespace: "xdp-baseline" },
      spec: template.spec,
    };
    const r = await c.kubectl(["apply", "--dry-run=server", "-f", "-"], { input: JSON.stringify(pod) });
    assert.notEqual(r.code, 0, "baseline admits the agent's pod");
    const message = r.stderr.replace(/\s+/g, " ");
    assert.match(message, /violates PodSecurity "baseline:latest"/);
    assert.match(message, /host namespaces \(hostNetwork=true\)/);
    assert.match(message, /hostPort \(container "agent" uses hostPort \d+\)/);
    assert.match(message, /hostPath volumes \(volumes "bpffs", "sys"\)/);
    assert.match(
      message,
      /non-default capabilities \(container "agent" must not include "BPF", "NET_ADMIN", "PERFMON" in securityContext.capabilities.add\)/,
    );
    assert.doesNotMatch(message, /privileged \(container/, "not for privileged: the agent is not");
    await kubectlOk(c, ["delete", "namespace", "xdp-baseline", "--wait=false"]);
  });

  it("deleting the XdpCounter leaves no XDP program and no pin on any node; helm uninstall leaves nothing", async () => {
    await kubectlOk(c, ["delete", "xdpcounter", name, "--wait=true", "--timeout=90s"]);
    await expectNoXdpAnywhere(c, nodes);
    const r = await c.helm(["uninstall", RELEASE, "--namespace", NAMESPACE, "--wait", "--timeout", "90s"]);
    assert.equal(r.code, 0, `helm uninstall: ${r.stderr}`);
    await until(
      "no pod left in the release namespace",
      async () => (await pods(c, NAMESPACE)).length === 0,
      60_000,
    );
  });
});
