import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { parseOperatorConfig } from "../config/index.ts";
import { AGENT_NODE_LABEL, AGENT_NODE_LABEL_VALUE, selectorLabels } from "./names.ts";
import { AGENT_NODE_OPTIONS, type Owner, renderAgentDaemonSet } from "./render-daemonset.ts";
import type { Container, EnvVar } from "./types.ts";

const config = parseOperatorConfig({
  XDP_COUNTER_NAMESPACE: "xdp-system",
  XDP_COUNTER_AGENT_IMAGE: "registry.example/xdp-counter:1.2.3",
  XDP_COUNTER_AGENT_PRIORITY_CLASS_NAME: "system-node-critical",
  XDP_COUNTER_AGENT_CPU_LIMIT: "500m",
});
const owner: Owner = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  name: "xdp-counter-operator",
  uid: "uid-op",
};

function env(ds: ReturnType<typeof renderAgentDaemonSet>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const variable of ds.spec.template.spec.containers[0]?.env ?? ([] as EnvVar[])) {
    if ("value" in variable) out[variable.name] = variable.value;
  }
  return out;
}

/**
 * What the agent container may do: the one place that knows its securityContext (it loads BPF programs,
 * attaches XDP and writes the host's bpffs, as root since the image's default user is the operator's).
 */
function assertAgentSecurityContext(container: Container | undefined): void {
  // not privileged: exactly the capabilities the agent needs (docs/adr/0020)
  assert.deepEqual(container?.securityContext, {
    privileged: false,
    runAsUser: 0,
    runAsNonRoot: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"], add: ["BPF", "NET_ADMIN", "PERFMON"] },
    seccompProfile: { type: "RuntimeDefault" },
  });
}

