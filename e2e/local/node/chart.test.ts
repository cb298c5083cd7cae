// The chart on real nodes, as a user installs it: `helm install` with the product image (imported, never
// pulled), the operator as the chart's Deployment on the pod network, reaching the API server through the
// `kubernetes` Service; the one agent DaemonSet the operator creates (docs/adr/0021), one agent pod on each node
// it labels, as the operator renders it (the image, its security context: not privileged, exactly CAP_BPF,
// CAP_NET_ADMIN and CAP_PERFMON, RuntimeDefault seccomp; the bpffs mount, its only host path; probes, the projected
// ServiceAccount token) counting exact packets on each node's eth1 into its XdpCounterReport (docs/adr/0022),
// summed into the XdpCounter's totals; the chart's admission policy refusing an agent another node's report
// (docs/adr/0023); what the agent's and the operator's ServiceAccount tokens are refused on the real API server
// (Secrets, XdpCounters, exec into pods); the running containers read-only, without privilege escalation, the
// operator non-root; which fields of the agent's pod need Pod Security's privileged level, and the operator's
// pod admitted under restricted; deletion leaving no XDP program, no pin, no report, no label; helm uninstall
// nothing. Needs root.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { AGENT_SECURITY_CONTEXT } from "../../../operator/daemonset/index.ts";
import { AGENT_NODE_LABEL, parseOperatorConfig, renderAgentDaemonSet } from "../../../operator/index.ts";
import { RuntimeError } from "../../../runtime/index.ts";
import {
  configMapsPath,
  HttpKubeClient,
  loadKubeConfig,
  nodesPath,
  podsPath,
  xdpCountersPath,
} from "../../../runtime/kube/index.ts";
import { makeReport, makeXdpCounter } from "../../../testing/operator.ts";
import { exampleManifest, exampleName, expectNoXdpAnywhere, kubectlOk } from "../../scenario/index.ts";
import type { Cluster } from "./cluster.ts";
import type { CachedImage } from "./images/cache.ts";
import { pods, startTestCluster, until } from "./testing.ts";

const chart = join(import.meta.dirname, "..", "..", "..", "charts", "xdp-counter");
const NAMESPACE = "xdp-system";
const RELEASE = "xdp-counter";
// The release name contains the chart's, so it is the fullname: the names the chart and the operator use.
const AGENT_DAEMONSET = `${RELEASE}-agent`;
const AGENT_SPECS = `${RELEASE}-agent-specs`;
const AGENT_SA = `${RELEASE}-agent`;
const OPERATOR = `${RELEASE}-operator`;
const REPORT_POLICY = `${RELEASE}-agent-reports`;
const AGENT_PODS = "app.kubernetes.io/name=xdp-counter,app.kubernetes.io/component=agent";
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

interface ReportView {
  metadata: { name: string; ownerReferences?: { kind: string; name: string }[] };
  nodeName: string;
  phase: string;
  xdpCounter: { name: string };
  packets?: Record<string, string>;
}

/** The XdpCounter's reports, `kubectl get xdpcr -l xdpcounter.dev/xdpcounter=NAME`, as the user lists them. */
async function reports(xdpc: string): Promise<ReportView[]> {
  const out = await kubectlOk(c, ["get", "xdpcr", "-l", `xdpcounter.dev/xdpcounter=${xdpc}`, "-o", "json"]);
  return (JSON.parse(out) as { items: ReportView[] }).items;
}

interface Counts {
  /** packets.pass of each node's report (an absent action counted 0) */
  nodes: Record<string, bigint>;
  /** the XdpCounter's status.totals.packets.pass */
  total: bigint;
}

async function readCounts(xdpc: string): Promise<Counts> {
  const nodeCounts: Record<string, bigint> = {};
  for (const r of await reports(xdpc)) nodeCounts[r.nodeName] = BigInt(r.packets?.pass ?? 0);
  const status = await kubectlOk(c, [
    "get",
    "xdpcounter",
    xdpc,
    "-o",
    "jsonpath={.status.totals.packets.pass}",
  ]);
  return { nodes: nodeCounts, total: BigInt(status.trim() || 0) };
}

/**
 * Waits until each node's report shows exactly its count of passed packets, no other node has a report, and the
 * XdpCounter's totals are their sum; fails naming what it read last.
 */
async function expectExactCounts(xdpc: string, expected: Record<string, bigint>): Promise<void> {
  let last: Counts | undefined;
  const show = (k?: Counts) =>
    k
      ? `${Object.entries(k.nodes)
          .map(([n, v]) => `${n}=${v}`)
          .join(" ")} total=${k.total}`
      : "nothing";
  try {
    await until(
      `${xdpc}: ${Object.entries(expected)
        .map(([n, v]) => `${n}=${v}`)
        .join(" ")}`,
      async () => {
        const k = await readCounts(xdpc);
        last = k;
        const sum = Object.values(k.nodes).reduce((a, b) => a + b, 0n);
        return (
          Object.keys(k.nodes).sort().join() === Object.keys(expected).sort().join() &&
          Object.entries(expected).every(([n, v]) => k.nodes[n] === v) &&
          k.total === sum
        );
      },
      30_000,
    );
  } catch (err) {
    assert.fail(`${(err as Error).message}; last seen: ${show(last)}`);
  }
}

