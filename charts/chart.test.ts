// The Helm chart, rendered by the pinned Helm 4 (no cluster needed): lint, default and edge-case values,
// values the schema must refuse, the exact RBAC the operator and the agents get, and the admission policy that
// keeps each agent to its own node's reports.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { AGENT_RBAC_RULES, agentNamespaceRules, agentReportPolicy } from "../agent/cluster/rbac.ts";
import { ensureTools } from "../e2e/local/tools.ts";
import {
  OPERATOR_CLUSTER_RULES,
  OPERATOR_EVENTS_NAMESPACE,
  OPERATOR_EVENTS_RULES,
  OPERATOR_NAMESPACE_RULES,
} from "../operator/controller/rbac.ts";
import { parseOperatorConfig, renderAgentDaemonSet, SETTINGS } from "../operator/index.ts";

const root = join(import.meta.dirname, "..");
const chart = join(root, "charts", "xdp-counter");
const namespace = "xdp-system";

type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are checked field by field below
  [key: string]: any;
};
type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
type EnvVar = { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } };

let helm = "";
let scratch = "";

before(() => {
  helm = ensureTools(root).helm;
  scratch = mkdtempSync(join(tmpdir(), "xdp-counter-chart-"));
});
after(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function runHelm(args: string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(helm, args, {
    encoding: "utf8",
    env: { ...process.env, HELM_CACHE_HOME: scratch },
  });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

let valuesFiles = 0;
/** Values as YAML text in a file, so types are exactly what a user's values file would give. */
function valuesFile(text: string): string {
  const path = join(scratch, `values-${valuesFiles++}.yaml`);
  writeFileSync(path, text);
  return path;
}

function template(values = "", release = "xdpc", extra: string[] = []): Manifest[] {
  const args = ["template", release, chart, "--namespace", namespace, ...extra];
  if (values) args.push("--values", valuesFile(values));
  const result = runHelm(args);
  assert.equal(result.status, 0, `helm template failed:\n${result.stderr}`);
  return parseAllDocuments(result.stdout)
    .map((doc) => {
      assert.deepEqual(doc.errors, [], "rendered YAML must parse");
      return doc.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null);
}

function refused(values: string): string {
  const result = runHelm(["template", "xdpc", chart, "--values", valuesFile(values)]);
  assert.notEqual(result.status, 0, `values were accepted:\n${values}`);
  return result.stderr;
}

function find(manifests: Manifest[], kind: string, nameSuffix = ""): Manifest {
  const found = manifests.filter((m) => m.kind === kind && m.metadata.name.endsWith(nameSuffix));
  assert.equal(found.length, 1, `exactly one ${kind} named *${nameSuffix}`);
  return found[0] as Manifest;
}

function kinds(manifests: Manifest[]): string[] {
  return manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort();
}

function sortedRules(rules: Rule[]): Rule[] {
  return rules
    .map((r) => ({ ...r, apiGroups: [...r.apiGroups].sort(), verbs: [...r.verbs].sort() }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/** Declared rules (readonly, `as const`) as the plain arrays a rendered manifest has. */
type DeclaredRule = {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
};
function mutable(rules: readonly DeclaredRule[]): Rule[] {
  return rules.map((r) => ({
    apiGroups: [...r.apiGroups],
    resources: [...r.resources],
    ...(r.resourceNames ? { resourceNames: [...r.resourceNames] } : {}),
    verbs: [...r.verbs],
  }));
}

function operatorContainer(manifests: Manifest[]): Manifest {
  return find(manifests, "Deployment", "-operator").spec.template.spec.containers[0];
}

/** The operator's environment as the kubelet would give it, downward API resolved. */
function operatorEnv(manifests: Manifest[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of operatorContainer(manifests).env as EnvVar[]) {
    if (variable.value !== undefined) env[variable.name] = variable.value;
    else if (variable.valueFrom?.fieldRef?.fieldPath === "metadata.namespace") env[variable.name] = namespace;
    else if (variable.valueFrom?.fieldRef?.fieldPath === "metadata.name")
      env[variable.name] = "operator-pod-0";
    else assert.fail(`unexpected env source for ${variable.name}`);
  }
  return env;
}

describe("chart files", () => {
  it("passes helm lint --strict, with default values and with every optional part on", () => {
    for (const extra of [
      [],
      [
        "--set",
        "serviceMonitor.enabled=true,metrics.service.enabled=true,operator.replicas=2,prometheusRule.enabled=true,grafanaDashboard.enabled=true",
      ],
      ["--set", "serviceAccount.agent.create=false,serviceAccount.agent.name=sa,rbac.create=false"],
    ]) {
      const result = runHelm(["lint", "--strict", chart, ...extra]);
      assert.equal(result.status, 0, `helm lint ${extra.join(" ")}:\n${result.stdout}${result.stderr}`);
    }
  });

  it("ships both CRDs (XdpCounter and XdpCounterReport) byte for byte as crds/ has them, and nothing else", () => {
    const names = readdirSync(join(root, "crds")).sort();
    assert.deepEqual(names, ["xdpcounterreports.xdpcounter.dev.yaml", "xdpcounters.xdpcounter.dev.yaml"]);
    assert.deepEqual(readdirSync(join(chart, "crds")).sort(), names);
    for (const name of names) {
      const top = readFileSync(join(root, "crds", name), "utf8");
      const inChart = readFileSync(join(chart, "crds", name), "utf8");
      assert.ok(
        top === inChart,
        `charts/xdp-counter/crds/${name} differs from crds/${name}: cp crds/${name} charts/xdp-counter/crds/`,
      );
    }
  });

  it("has a comment above every value in values.yaml", () => {
    const lines = readFileSync(join(chart, "values.yaml"), "utf8").split("\n");
    lines.forEach((line, i) => {
      if (!/^\s*[A-Za-z][\w-]*:/.test(line)) return;
      const above = lines[i - 1] ?? "";
      assert.match(above, /^\s*#/, `values.yaml line ${i + 1} (${line.trim()}) has no comment above it`);
    });
  });
});

describe("default values", () => {
  it("renders the operator, its RBAC, the agents' service account, RBAC and report policy, nothing else", () => {
    // No DaemonSet: the operator creates the one agent DaemonSet (and the agents' ConfigMap) itself.
    assert.deepEqual(kinds(template()), [
      "ClusterRole/xdpc-xdp-counter-agent",
      "ClusterRole/xdpc-xdp-counter-operator",
      "ClusterRoleBinding/xdpc-xdp-counter-agent",
      "ClusterRoleBinding/xdpc-xdp-counter-operator",
      "Deployment/xdpc-xdp-counter-operator",
      "Role/xdpc-xdp-counter-agent",
      "Role/xdpc-xdp-counter-operator",
      "Role/xdpc-xdp-counter-operator-events",
      "RoleBinding/xdpc-xdp-counter-agent",
      "RoleBinding/xdpc-xdp-counter-operator",
      "RoleBinding/xdpc-xdp-counter-operator-events",
      "ServiceAccount/xdpc-xdp-counter-agent",
      "ServiceAccount/xdpc-xdp-counter-operator",
      "ValidatingAdmissionPolicy/xdpc-xdp-counter-agent-reports",
      "ValidatingAdmissionPolicyBinding/xdpc-xdp-counter-agent-reports",
    ]);
  });

  it("elects a leader through a Lease named for the release, and rolls replicas over", () => {
    const manifests = template();
    const deployment = find(manifests, "Deployment", "-operator");
    assert.equal(deployment.spec.replicas, 1);
    assert.deepEqual(deployment.spec.strategy, { type: "RollingUpdate" });
    const env = operatorEnv(manifests);
    assert.equal(env.XDP_COUNTER_LEADER_ELECT, "true");
    assert.equal(env.XDP_COUNTER_LEASE_NAME, "xdpc-xdp-counter-operator");
    assert.equal(env.POD_NAME, "operator-pod-0");

    const single = template("operator:\n  leaderElection:\n    enabled: false\n");
    assert.deepEqual(find(single, "Deployment").spec.strategy, { type: "Recreate" });
    assert.equal(operatorEnv(single).XDP_COUNTER_LEADER_ELECT, "false");
    assert.equal(find(template("operator:\n  replicas: 2\n"), "Deployment").spec.replicas, 2);
  });

  it("gives each node a budget of one report write a minute by default, which reaches the agents", () => {
    const config = parseOperatorConfig(operatorEnv(template()));
    assert.equal(config.agentReportWritesPerMinute, 1);
    const agent = renderAgentDaemonSet(config).spec.template.spec.containers[0];
    assert.deepEqual(
      agent?.env.find((e) => e.name === "XDP_COUNTER_REPORT_WRITES_PER_MINUTE"),
      { name: "XDP_COUNTER_REPORT_WRITES_PER_MINUTE", value: "1" },
    );
  });

  // The agent and the operator declare the rules they need beside the code that makes the calls; the chart
  // is checked against those declarations, exactly: nothing missing, nothing more.
  it("gives the operator exactly the rules operator/controller/rbac.ts declares", () => {
    const manifests = template();
    const cluster = find(manifests, "ClusterRole", "-operator");
    assert.deepEqual(sortedRules(cluster.rules), sortedRules(mutable(OPERATOR_CLUSTER_RULES)));
    const role = find(manifests, "Role", "-operator");
    assert.equal(role.metadata.namespace, namespace);
    assert.deepEqual(sortedRules(role.rules), sortedRules(mutable(OPERATOR_NAMESPACE_RULES)));
    // Events about cluster-scoped XdpCounters go to default: a Role there, not a cluster-wide grant.
    const events = find(manifests, "Role", "-operator-events");
    assert.equal(events.metadata.namespace, OPERATOR_EVENTS_NAMESPACE);
    assert.equal(events.metadata.namespace, "default");
    assert.deepEqual(sortedRules(events.rules), sortedRules(mutable(OPERATOR_EVENTS_RULES)));
    // No delete of the DaemonSet or the ConfigMap: the garbage collector takes them with the Deployment.
    for (const rule of role.rules as Rule[]) assert.ok(!rule.verbs.includes("delete"), rule.resources.join());
  });

  it("gives the agents exactly the rules agent/cluster/rbac.ts declares: nodes, reports, their ConfigMap", () => {
    const manifests = template();
    assert.deepEqual(
      sortedRules(find(manifests, "ClusterRole", "-agent").rules),
      sortedRules(mutable(AGENT_RBAC_RULES)),
    );
    const role = find(manifests, "Role", "-agent");
    assert.equal(role.metadata.namespace, namespace);
    // The Role names the ConfigMap the operator is told to write (XDP_COUNTER_AGENT_SPECS).
    const specs = operatorEnv(manifests).XDP_COUNTER_AGENT_SPECS ?? "";
    assert.equal(specs, "xdpc-xdp-counter-agent-specs");
    assert.deepEqual(sortedRules(role.rules), sortedRules(mutable(agentNamespaceRules(specs))));
    // No other Role or binding grants the agents anything.
    const agentBindings = manifests.filter(
      (m) =>
        (m.kind === "RoleBinding" || m.kind === "ClusterRoleBinding") &&
        (m.subjects as { name: string }[]).some((s) => s.name === "xdpc-xdp-counter-agent"),
    );
    assert.deepEqual(agentBindings.map((b) => `${b.kind}→${b.roleRef.kind}/${b.roleRef.name}`).sort(), [
      "ClusterRoleBinding→ClusterRole/xdpc-xdp-counter-agent",
      "RoleBinding→Role/xdpc-xdp-counter-agent",
    ]);
  });

  it("lets the agents write only their own node's reports: the policy agent/cluster/rbac.ts renders", () => {
    for (const [values, account] of [
      ["", "xdpc-xdp-counter-agent"],
      ["serviceAccount:\n  agent:\n    create: false\n    name: existing-agent\n", "existing-agent"],
    ] as const) {
      const manifests = template(values);
      const expected = agentReportPolicy({
        name: "xdpc-xdp-counter-agent-reports",
        serviceAccount: { namespace, name: account },
      });
      for (const [kind, want] of [
        ["ValidatingAdmissionPolicy", expected.policy],
        ["ValidatingAdmissionPolicyBinding", expected.binding],
      ] as const) {
        const { labels, ...metadata } = find(manifests, kind).metadata;
        assert.equal(labels?.["app.kubernetes.io/component"], "agent");
        assert.deepEqual(
          { ...find(manifests, kind), metadata },
          JSON.parse(JSON.stringify(want)),
          `${kind} as agentReportPolicy renders it`,
        );
      }
    }
  });

  it("binds each role to its own service account in the release namespace", () => {
    const manifests = template();
    for (const [kind, suffix] of [
      ["ClusterRoleBinding", "-operator"],
      ["RoleBinding", "-operator"],
      ["RoleBinding", "-operator-events"],
      ["ClusterRoleBinding", "-agent"],
      ["RoleBinding", "-agent"],
    ] as const) {
      const binding = find(manifests, kind, suffix);
      const account = suffix === "-operator-events" ? "-operator" : suffix;
      assert.deepEqual(binding.subjects, [
        { kind: "ServiceAccount", name: `xdpc-xdp-counter${account}`, namespace },
      ]);
      assert.equal(binding.roleRef.name, `xdpc-xdp-counter${suffix}`);
    }
  });

  it("runs the operator non-root, read-only, without capabilities, with RuntimeDefault seccomp", () => {
    const manifests = template();
    const deployment = find(manifests, "Deployment", "-operator");
    const pod = deployment.spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.ok(pod.securityContext.runAsUser > 0);
    assert.deepEqual(pod.securityContext.seccompProfile, { type: "RuntimeDefault" });
    assert.equal(pod.serviceAccountName, "xdpc-xdp-counter-operator");
    const container = operatorContainer(manifests);
    assert.deepEqual(container.args, ["operator"]);
    assert.equal(container.image, "ghcr.io/xdp-counter/xdp-counter:0.1.0");
    assert.deepEqual(container.securityContext, {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    });
    assert.equal(container.livenessProbe.httpGet.path, "/healthz");
    assert.equal(container.readinessProbe.httpGet.path, "/readyz");
    assert.deepEqual(container.ports, [{ name: "http", containerPort: 8080, protocol: "TCP" }]);
  });

  it("keeps the chart version out of selectors and pod labels", () => {
    const deployment = find(template(), "Deployment", "-operator");
    const podLabels: Record<string, string> = deployment.spec.template.metadata.labels;
    const selector: Record<string, string> = deployment.spec.selector.matchLabels;
    for (const labels of [podLabels, selector]) {
      assert.ok(!("helm.sh/chart" in labels), "helm.sh/chart");
      assert.ok(!("app.kubernetes.io/version" in labels), "app.kubernetes.io/version");
    }
    for (const [key, value] of Object.entries(selector)) assert.equal(podLabels[key], value, key);
    assert.equal(selector["app.kubernetes.io/component"], "operator");
  });

  it("sets every operator setting it needs, and the operator accepts them", () => {
    const manifests = template();
    const env = operatorEnv(manifests);
    const optional = new Set(["agentCpuLimit", "agentPriorityClassName"]);
    // the agent DaemonSet, the agents' ConfigMap and their owner: named for the release, not defaulted
    assert.equal(env.XDP_COUNTER_AGENT_DAEMONSET, "xdpc-xdp-counter-agent");
    assert.equal(env.XDP_COUNTER_AGENT_SPECS, "xdpc-xdp-counter-agent-specs");
    assert.equal(env.XDP_COUNTER_OWNER_DEPLOYMENT, find(manifests, "Deployment").metadata.name);
    for (const [name, setting] of Object.entries(SETTINGS)) {
      if (optional.has(name)) continue;
      assert.ok(
        setting.env.some((variable) => variable in env),
        `the Deployment sets none of ${setting.env.join(", ")}`,
      );
    }
    const config = parseOperatorConfig(env);
    assert.equal(config.namespace, namespace);
    assert.equal(config.agentImage, "ghcr.io/xdp-counter/xdp-counter:0.1.0");
    assert.equal(config.agentServiceAccount, "xdpc-xdp-counter-agent");
    assert.deepEqual(config.agentCommand, ["xdp-counter", "agent"]);
    assert.equal(config.port, 8080);
    assert.equal(config.agentPort, 9731);
    assert.equal(config.agentMaxUnavailable, "10%");
    assert.equal(config.agentCpuLimit, undefined);
    assert.equal(config.agentDaemonSet, "xdpc-xdp-counter-agent");
    assert.equal(config.agentSpecs, "xdpc-xdp-counter-agent-specs");
    assert.equal(config.ownerDeployment, "xdpc-xdp-counter-operator");
  });

  it("makes the operator render the agent DaemonSet the chart's RBAC and policy expect", () => {
    const manifests = template();
    const config = parseOperatorConfig(operatorEnv(manifests));
    const ds = renderAgentDaemonSet(config);
    assert.equal(ds.metadata.name, "xdpc-xdp-counter-agent");
    assert.equal(ds.metadata.namespace, namespace);
    const pod = ds.spec.template.spec;
    assert.equal(pod.serviceAccountName, "xdpc-xdp-counter-agent");
    assert.equal(pod.containers[0]?.image, "ghcr.io/xdp-counter/xdp-counter:0.1.0");
    // the agents read the ConfigMap their Role names, and the policy matches their service account
    const specs = pod.containers[0]?.env.find((v) => v.name === "XDP_COUNTER_AGENT_SPECS");
    assert.deepEqual(specs, { name: "XDP_COUNTER_AGENT_SPECS", value: "xdpc-xdp-counter-agent-specs" });
    assert.deepEqual(find(manifests, "Role", "-agent").rules[0].resourceNames, [specs?.value]);
    assert.equal(
      find(manifests, "ValidatingAdmissionPolicy").spec.matchConditions[0].expression,
      `request.userInfo.username == "system:serviceaccount:${namespace}:${pod.serviceAccountName}"`,
    );
  });
});

describe("edge-case values", () => {
  it("keeps every name within 63 characters for the longest release name", () => {
    const release = "r".repeat(53); // Helm's own limit on release names
    const manifests = template("", release);
    for (const m of manifests) {
      assert.ok(m.metadata.name.length <= 63, `${m.kind}/${m.metadata.name} is ${m.metadata.name.length}`);
    }
    assert.notEqual(
      find(manifests, "ServiceAccount", "-operator").metadata.name,
      find(manifests, "ServiceAccount", "-agent").metadata.name,
    );
  });

  it("keeps names within 63 characters and distinct with a 63-character fullnameOverride", () => {
    const manifests = template(`fullnameOverride: ${"f".repeat(63)}\nserviceMonitor:\n  enabled: true\n`);
    const names = new Set<string>();
    for (const m of manifests) {
      assert.ok(m.metadata.name.length <= 63, `${m.kind}/${m.metadata.name}`);
      names.add(`${m.kind}/${m.metadata.name}`);
    }
    assert.equal(names.size, manifests.length, "names collide");
    for (const label of Object.values(find(manifests, "Deployment").spec.template.metadata.labels)) {
      assert.ok(String(label).length <= 63);
    }
  });

  it("uses the release name alone when it already contains the chart name", () => {
    const manifests = template("", "my-xdp-counter");
    assert.equal(find(manifests, "Deployment").metadata.name, "my-xdp-counter-operator");
  });

  it("renders no Service or ServiceMonitor by default, Services alone on request, both with serviceMonitor", () => {
    const has = (ms: Manifest[], kind: string) => ms.filter((m) => m.kind === kind).length;
    const off = template();
    assert.equal(has(off, "Service"), 0);
    assert.equal(has(off, "ServiceMonitor"), 0);

    const services = template("metrics:\n  service:\n    enabled: true\n");
    assert.equal(has(services, "Service"), 2);
    assert.equal(has(services, "ServiceMonitor"), 0);

    const on = template(
      "serviceMonitor:\n  enabled: true\n  interval: 15s\n  labels:\n    release: kube-prometheus-stack\n",
    );
    const monitor = find(on, "ServiceMonitor");
    assert.equal(monitor.apiVersion, "monitoring.coreos.com/v1");
    assert.equal(monitor.metadata.labels?.release, "kube-prometheus-stack");
    assert.equal(monitor.spec.endpoints[0].interval, "15s");
    assert.deepEqual(monitor.spec.namespaceSelector, { matchNames: [namespace] });
    const selector: Record<string, string> = monitor.spec.selector.matchLabels;
    const selected = on.filter(
      (m) => m.kind === "Service" && Object.entries(selector).every(([k, v]) => m.metadata.labels?.[k] === v),
    );
    assert.deepEqual(selected.map((s) => s.metadata.name).sort(), [
      "xdpc-xdp-counter-agent-metrics",
      "xdpc-xdp-counter-operator-metrics",
    ]);
    for (const service of selected) assert.equal(service.spec.ports[0].name, monitor.spec.endpoints[0].port);
  });

  it("scopes the PrometheusRule's up alerts to the jobs the ServiceMonitor makes: the metrics Services' names", () => {
    const on = template("serviceMonitor:\n  enabled: true\nprometheusRule:\n  enabled: true\n");
    const rule = find(on, "PrometheusRule");
    const services = on.filter((m) => m.kind === "Service").map((m) => m.metadata.name);
    const exprs: string[] = rule.spec.groups.flatMap((g: { rules: { expr: string }[] }) =>
      g.rules.map((r) => r.expr),
    );
    const jobs = exprs.flatMap((e) => [...e.matchAll(/up\{job="([^"]+)"\}/g)].map((m) => m[1]));
    assert.deepEqual([...new Set(jobs)].sort(), [...services].sort());
  });

  it("points the agents' headless Service at the pods the operator renders", () => {
    const manifests = template("metrics:\n  service:\n    enabled: true\n");
    const service = find(manifests, "Service", "-agent-metrics");
    assert.equal(service.spec.clusterIP, "None");
    const ds = renderAgentDaemonSet(parseOperatorConfig(operatorEnv(manifests)));
    const podLabels = ds.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(service.spec.selector as Record<string, string>)) {
      assert.equal(podLabels[k], v, k);
    }
    assert.equal(service.spec.ports[0].port, 9731);
    const operatorService = find(manifests, "Service", "-operator-metrics");
    const operatorPod = find(manifests, "Deployment").spec.template.metadata.labels;
    for (const [k, v] of Object.entries(operatorService.spec.selector as Record<string, string>)) {
      assert.equal(operatorPod[k], v, k);
    }
    // The agents' Service must not select the operator, nor the operator's the agents.
    assert.notEqual(
      operatorPod["app.kubernetes.io/component"],
      service.spec.selector["app.kubernetes.io/component"],
    );
  });

  it("passes custom resources and agent settings through to the operator and its agents", () => {
    const manifests = template(
      [
        "image:",
        "  repository: registry.example/xdp",
        "  digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "  pullPolicy: Always",
        "operator:",
        "  resources:",
        "    requests: {cpu: 100m, memory: 128Mi}",
        "    limits: {cpu: 1, memory: 512Mi}",
        "agent:",
        "  port: 9999",
        "  priorityClassName: system-node-critical",
        "  maxUnavailable: 2",
        "  reportWritesPerMinute: 0.5",
        "  terminationGracePeriodSeconds: 90",
        "  resources:",
        "    requests: {cpu: 0.5, memory: 100Mi}",
        "    limits: {cpu: 1, memory: 1Gi}",
        "serviceAccount:",
        "  agent:",
        "    create: false",
        "    name: existing-agent",
      ].join("\n"),
    );
    const container = operatorContainer(manifests);
    assert.deepEqual(container.resources, {
      requests: { cpu: "100m", memory: "128Mi" },
      limits: { cpu: 1, memory: "512Mi" },
    });
    const image =
      "registry.example/xdp@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    assert.equal(container.image, image);
    const config = parseOperatorConfig(operatorEnv(manifests));
    assert.equal(config.agentImage, image);
    assert.equal(config.agentImagePullPolicy, "Always");
    assert.equal(config.agentPort, 9999);
    assert.equal(config.agentPriorityClassName, "system-node-critical");
    assert.equal(config.agentMaxUnavailable, 2);
    assert.equal(config.agentReportWritesPerMinute, 0.5);
    assert.equal(config.agentTerminationGracePeriodSeconds, 90);
    assert.equal(config.agentServiceAccount, "existing-agent");
    const agent = renderAgentDaemonSet(config).spec.template.spec.containers[0];
    assert.deepEqual(agent?.resources, {
      requests: { cpu: "0.5", memory: "100Mi" },
      limits: { cpu: "1", memory: "1Gi" },
    });
    // Not created, but still bound: the agents keep exactly their rules under an existing account.
    assert.equal(manifests.filter((m) => m.kind === "ServiceAccount").length, 1);
    assert.equal(find(manifests, "ClusterRoleBinding", "-agent").subjects[0].name, "existing-agent");
    assert.equal(find(manifests, "RoleBinding", "-agent").subjects[0].name, "existing-agent");
  });

  it("renders no RBAC with rbac.create false, but still the agents' report policy", () => {
    const manifests = template("rbac:\n  create: false\n");
    assert.deepEqual(
      manifests.filter((m) => m.apiVersion.startsWith("rbac.")),
      [],
    );
    // not RBAC: whoever grants the agents their rules, they still write only their own node's reports
    find(manifests, "ValidatingAdmissionPolicy");
    find(manifests, "ValidatingAdmissionPolicyBinding");
  });
});

describe("values the schema refuses", () => {
  const cases: [string, string, RegExp][] = [
    [
      "a misspelt top-level key",
      "serviceMonitr:\n  enabled: true\n",
      /additional properties 'serviceMonitr'/,
    ],
    ["a misspelt nested key", "operator:\n  logLevl: debug\n", /at '\/operator'.*'logLevl'/],
    ["a port as a string", "agent:\n  port: metrics\n", /at '\/agent\/port'.*want integer/],
    ["a port out of range", "operator:\n  port: 70000\n", /at '\/operator\/port'/],
    ["a numeric image tag", "image:\n  tag: 1.0\n", /at '\/image\/tag'.*want string/],
    ["an unknown pull policy", "image:\n  pullPolicy: Sometimes\n", /at '\/image\/pullPolicy'/],
    ["a log level not in the list", "operator:\n  logLevel: loud\n", /at '\/operator\/logLevel'/],
    ["zero maxUnavailable", "agent:\n  maxUnavailable: 0\n", /at '\/agent\/maxUnavailable'/],
    ["a percentage above 100", 'agent:\n  maxUnavailable: "150%"\n', /at '\/agent\/maxUnavailable'/],
    [
      "no report writes at all",
      "agent:\n  reportWritesPerMinute: 0\n",
      /at '\/agent\/reportWritesPerMinute'/,
    ],
    [
      "a bad quantity",
      "agent:\n  resources:\n    limits:\n      memory: lots\n",
      /at '\/agent\/resources\/limits\/memory'/,
    ],
    [
      "an agent resource the operator cannot set",
      "agent:\n  resources:\n    requests:\n      ephemeral-storage: 1Gi\n",
      /at '\/agent\/resources\/requests'.*'ephemeral-storage'/,
    ],
    [
      "serviceMonitor.enabled as a string",
      'serviceMonitor:\n  enabled: "yes"\n',
      /at '\/serviceMonitor\/enabled'/,
    ],
    ["an empty agent command", "agent:\n  command: []\n", /at '\/agent\/command'/],
    [
      "an invalid service account name",
      "serviceAccount:\n  agent:\n    name: Agent_SA\n",
      /at '\/serviceAccount\/agent\/name'/,
    ],
  ];
  for (const [what, values, message] of cases) {
    it(`refuses ${what}, naming the value`, () => {
      const stderr = refused(values);
      assert.match(stderr, /values don't meet the specifications of the schema/);
      assert.match(stderr, message);
    });
  }

  it("refuses more than one operator without leader election", () => {
    const stderr = refused("operator:\n  replicas: 2\n  leaderElection:\n    enabled: false\n");
    assert.match(stderr, /at '\/operator\/replicas'/);
  });

  it("refuses an existing service account without a name, saying which", () => {
    const stderr = refused("serviceAccount:\n  operator:\n    create: false\n");
    assert.match(stderr, /serviceAccount\.operator\.name is required/);
  });
});

describe("NOTES.txt", () => {
  it("tells the user the next commands", () => {
    const result = runHelm(["install", "xdpc", chart, "--namespace", namespace, "--dry-run=client"]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /kubectl apply -f examples\/xdpcounter\.yaml/);
    assert.match(result.stdout, /kubectl get xdpcounters -o wide/);
    assert.match(result.stdout, /kubectl get xdpcounterreports -l xdpcounter\.dev\/xdpcounter=workers/);
    assert.match(result.stdout, /daemonset\/xdpc-xdp-counter-agent\b/);
    assert.doesNotMatch(result.stdout, /status\.nodes|get daemonsets/, "nothing of the old design");
    assert.match(result.stdout, /kubectl apply --server-side -f charts\/xdp-counter\/crds\//);
  });
});