describe("renderAgentDaemonSet", () => {
  const ds = renderAgentDaemonSet(config, owner);
  const pod = ds.spec.template.spec;
  const container = pod.containers[0];

  it("is the one DaemonSet named by the configuration, in the operator's namespace", () => {
    assert.equal(ds.metadata.name, "xdp-counter-agent");
    assert.equal(ds.metadata.namespace, "xdp-system");
    assert.equal(renderAgentDaemonSet({ ...config, agentDaemonSet: "rel-agent" }).metadata.name, "rel-agent");
    assert.equal(ds.metadata.labels["app.kubernetes.io/managed-by"], "xdp-counter-operator");
  });

  it("is owned by the operator's Deployment only when it is given", () => {
    assert.deepEqual(ds.metadata.ownerReferences, [{ ...owner, controller: true }]);
    assert.equal("ownerReferences" in renderAgentDaemonSet(config).metadata, false);
  });

  it("selects its pods by the stable selector labels, and the pods carry them", () => {
    assert.deepEqual(selectorLabels(), {
      "app.kubernetes.io/name": "xdp-counter",
      "app.kubernetes.io/component": "agent",
    });
    assert.deepEqual(ds.spec.selector.matchLabels, selectorLabels());
    assert.deepEqual(ds.spec.template.metadata.labels, selectorLabels());
    assert.equal(ds.spec.template.metadata.annotations["kubectl.kubernetes.io/default-container"], "agent");
  });

  it("runs on the nodes the operator labels and tolerates every taint", () => {
    assert.equal(AGENT_NODE_LABEL, "xdpcounter.dev/agent");
    assert.deepEqual(pod.nodeSelector, { [AGENT_NODE_LABEL]: AGENT_NODE_LABEL_VALUE });
    assert.deepEqual(pod.nodeSelector, { "xdpcounter.dev/agent": "true" });
    assert.deepEqual(pod.tolerations, [{ operator: "Exists" }]);
    assert.equal((pod as { affinity?: unknown }).affinity, undefined);
  });

  it("hands the agent its node, namespace, the specs' ConfigMap and the port its probes use", () => {
    const vars = container?.env ?? [];
    assert.deepEqual(
      vars.find((v) => v.name === "NODE_NAME"),
      { name: "NODE_NAME", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "spec.nodeName" } } },
    );
    assert.deepEqual(
      vars.find((v) => v.name === "POD_NAMESPACE"),
      {
        name: "POD_NAMESPACE",
        valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } },
      },
    );
    assert.equal(env(ds).XDP_COUNTER_AGENT_SPECS, "xdp-counter-agent-specs");
    assert.equal(
      env(renderAgentDaemonSet({ ...config, agentSpecs: "rel-agent-specs" })).XDP_COUNTER_AGENT_SPECS,
      "rel-agent-specs",
    );
    assert.equal(env(ds).XDP_COUNTER_AGENT_PORT, String(container?.ports[0]?.containerPort));
    assert.equal(env(ds).XDP_COUNTER_CONFIG, undefined, "no XdpCounter's spec in the template");
    assert.equal(env(ds).XDP_COUNTER_REPORT_WRITES_PER_MINUTE, String(config.agentReportWritesPerMinute));
    assert.equal(
      env(renderAgentDaemonSet({ ...config, agentReportWritesPerMinute: 0.5 }))
        .XDP_COUNTER_REPORT_WRITES_PER_MINUTE,
      "0.5",
    );
  });

  it("depends on no XdpCounter: the same rendering for the same settings", () => {
    assert.deepEqual(renderAgentDaemonSet(config, owner), ds);
  });

  it("runs on the host network with the host's bpffs, and no other host path", () => {
    assert.equal(pod.hostNetwork, true);
    assert.equal(pod.dnsPolicy, "ClusterFirstWithHostNet");
    assertAgentSecurityContext(container);
    // Each hostPath is one more reason for Pod Security's privileged level and one more view of the host: only
    // the pins need one. The container's own /sys (read-only, of the host's network namespace) has the rest.
    assert.deepEqual(pod.volumes, [{ name: "bpffs", hostPath: { path: "/sys/fs/bpf", type: "Directory" } }]);
    assert.deepEqual(container?.volumeMounts, [
      { name: "bpffs", mountPath: "/sys/fs/bpf", mountPropagation: "HostToContainer" },
    ]);
  });

  it("probes the agent's health and readiness on its port", () => {
    assert.deepEqual(container?.ports, [{ name: "http", containerPort: 9731, protocol: "TCP" }]);
    assert.deepEqual(container?.readinessProbe, {
      httpGet: { path: "/readyz", port: 9731, scheme: "HTTP" },
      periodSeconds: 10,
      timeoutSeconds: 2,
      failureThreshold: 3,
    });
    assert.deepEqual(container?.livenessProbe, {
      httpGet: { path: "/healthz", port: 9731, scheme: "HTTP" },
      periodSeconds: 10,
      timeoutSeconds: 2,
      failureThreshold: 6,
    });
    const other = renderAgentDaemonSet({ ...config, agentPort: 9999 }).spec.template.spec.containers[0];
    assert.equal(other?.readinessProbe.httpGet.port, 9999);
    assert.equal(other?.livenessProbe.httpGet.port, 9999);
    assert.equal(other?.ports[0]?.containerPort, 9999);
  });

  it("runs the agent with its Node.js memory options, which Node.js accepts in NODE_OPTIONS", () => {
    assert.equal(env(ds).NODE_OPTIONS, AGENT_NODE_OPTIONS);
    assert.match(AGENT_NODE_OPTIONS, /--max-semi-space-size=1\b/);
    assert.match(AGENT_NODE_OPTIONS, /--jitless\b/);
    // Node.js refuses some V8 options in NODE_OPTIONS (--lite-mode, for one) and would then not start at all.
    const r = spawnSync(process.execPath, ["-e", "process.stdout.write('started')"], {
      env: { ...process.env, NODE_OPTIONS: AGENT_NODE_OPTIONS },
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "started");
  });

  it("takes image, command, resources and scheduling settings from the operator config", () => {
    assert.equal(container?.image, "registry.example/xdp-counter:1.2.3");
    assert.equal(container?.imagePullPolicy, "IfNotPresent");
    assert.deepEqual(container?.command, ["xdp-counter", "agent"]);
    assert.deepEqual(container?.resources, {
      requests: { cpu: "20m", memory: "64Mi" },
      limits: { cpu: "500m", memory: "256Mi" },
    });
    assert.equal(pod.serviceAccountName, "xdp-counter-agent");
    assert.equal(pod.priorityClassName, "system-node-critical");
    assert.equal(pod.terminationGracePeriodSeconds, 30);
    assert.deepEqual(ds.spec.updateStrategy, {
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: "10%" },
    });
  });

  it("leaves out limits and the priority class when they are not set", () => {
    const plain = parseOperatorConfig({ XDP_COUNTER_NAMESPACE: "x", XDP_COUNTER_AGENT_IMAGE: "i" });
    const spec = renderAgentDaemonSet({ ...plain, agentMemoryLimit: "" }).spec.template.spec;
    assert.deepEqual(spec.containers[0]?.resources, { requests: { cpu: "20m", memory: "64Mi" } });
    assert.equal("priorityClassName" in spec, false);
  });
});