/** The nodes that carry the operator's agent placement label. */
async function labelledNodes(): Promise<string[]> {
  const out = await kubectlOk(c, ["get", "nodes", "-l", `${AGENT_NODE_LABEL}=true`, "-o", "name"]);
  return out
    .split("\n")
    .filter(Boolean)
    .map((n) => n.replace(/^node\//, ""))
    .sort();
}

/** A kubeconfig for the admin's cluster with `token` as its only credential (no client certificate). */
function tokenKubeconfig(file: string, token: string): string {
  const admin = parse(readFileSync(c.kubeconfig, "utf8")) as {
    clusters: { name: string; cluster: Record<string, unknown> }[];
  };
  const [cluster] = admin.clusters;
  assert.ok(cluster, "the admin kubeconfig names a cluster");
  const path = join(c.dir, file);
  writeFileSync(
    path,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [cluster],
      users: [{ name: "token", user: { token } }],
      contexts: [{ name: "token", context: { cluster: cluster.name, user: "token" } }],
      "current-context": "token",
    }),
    { mode: 0o600 },
  );
  return path;
}

/** The project's API client with a ServiceAccount token as its only credential: real requests, real answers. */
/** A token of the agents' ServiceAccount bound to the agent pod on `node`, as a running agent has (10 minutes). */
async function agentToken(node: string): Promise<string> {
  const agent = (await pods(c, NAMESPACE, AGENT_PODS)).find((p) => p.node === node);
  assert.ok(agent, `the agent on ${node}`);
  const token = await kubectlOk(c, [
    "create",
    "token",
    AGENT_SA,
    "-n",
    NAMESPACE,
    "--bound-object-kind",
    "Pod",
    "--bound-object-name",
    agent.name,
    "--duration",
    "10m",
  ]);
  return token.trim();
}

async function tokenClient(file: string, token: string): Promise<HttpKubeClient> {
  return new HttpKubeClient(await loadKubeConfig(readFileSync(tokenKubeconfig(file, token), "utf8")));
}

/** The sentence RBAC refuses a request with, naming the user, the verb, the resource and where. */
function rbacDenial(user: string, verb: string, resource: string, group: string, namespace?: string): string {
  const where = namespace ? `in the namespace "${namespace}"` : "at the cluster scope";
  return `User "${user}" cannot ${verb} resource "${resource}" in API group "${group}" ${where}`;
}

/** Sends one request that RBAC must refuse: 403, reason Forbidden, and the API server's message is `denial`. */
async function expectForbidden(what: string, request: Promise<unknown>, denial: string): Promise<void> {
  const error = await request.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error !== undefined, `${what}: allowed, where it must be refused (${denial})`);
  assert.ok(error instanceof RuntimeError, `${what}: ${String(error)}`);
  assert.equal(error.statusCode, 403, `${what}: ${error.message}`);
  assert.equal(error.reason, "Forbidden", `${what}: ${error.message}`);
  assert.ok(error.message.includes(denial), `${what}: expected ${denial}\nin: ${error.message}`);
}

/**
 * What Pod Security refused a pod for, from the API server's message (`violates PodSecurity "LEVEL:latest":
 * host namespaces (hostNetwork=true), hostPort (…)`): each check's name with its detail; empty if admitted.
 */
function podSecurityViolations(stderr: string, level: string): Record<string, string> {
  const message = stderr.replace(/\s+/g, " ");
  const marker = `violates PodSecurity "${level}:latest": `;
  const at = message.indexOf(marker);
  if (at < 0) return {};
  const found: Record<string, string> = {};
  for (const m of message.slice(at + marker.length).matchAll(/([^(),]+) \(([^()]*)\)/g))
    found[(m[1] ?? "").trim()] = m[2] ?? "";
  return found;
}

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
      // reports every second or two for the tests (one write a minute per node by default, docs/adr/0027)
      "--set",
      "agent.reportWritesPerMinute=600",
      "--wait",
      "--timeout",
      "120s",
    ]);
    assert.equal(r.code, 0, `helm install: ${r.stderr}`);
    // both CRDs, and the agents' report policy with its binding
    await kubectlOk(c, ["get", "crd", "xdpcounters.xdpcounter.dev", "xdpcounterreports.xdpcounter.dev"]);
    const policy = JSON.parse(
      await kubectlOk(c, ["get", "validatingadmissionpolicy", REPORT_POLICY, "-o", "json"]),
    ) as { spec: { matchConditions: { expression: string }[] } };
    assert.match(policy.spec.matchConditions[0]?.expression ?? "", new RegExp(`:${NAMESPACE}:${AGENT_SA}"$`));
    await kubectlOk(c, ["get", "validatingadmissionpolicybinding", REPORT_POLICY]);
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

  it("the example applied: the operator labels both nodes, one agent on each, as the chart's pod spec says, counting exact packets into the reports", async () => {
    await kubectlOk(c, ["apply", "-f", "-"], exampleManifest({ interfaces: ["eth1"], reportInterval: "1s" }));
    await until(
      "both nodes labelled for an agent",
      async () => (await labelledNodes()).join() === nodes.join(),
      60_000,
    );
    const agents = await until(
      "one Ready agent on each node",
      async () => {
        const ps = (await pods(c, NAMESPACE, AGENT_PODS)).filter(
          (p) => p.ready && nodes.includes(p.node) && p.ip === c.node(p.node).plan.ip,
        );
        return nodes.every((n) => ps.filter((p) => p.node === n).length === 1) ? ps : undefined;
      },
      120_000,
    );
    assert.equal(agents.length, nodes.length, "one agent per node, whatever the number of XdpCounters");
    // The one DaemonSet of the release, owned by the operator's Deployment (so helm uninstall takes it), and
    // the agents' ConfigMap beside it.
    const daemonSets = JSON.parse(
      await kubectlOk(c, ["get", "daemonsets", "-n", NAMESPACE, "-o", "json"]),
    ) as {
      items: { metadata: { name: string; ownerReferences?: { kind: string; name: string }[] } }[];
    };
    assert.deepEqual(
      daemonSets.items.map((d) => d.metadata.name),
      [AGENT_DAEMONSET],
    );
    assert.deepEqual(
      daemonSets.items[0]?.metadata.ownerReferences?.map((o) => `${o.kind}/${o.name}`),
      [`Deployment/${OPERATOR}`],
    );
    await kubectlOk(c, ["get", "configmap", "-n", NAMESPACE, AGENT_SPECS]);

    const spec = JSON.parse(
      await kubectlOk(c, ["get", "pod", "-n", NAMESPACE, agents[0]?.name ?? "", "-o", "json"]),
    ) as PodSpecView;
    const [container] = spec.spec.containers;
    assert.equal(spec.spec.hostNetwork, true);
    assert.equal(container?.image, image.name);
    assert.deepEqual(container?.securityContext, AGENT_SECURITY_CONTEXT);
    assert.ok(container?.livenessProbe && container.readinessProbe, "probes");
    const hostPaths = spec.spec.volumes.flatMap((v) => (v.hostPath ? [v.hostPath.path] : [])).sort();
    assert.deepEqual(hostPaths, ["/sys/fs/bpf"], "the pins' bpffs, and no other host path");
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

    // One report per node, written by that node's agent, owned by its Node (the garbage collector's hook).
    const sent: Record<string, bigint> = { "node-a": 0n, "node-b": 0n };
    await expectExactCounts(name, sent);
    for (const r of await reports(name)) {
      assert.equal(r.metadata.name, `${name}.${r.nodeName}`);
      assert.equal(r.phase, "Counting", `${r.metadata.name}`);
      assert.equal(r.xdpCounter.name, name);
      assert.deepEqual(
        r.metadata.ownerReferences?.map((o) => `${o.kind}/${o.name}`),
        [`Node/${r.nodeName}`],
      );
    }
    sent["node-a"] = (sent["node-a"] ?? 0n) + BigInt(await c.node("node-a").send(20_000, 64));
    sent["node-b"] = (sent["node-b"] ?? 0n) + BigInt(await c.node("node-b").send(7_777, 512));
    await expectExactCounts(name, sent);
  });

  it("the chart's admission policy refuses an agent's token another node's report (403), and a token of no pod any", async () => {
    // The agents' ServiceAccount, with a token bound to node-a's agent pod: the API server puts node-a into
    // the request's user info (authentication.kubernetes.io/node-name).
    const bound = await agentToken("node-a");
    const asAgentA = tokenKubeconfig("agent-a.kubeconfig", bound);
    // A report as an agent writes it (valid against the CRD, so nothing but admission refuses it), for an
    // XdpCounter that does not exist: nothing the real agents count is touched.
    const probe = makeXdpCounter("vap-probe", {}, undefined, { uid: "00000000-0000-0000-0000-00000000vap0" });
    const report = (node: string) => JSON.stringify(makeReport(probe, node));
    const write = (kubeconfig: string, node: string, extra: string[] = []) =>
      c.kubectl(["apply", "--server-side", "--field-manager=xdp-counter-agent", ...extra, "-f", "-"], {
        input: report(node),
        kubeconfig,
      });

    // its own node's: admitted (server-side dry run: admission runs, nothing is stored)
    const own = await write(asAgentA, "node-a", ["--dry-run=server"]);
    assert.equal(own.code, 0, `the agent on node-a writing node-a's report: ${own.stderr}`);

    // another node's: refused by the policy, 403 Forbidden, naming both nodes
    const other = await write(asAgentA, "node-b", ["-v=6"]); // -v=6: kubectl logs each response's status
    assert.notEqual(other.code, 0, `the agent on node-a wrote node-b's report: ${other.stdout}`);
    assert.match(other.stderr, /403 Forbidden/, other.stderr);
    assert.match(other.stderr, /Error from server \(Forbidden\)/, other.stderr);
    assert.match(other.stderr, new RegExp(`ValidatingAdmissionPolicy '${REPORT_POLICY}'`), other.stderr);
    assert.match(
      other.stderr,
      /the agent on node node-a may not write the report of node node-b/,
      other.stderr,
    );
    const status = await c.kubectl(["get", "xdpcr", "vap-probe.node-b", "-o", "name"]);
    assert.notEqual(status.code, 0, "no report was stored");

    // also a delete of another node's real report is refused
    const del = await c.kubectl(["delete", "xdpcr", `${name}.node-b`, "--wait=false"], {
      kubeconfig: asAgentA,
    });
    assert.notEqual(del.code, 0, `the agent on node-a deleted node-b's report: ${del.stdout}`);
    assert.match(del.stderr, /the agent on node node-a may not write the report of node node-b/, del.stderr);

    // a token of the same ServiceAccount bound to no pod names no node: refused for any node
    const unbound = (
      await kubectlOk(c, ["create", "token", AGENT_SA, "-n", NAMESPACE, "--duration", "10m"])
    ).trim();
    const byHand = await write(tokenKubeconfig("agent-unbound.kubeconfig", unbound), "node-a", [
      "--dry-run=server",
    ]);
    assert.notEqual(byHand.code, 0, `a token of no pod wrote a report: ${byHand.stdout}`);
    assert.match(byHand.stderr, /Forbidden/, byHand.stderr);
    assert.match(byHand.stderr, /an agent writes reports only with its pod's token/, byHand.stderr);
  });

  it("RBAC: the agent's token reads no Secret and writes no XdpCounter (403 for each); it reads its Node and its ConfigMap", async () => {
    // the token a running agent has: the agents' ServiceAccount, bound to its pod
    const token = await agentToken("node-a");
    const agent = await tokenClient("agent-rbac.kubeconfig", token);
    const user = `system:serviceaccount:${NAMESPACE}:${AGENT_SA}`;
    try {
      // allowed, so a refusal below is RBAC's and not a broken token: its Node and the agents' ConfigMap
      assert.equal((await agent.get(nodesPath("node-a")))?.metadata.name, "node-a");
      assert.equal((await agent.get(configMapsPath(NAMESPACE, AGENT_SPECS)))?.metadata.name, AGENT_SPECS);

      // Secrets: one in the release namespace and one in default, by name and by list, and all of them
      for (const ns of [NAMESPACE, "default"])
        await kubectlOk(c, ["create", "secret", "generic", "xdp-probe", "-n", ns, "--from-literal=k=v"]);
      for (const ns of [NAMESPACE, "default"]) {
        await expectForbidden(
          `the agent gets Secret ${ns}/xdp-probe`,
          agent.get(`/api/v1/namespaces/${ns}/secrets/xdp-probe`),
          rbacDenial(user, "get", "secrets", "", ns),
        );
        await expectForbidden(
          `the agent lists the Secrets of ${ns}`,
          agent.list(`/api/v1/namespaces/${ns}/secrets`),
          rbacDenial(user, "list", "secrets", "", ns),
        );
      }
      await expectForbidden(
        "the agent lists the Secrets of every namespace",
        agent.list("/api/v1/secrets"),
        rbacDenial(user, "list", "secrets", "", undefined),
      );

      // XdpCounters: no access at all (docs/adr/0021), so no way to change what any node counts
      const before = JSON.parse(await kubectlOk(c, ["get", "xdpcounter", name, "-o", "json"])) as {
        metadata: { generation: number; resourceVersion: string };
        spec: Record<string, unknown>;
      };
      const path = xdpCountersPath(name);
      const changed = { ...before.spec, action: "drop" };
      const xdpc = (verb: string, resource = "xdpcounters") =>
        rbacDenial(user, verb, resource, "xdpcounter.dev", undefined);
      await expectForbidden(`the agent gets XdpCounter ${name}`, agent.get(path), xdpc("get"));
      await expectForbidden(
        `the agent merge-patches XdpCounter ${name}'s spec`,
        agent.patch(path, { spec: { action: "drop" } }, "merge"),
        xdpc("patch"),
      );
      await expectForbidden(
        `the agent applies XdpCounter ${name}'s spec (server-side apply)`,
        agent.patch(
          path,
          { apiVersion: "xdpcounter.dev/v1alpha1", kind: "XdpCounter", metadata: { name }, spec: changed },
          "apply",
          { fieldManager: "xdp-counter-agent", force: true },
        ),
        xdpc("patch"),
      );
      await expectForbidden(
        `the agent replaces XdpCounter ${name}`,
        agent.replace(path, {
          apiVersion: "xdpcounter.dev/v1alpha1",
          kind: "XdpCounter",
          metadata: { name, resourceVersion: before.metadata.resourceVersion },
          spec: changed,
        }),
        xdpc("update"),
      );
      await expectForbidden(
        `the agent patches XdpCounter ${name}'s status`,
        agent.patch(xdpCountersPath(name, "status"), { status: { readyNodes: 0 } }, "merge"),
        xdpc("patch", "xdpcounters/status"),
      );
      await expectForbidden(
        "the agent creates an XdpCounter",
        agent.create(xdpCountersPath(), {
          apiVersion: "xdpcounter.dev/v1alpha1",
          kind: "XdpCounter",
          metadata: { name: "agent-made" },
          spec: changed,
        }),
        xdpc("create"),
      );
      await expectForbidden(`the agent deletes XdpCounter ${name}`, agent.delete(path), xdpc("delete"));
      const after = JSON.parse(
        await kubectlOk(c, ["get", "xdpcounter", name, "-o", "json"]),
      ) as typeof before;
      assert.equal(after.metadata.generation, before.metadata.generation, "the spec is unchanged");
      assert.deepEqual(after.spec, before.spec);
    } finally {
      agent.close();
      for (const ns of [NAMESPACE, "default"])
        await c.kubectl(["delete", "secret", "xdp-probe", "-n", ns, "--ignore-not-found"]);
    }
  });

  it("RBAC: the operator's token may not exec into a pod nor read a Secret (403 for each); it lists its pods", async () => {
    const token = (
      await kubectlOk(c, ["create", "token", OPERATOR, "-n", NAMESPACE, "--duration", "10m"])
    ).trim();
    const operator = await tokenClient("operator-rbac.kubeconfig", token);
    const user = `system:serviceaccount:${NAMESPACE}:${OPERATOR}`;
    try {
      // allowed: the pods of its namespace (an agent is ready when its pod is)
      const listed = (await operator.list(podsPath(NAMESPACE))).items.map((p) => p.metadata.name);
      const [agent] = await pods(c, NAMESPACE, AGENT_PODS);
      assert.ok(
        agent && listed.includes(agent.name),
        `the operator lists ${agent?.name}: ${listed.join(", ")}`,
      );

      // exec into an agent (root with CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON on the host network): kubectl as a
      // user runs it is refused, and so is the exec subresource itself, in both its forms (POST; GET, which a
      // WebSocket upgrade sends)
      const kubeconfig = tokenKubeconfig("operator-exec.kubeconfig", token);
      const exec = await c.kubectl(["exec", "-n", NAMESPACE, agent.name, "--", "id"], { kubeconfig });
      assert.notEqual(exec.code, 0, `the operator ran kubectl exec: ${exec.stdout}`);
      // (kubectl reads the pod first, which the operator may only list)
      assert.match(exec.stderr, /Error from server \(Forbidden\)/, exec.stderr);
      assert.ok(exec.stderr.includes(rbacDenial(user, "get", "pods", "", NAMESPACE)), exec.stderr);
      const execPath = `${podsPath(NAMESPACE)}/${agent.name}/exec?command=id&stdout=true`;
      await expectForbidden(
        `the operator creates pods/exec on ${agent.name}`,
        operator.create(execPath, {}),
        rbacDenial(user, "create", "pods/exec", "", NAMESPACE),
      );
      await expectForbidden(
        `the operator gets pods/exec on ${agent.name}`,
        operator.get(execPath),
        rbacDenial(user, "get", "pods/exec", "", NAMESPACE),
      );

      // Secrets, in its own namespace (where Helm keeps the release) and anywhere
      await kubectlOk(c, ["create", "secret", "generic", "xdp-probe", "-n", NAMESPACE, "--from-literal=k=v"]);
      await expectForbidden(
        `the operator gets Secret ${NAMESPACE}/xdp-probe`,
        operator.get(`/api/v1/namespaces/${NAMESPACE}/secrets/xdp-probe`),
        rbacDenial(user, "get", "secrets", "", NAMESPACE),
      );
      await expectForbidden(
        `the operator lists the Secrets of ${NAMESPACE}`,
        operator.list(`/api/v1/namespaces/${NAMESPACE}/secrets`),
        rbacDenial(user, "list", "secrets", "", NAMESPACE),
      );
      await expectForbidden(
        "the operator lists the Secrets of every namespace",
        operator.list("/api/v1/secrets"),
        rbacDenial(user, "list", "secrets", "", undefined),
      );
    } finally {
      operator.close();
      await c.kubectl(["delete", "secret", "xdp-probe", "-n", NAMESPACE, "--ignore-not-found"]);
    }
  });

  it("the running containers: read-only root filesystem (a write to / fails), no privilege escalation; the operator non-root", async () => {
    const operators = await pods(c, NAMESPACE, "app.kubernetes.io/component=operator");
    const agents = await pods(c, NAMESPACE, AGENT_PODS);
    assert.equal(operators.length, 1, "one operator");
    assert.equal(agents.length, nodes.length, "one agent per node");
    for (const pod of [...operators, ...agents]) {
      const isOperator = pod === operators[0];
      const spec = JSON.parse(
        await kubectlOk(c, ["get", "pod", "-n", NAMESPACE, pod.name, "-o", "json"]),
      ) as {
        spec: {
          securityContext?: { runAsNonRoot?: boolean };
          containers: { securityContext?: Record<string, unknown> }[];
        };
      };
      const sc = spec.spec.containers[0]?.securityContext ?? {};
      assert.equal(sc.readOnlyRootFilesystem, true, `${pod.name}: readOnlyRootFilesystem`);
      assert.equal(sc.allowPrivilegeEscalation, false, `${pod.name}: allowPrivilegeEscalation`);
      const execIn = (argv: string[]) => c.kubectl(["exec", "-n", NAMESPACE, pod.name, "--", ...argv]);

      // the container's / is mounted read-only, and the kernel says so to a write: EROFS, whoever writes (the
      // operator would otherwise get EACCES, the agent, root and owner of /, would succeed)
      const mountinfo = await kubectlOk(c, [
        "exec",
        "-n",
        NAMESPACE,
        pod.name,
        "--",
        "cat",
        "/proc/1/mountinfo",
      ]);
      const root = mountinfo.split("\n").find((l) => l.split(" ")[4] === "/");
      assert.ok(root?.split(" ")[5]?.split(",").includes("ro"), `${pod.name}: / mounted ro: ${root}`);
      for (const file of ["/xdp-write-probe", "/app/xdp-write-probe"]) {
        const write = await execIn(["touch", file]);
        assert.notEqual(write.code, 0, `${pod.name} wrote ${file}`);
        assert.match(write.stderr, /Read-only file system/, `${pod.name}: ${file}: ${write.stderr}`);
      }
      // no_new_privs: setuid binaries and file capabilities grant nothing
      const status = await kubectlOk(c, ["exec", "-n", NAMESPACE, pod.name, "--", "cat", "/proc/1/status"]);
      assert.match(status, /^NoNewPrivs:\s*1$/m, `${pod.name}: NoNewPrivs`);

      if (isOperator) {
        assert.equal(
          sc.runAsNonRoot ?? spec.spec.securityContext?.runAsNonRoot,
          true,
          `${pod.name}: runAsNonRoot`,
        );
        const uid = (await kubectlOk(c, ["exec", "-n", NAMESPACE, pod.name, "--", "id", "-u"])).trim();
        assert.equal(uid, "65532", `${pod.name}: the operator's uid`);
        // real, effective, saved and filesystem uid: none is root
        const uids = /^Uid:\s*(.+)$/m.exec(status)?.[1]?.trim().split(/\s+/) ?? [];
        assert.deepEqual(uids, ["65532", "65532", "65532", "65532"], `${pod.name}: ${uids.join(" ")}`);
        assert.match(status, /^CapEff:\s*0+$/m, `${pod.name}: no capability`);
        // and it can write where it should: its /tmp (an emptyDir), so the refusal above is the root's alone
        const tmp = await execIn(["touch", "/tmp/xdp-write-probe"]);
        assert.equal(tmp.code, 0, `${pod.name}: /tmp: ${tmp.stderr}`);
        await execIn(["rm", "-f", "/tmp/xdp-write-probe"]);
      }
    }
  });

  it("Pod Security: baseline refuses the agent's pod for its host network, host port, host path and capabilities", async () => {
    // Why the README labels the namespace privileged: the agent's pod as rendered, dry-run into a namespace
    // at the baseline level, is refused for exactly these (docs/adr/0020).
    await kubectlOk(c, ["create", "namespace", "xdp-baseline"]);
    await kubectlOk(c, ["label", "namespace", "xdp-baseline", "pod-security.kubernetes.io/enforce=baseline"]);
    const config = parseOperatorConfig({
      XDP_COUNTER_NAMESPACE: "xdp-baseline",
      XDP_COUNTER_AGENT_IMAGE: image.name,
    });
    const template = renderAgentDaemonSet(config).spec.template;
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
    assert.match(message, /hostPath volumes \(volume "bpffs"\)/);
    assert.match(
      message,
      /non-default capabilities \(container "agent" must not include "BPF", "NET_ADMIN", "PERFMON" in securityContext.capabilities.add\)/,
    );
    assert.doesNotMatch(message, /privileged \(container/, "not for privileged: the agent is not");
    // and for nothing else
    assert.deepEqual(Object.keys(podSecurityViolations(r.stderr, "baseline")).sort(), [
      "host namespaces",
      "hostPath volumes",
      "hostPort",
      "non-default capabilities",
    ]);
    await kubectlOk(c, ["delete", "namespace", "xdp-baseline", "--wait=false"]);
  });

  it("Pod Security: each of the agent's host network, bpffs host path and three capabilities alone needs privileged; without them baseline admits its pod", async () => {
    // The agent's pod as the operator made it (its DaemonSet's template, with the API server's defaults), into
    // a namespace at the baseline level, with one host-level field at a time: which field forces privileged.
    await kubectlOk(c, ["create", "namespace", "xdp-fields"]);
    await kubectlOk(c, ["label", "namespace", "xdp-fields", "pod-security.kubernetes.io/enforce=baseline"]);
    try {
      type Spec = {
        serviceAccountName: string;
        hostNetwork?: boolean;
        dnsPolicy?: string;
        volumes?: { name: string }[];
        containers: {
          ports?: { hostPort?: number }[];
          volumeMounts?: { name: string }[];
          securityContext: { capabilities: { add?: string[] } };
        }[];
      };
      const ds = JSON.parse(
        await kubectlOk(c, ["get", "daemonset", "-n", NAMESPACE, AGENT_DAEMONSET, "-o", "json"]),
      ) as { spec: { template: { spec: Spec } } };
      const live = ds.spec.template.spec;
      await kubectlOk(c, ["create", "serviceaccount", "-n", "xdp-fields", live.serviceAccountName]);
      const [container] = live.containers;
      assert.deepEqual(container?.securityContext.capabilities.add, ["BPF", "NET_ADMIN", "PERFMON"]);
      assert.ok(live.hostNetwork, "the agent's pod uses the host network");
      // none of them: no host network (nor the hostPort the API server makes of its port with it), no host path,
      // no added capability
      const bare = (): Spec => {
        const spec = structuredClone(live);
        delete spec.hostNetwork;
        spec.dnsPolicy = "ClusterFirst";
        spec.volumes = [];
        for (const ctr of spec.containers) {
          ctr.volumeMounts = [];
          for (const port of ctr.ports ?? []) delete port.hostPort;
          ctr.securityContext.capabilities.add = [];
        }
        return spec;
      };
      const admit = (what: string, spec: Spec) =>
        c
          .kubectl(["create", "--dry-run=server", "-f", "-"], {
            input: JSON.stringify({
              apiVersion: "v1",
              kind: "Pod",
              metadata: { name: "agent", namespace: "xdp-fields" },
              spec,
            }),
          })
          .then((r) => ({ what, ...r }));

      const none = await admit("no host-level field", bare());
      assert.equal(none.code, 0, `baseline refuses the agent's pod without them: ${none.stderr}`);

      const cases: { what: string; spec: Spec; expected: Record<string, RegExp> }[] = [
        {
          what: "hostNetwork",
          spec: { ...bare(), hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" },
          expected: {
            "host namespaces": /^hostNetwork=true$/,
            // with the host network, the API server makes the agent's containerPort a hostPort
            hostPort: /^container "agent" uses hostPort \d+$/,
          },
        },
        ...(live.volumes ?? []).map((volume) => {
          const spec = bare();
          spec.volumes = [volume];
          return {
            what: `hostPath volume ${volume.name}`,
            spec,
            expected: { "hostPath volumes": new RegExp(`^volume "${volume.name}"$`) },
          };
        }),
        ...(container?.securityContext.capabilities.add ?? []).map((capability) => {
          const spec = bare();
          for (const ctr of spec.containers) ctr.securityContext.capabilities.add = [capability];
          return {
            what: `CAP_${capability}`,
            spec,
            expected: {
              "non-default capabilities": new RegExp(
                `^container "agent" must not include "${capability}" in securityContext.capabilities.add$`,
              ),
            },
          };
        }),
      ];
      assert.deepEqual(
        cases.map((k) => k.what),
        ["hostNetwork", "hostPath volume bpffs", "CAP_BPF", "CAP_NET_ADMIN", "CAP_PERFMON"],
      );
      for (const k of cases) {
        const r = await admit(k.what, k.spec);
        assert.notEqual(r.code, 0, `baseline admits the agent's pod with ${k.what}`);
        const found = podSecurityViolations(r.stderr, "baseline");
        assert.deepEqual(Object.keys(found).sort(), Object.keys(k.expected).sort(), `${k.what}: ${r.stderr}`);
        for (const [check, detail] of Object.entries(k.expected))
          assert.match(found[check] ?? "", detail, `${k.what}: ${check}`);
      }
    } finally {
      await c.kubectl(["delete", "namespace", "xdp-fields", "--wait=false"]);
    }
  });

  it("Pod Security: the operator's pod is admitted under restricted; at restricted or baseline the release namespace would refuse the agents only", async () => {
    await kubectlOk(c, ["create", "namespace", "xdp-restricted"]);
    await kubectlOk(c, [
      "label",
      "namespace",
      "xdp-restricted",
      "pod-security.kubernetes.io/enforce=restricted",
    ]);
    try {
      // the operator's pod as Helm installed its Deployment
      const deployment = JSON.parse(
        await kubectlOk(c, ["get", "deployment", "-n", NAMESPACE, OPERATOR, "-o", "json"]),
      ) as {
        spec: {
          template: {
            spec: { serviceAccountName: string; containers: { securityContext: Record<string, unknown> }[] };
          };
        };
      };
      const spec = deployment.spec.template.spec;
      await kubectlOk(c, ["create", "serviceaccount", "-n", "xdp-restricted", spec.serviceAccountName]);
      const create = (podSpec: typeof spec) =>
        c.kubectl(["create", "--dry-run=server", "-f", "-"], {
          input: JSON.stringify({
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "operator", namespace: "xdp-restricted" },
            spec: podSpec,
          }),
        });
      const admitted = await create(spec);
      assert.equal(admitted.code, 0, `restricted refuses the operator's pod: ${admitted.stderr}`);
      assert.doesNotMatch(admitted.stderr, /Warning/, admitted.stderr);
      // the level is enforced: the same pod allowed to gain privileges is refused
      const escalating = structuredClone(spec);
      for (const ctr of escalating.containers) ctr.securityContext.allowPrivilegeEscalation = true;
      const refused = await create(escalating);
      assert.notEqual(refused.code, 0, "restricted admits a pod that may gain privileges");
      assert.deepEqual(Object.keys(podSecurityViolations(refused.stderr, "restricted")), [
        "allowPrivilegeEscalation != false",
      ]);
    } finally {
      await c.kubectl(["delete", "namespace", "xdp-restricted", "--wait=false"]);
    }

    // The running pods of the release, checked by the API server against a stricter level for the release
    // namespace (a server-side dry run of the label: nothing changes): it names the agents, never the operator.
    const [operator] = await pods(c, NAMESPACE, "app.kubernetes.io/component=operator");
    const agents = await pods(c, NAMESPACE, AGENT_PODS);
    assert.ok(operator && agents.length === nodes.length, "the operator and an agent per node run");
    for (const [level, violations] of [
      [
        "restricted",
        "host namespaces, hostPort, unrestricted capabilities, restricted volume types, runAsNonRoot != true, runAsUser=0",
      ],
      ["baseline", "non-default capabilities, host namespaces, hostPath volumes, hostPort"],
    ] as const) {
      const r = await c.kubectl([
        "label",
        "--dry-run=server",
        "--overwrite",
        "namespace",
        NAMESPACE,
        `pod-security.kubernetes.io/enforce=${level}`,
      ]);
      // only warnings: the label itself is valid
      assert.equal(r.code, 0, r.stderr);
      const warnings = r.stderr
        .split("\n")
        .filter((l) => l.startsWith("Warning: "))
        .map((l) => l.slice("Warning: ".length));
      assert.equal(
        warnings[0],
        `existing pods in namespace "${NAMESPACE}" violate the new PodSecurity enforce level "${level}:latest"`,
        r.stderr,
      );
      // the agents share their violations, so the API server names one of them and counts the others
      const others = agents.length - 1;
      const named = new RegExp(
        `^(${agents.map((a) => a.name).join("|")})${others ? ` \\(and ${others} other pods?\\)` : ""}: (.+)$`,
      );
      assert.equal(warnings.length, 2, r.stderr);
      const m = named.exec(warnings[1] ?? "");
      assert.ok(m, `the agents and only them: ${r.stderr}`);
      assert.deepEqual(m[2]?.split(", ").sort(), violations.split(", ").sort(), `${level}: ${r.stderr}`);
      assert.ok(!r.stderr.includes(operator.name), `${level} admits the operator: ${r.stderr}`);
    }
    const label = await kubectlOk(c, [
      "get",
      "namespace",
      NAMESPACE,
      "-o",
      "jsonpath={.metadata.labels.pod-security\\.kubernetes\\.io/enforce}",
    ]);
    assert.equal(label, "privileged", "the dry runs changed nothing");
  });

  it("deleting the XdpCounter leaves no XDP program, no pin, no report, no label and no agent; helm uninstall leaves nothing", async () => {
    await kubectlOk(c, ["delete", "xdpcounter", name, "--wait=true", "--timeout=90s"]);
    // the finalizer went only once every report was gone: each agent detached and unpinned first
    assert.deepEqual(await reports(name), []);
    await expectNoXdpAnywhere(c, nodes);
    // nothing selects the nodes any more: the operator takes its label off, the DaemonSet its pods
    await until("no node labelled for an agent", async () => (await labelledNodes()).length === 0, 60_000);
    await until("no agent pod left", async () => (await pods(c, NAMESPACE, AGENT_PODS)).length === 0, 60_000);

    const r = await c.helm(["uninstall", RELEASE, "--namespace", NAMESPACE, "--wait", "--timeout", "90s"]);
    assert.equal(r.code, 0, `helm uninstall: ${r.stderr}`);
    await until(
      "no pod left in the release namespace",
      async () => (await pods(c, NAMESPACE)).length === 0,
      60_000,
    );
    // The DaemonSet and the ConfigMap the operator made go with its Deployment (their owner), through the
    // garbage collector; the chart's own objects with the release.
    const left = async () =>
      (
        await kubectlOk(c, [
          "get",
          "daemonsets,configmaps,deployments,serviceaccounts,roles,rolebindings,leases",
          "-n",
          NAMESPACE,
          "-o",
          "name",
        ])
      )
        .split("\n")
        // the namespace's own; the leader election Lease is owned by the operator's Deployment and goes too
        .filter((l) => l && l !== "configmap/kube-root-ca.crt" && l !== "serviceaccount/default");
    await until(
      "nothing of the release left in its namespace",
      async () => (await left()).length === 0,
      60_000,
    ).catch(async (err: Error) => assert.fail(`${err.message}: ${(await left()).join(", ")}`));
    const cluster = await kubectlOk(c, [
      "get",
      "clusterroles,clusterrolebindings,validatingadmissionpolicies,validatingadmissionpolicybindings",
      "-l",
      `app.kubernetes.io/instance=${RELEASE}`,
      "-o",
      "name",
    ]);
    assert.equal(cluster.trim(), "", "no cluster-wide object of the release");
    assert.notEqual((await c.kubectl(["get", "validatingadmissionpolicy", REPORT_POLICY])).code, 0);
    assert.equal((await kubectlOk(c, ["get", "xdpcr", "-o", "name"])).trim(), "", "no report at all");
  });
});
