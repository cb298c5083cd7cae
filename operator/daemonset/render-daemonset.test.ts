import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { NEEDED_CAPABILITIES } from "../../agent/bpf/capabilities.ts";
import { parseAgentConfig } from "../../api/v1alpha1/index.ts";
import { makeXdpCounter } from "../../testing/operator.ts";
import { parseOperatorConfig } from "../config/index.ts";
import { boundedName, cleanupDaemonSetName, daemonSetName, selectorLabels } from "./names.ts";
import {
  AGENT_CAPABILITIES,
  AGENT_NODE_OPTIONS,
  AGENT_SECURITY_CONTEXT,
  renderCleanupDaemonSet,
  renderDaemonSet,
} from "./render-daemonset.ts";
import type { EnvVar } from "./types.ts";

const config = parseOperatorConfig({
  XDP_COUNTER_NAMESPACE: "xdp-system",
  XDP_COUNTER_AGENT_IMAGE: "registry.example/xdp-counter:1.2.3",
  XDP_COUNTER_AGENT_PRIORITY_CLASS_NAME: "system-node-critical",
  XDP_COUNTER_AGENT_CPU_LIMIT: "500m",
});

function env(ds: ReturnType<typeof renderDaemonSet>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const variable of ds.spec.template.spec.containers[0]?.env ?? ([] as EnvVar[])) {
    if ("value" in variable) out[variable.name] = variable.value;
  }
  return out;
}

describe("names", () => {
  it("keeps a short name", () => {
    assert.equal(daemonSetName("edge"), "xdp-counter-edge");
  });

  it("bounds a long name to 63 characters with a hash that tells long names apart", () => {
    const a = `${"a".repeat(100)}-one`;
    const b = `${"a".repeat(100)}-two`;
    assert.equal(daemonSetName(a).length, 63);
    assert.match(daemonSetName(a), /^xdp-counter-a+-[0-9a-f]{8}$/);
    assert.notEqual(daemonSetName(a), daemonSetName(b));
    assert.equal(daemonSetName(a), daemonSetName(a), "stable");
  });

  it("never leaves a dash or dot before the hash", () => {
    const name = `${"b".repeat(53)}.-.${"c".repeat(20)}`;
    const bounded = boundedName(name);
    assert.ok(bounded.length <= 63);
    assert.match(bounded, /^b+-[0-9a-f]{8}$/);
  });

  it("makes label values that fit 63 characters", () => {
    const long = `counter.${"x".repeat(200)}.example`;
    assert.ok((selectorLabels(long)["xdpcounter.dev/xdpcounter"] ?? "").length <= 63);
    assert.equal(selectorLabels("edge")["xdpcounter.dev/xdpcounter"], "edge");
  });
});

describe("renderDaemonSet", () => {
  const xdpc = makeXdpCounter("edge", {
    nodeSelector: { "node-role.kubernetes.io/edge": "" },
    tolerations: [{ key: "dedicated", operator: "Equal", value: "net", effect: "NoSchedule" }],
    interfaces: ["eth*"],
    action: "drop",
  });
  const ds = renderDaemonSet(xdpc, config);
  const pod = ds.spec.template.spec;
  const container = pod.containers[0];

  it("lives in the operator's namespace, owned by the XdpCounter", () => {
    assert.equal(ds.metadata.namespace, "xdp-system");
    assert.equal(ds.metadata.name, "xdp-counter-edge");
    assert.deepEqual(ds.metadata.ownerReferences, [
      {
        apiVersion: "xdpcounter.dev/v1alpha1",
        kind: "XdpCounter",
        name: "edge",
        uid: "0b7c2a7e-uid",
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  });

  it("selects its pods by the three labels, and the pods carry them", () => {
    const labels = {
      "app.kubernetes.io/name": "xdp-counter",
      "app.kubernetes.io/component": "agent",
      "xdpcounter.dev/xdpcounter": "edge",
    };
    assert.deepEqual(ds.spec.selector.matchLabels, labels);
    assert.deepEqual(ds.spec.template.metadata.labels, labels);
  });

  it("copies nodeSelector and tolerations exactly, adding none", () => {
    assert.deepEqual(pod.nodeSelector, { "node-role.kubernetes.io/edge": "" });
    assert.deepEqual(pod.tolerations, [
      { key: "dedicated", operator: "Equal", value: "net", effect: "NoSchedule" },
    ]);
    const plain = renderDaemonSet(makeXdpCounter("plain"), config).spec.template.spec;
    assert.equal(plain.nodeSelector, undefined);
    assert.equal(plain.tolerations, undefined);
  });

  it("places the counting agents by the spec's nodeSelector alone, with no affinity", () => {
    const xdpc = makeXdpCounter("edge", { nodeSelector: { pool: "edge", zone: "a" } });
    const spec = renderDaemonSet(xdpc, config).spec.template.spec;
    assert.deepEqual(spec.nodeSelector, { pool: "edge", zone: "a" });
    assert.equal(spec.affinity, undefined);
    const rendered = JSON.parse(env(renderDaemonSet(xdpc, config)).XDP_COUNTER_CONFIG ?? "{}");
    assert.deepEqual(rendered.nodeSelector, { pool: "edge", zone: "a" }, "the agent gets the selector");
    assert.equal(rendered.mode, "count");
  });

  it("renders the cleanup DaemonSet: clean mode, on the retained nodes by name, told apart by a label", () => {
    const xdpc = makeXdpCounter("edge", {
      nodeSelector: { pool: "edge" },
      tolerations: [{ key: "dedicated", operator: "Equal", value: "net", effect: "NoSchedule" }],
    });
    const counting = renderDaemonSet(xdpc, config);
    const cleanup = renderCleanupDaemonSet(xdpc, config, ["n2", "n1"]);
    assert.equal(cleanup.metadata.name, "xdp-counter-edge-cleanup");
    assert.equal(cleanup.metadata.namespace, counting.metadata.namespace);
    assert.deepEqual(cleanup.metadata.ownerReferences, counting.metadata.ownerReferences);
    assert.deepEqual(cleanup.spec.selector.matchLabels, {
      ...selectorLabels("edge"),
      "xdpcounter.dev/role": "cleanup",
    });
    assert.deepEqual(cleanup.spec.template.metadata.labels, cleanup.spec.selector.matchLabels);
    assert.equal(counting.spec.template.metadata.labels["xdpcounter.dev/role"], undefined);
    assert.equal(counting.metadata.labels["xdpcounter.dev/role"], undefined);
    const spec = cleanup.spec.template.spec;
    assert.equal(spec.nodeSelector, undefined, "a nodeSelector would be ANDed with the affinity");
    assert.deepEqual(spec.affinity, {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchFields: [{ key: "metadata.name", operator: "In", values: ["n1", "n2"] }] },
          ],
        },
      },
    });
    assert.deepEqual(spec.tolerations, xdpc.spec.tolerations);
    const agent = parseAgentConfig({ ...env(cleanup), NODE_NAME: "n1" });
    assert.equal(agent.mode, "clean");
    assert.equal(agent.xdpCounter, "edge");
    // Apart from name, labels, placement and mode, the same pod as the counting agents'.
    assert.deepEqual(
      spec.containers[0]?.volumeMounts,
      counting.spec.template.spec.containers[0]?.volumeMounts,
    );
    assert.equal(spec.containers[0]?.image, counting.spec.template.spec.containers[0]?.image);
  });

  it("bounds the cleanup DaemonSet's name and keeps its suffix", () => {
    assert.equal(cleanupDaemonSetName("edge"), "xdp-counter-edge-cleanup");
    const a = `${"a".repeat(60)}x`;
    const b = `${"a".repeat(60)}y`;
    assert.equal(cleanupDaemonSetName(a).length, 63);
    assert.match(cleanupDaemonSetName(a), /^xdp-counter-a+-[0-9a-f]{8}-cleanup$/);
    assert.notEqual(cleanupDaemonSetName(a), cleanupDaemonSetName(b));
    assert.notEqual(cleanupDaemonSetName(a), daemonSetName(a));
  });

  it("runs unprivileged with exactly its capabilities on the host network with bpffs and /sys from the host", () => {
    assert.equal(pod.hostNetwork, true);
    assert.equal(pod.dnsPolicy, "ClusterFirstWithHostNet");
    // as root (the image's default user is the operator's non-root one), every capability dropped but the
    // three the agent needs (docs/adr/0020), the runtime's seccomp profile
    assert.deepEqual(container?.securityContext, {
      privileged: false,
      runAsUser: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"], add: ["BPF", "NET_ADMIN", "PERFMON"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    // the agent's own list, which its errors name, is the same
    assert.deepEqual([...AGENT_CAPABILITIES], [...NEEDED_CAPABILITIES]);
    // each render has its own copy
    assert.notEqual(container?.securityContext, AGENT_SECURITY_CONTEXT);
    assert.deepEqual(pod.volumes, [
      { name: "bpffs", hostPath: { path: "/sys/fs/bpf", type: "Directory" } },
      { name: "sys", hostPath: { path: "/sys", type: "Directory" } },
    ]);
    assert.deepEqual(
      container?.volumeMounts.map((m) => [m.name, m.mountPath]),
      [
        ["bpffs", "/sys/fs/bpf"],
        ["sys", "/host/sys"],
      ],
    );
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

  it("hands the agent its configuration, node name and the port its probes use", () => {
    const vars = container?.env ?? [];
    const port = vars.find((v) => v.name === "XDP_COUNTER_AGENT_PORT");
    assert.ok(port && "value" in port);
    assert.equal(port.value, String(container?.ports?.[0]?.containerPort));
    assert.equal(container?.readinessProbe?.httpGet?.port, container?.ports?.[0]?.containerPort);
    assert.deepEqual(
      vars.find((v) => v.name === "NODE_NAME"),
      { name: "NODE_NAME", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "spec.nodeName" } } },
    );
    const agent = parseAgentConfig({ ...env(ds), NODE_NAME: "node-a" });
    assert.equal(agent.xdpCounter, "edge");
    assert.equal(agent.action, "drop");
    assert.deepEqual(agent.interfaces, ["eth*"]);
    assert.equal(agent.reportIntervalMs, 10_000);
    assert.equal(agent.mode, "count");
  });

  it("changes the pod template when the spec changes, so the agents roll", () => {
    const changed = renderDaemonSet(makeXdpCounter("edge", { interfaces: ["eth*"], action: "pass" }), config);
    assert.notDeepEqual(changed.spec.template, ds.spec.template);
  });

  it("switches agents to clean mode while the XdpCounter is deleted", () => {
    const deleting = makeXdpCounter("edge", {}, undefined, { deletionTimestamp: "2026-11-25T12:00:00Z" });
    assert.equal(
      parseAgentConfig({ ...env(renderDaemonSet(deleting, config)), NODE_NAME: "n" }).mode,
      "clean",
    );
  });

  it("takes image, command, resources, probes and scheduling settings from the operator config", () => {
    assert.equal(container?.image, "registry.example/xdp-counter:1.2.3");
    assert.deepEqual(container?.command, ["xdp-counter", "agent"]);
    assert.deepEqual(container?.resources, {
      requests: { cpu: "20m", memory: "64Mi" },
      limits: { cpu: "500m", memory: "256Mi" },
    });
    assert.deepEqual(container?.readinessProbe.httpGet, { path: "/readyz", port: 9731, scheme: "HTTP" });
    assert.deepEqual(container?.livenessProbe.httpGet, { path: "/healthz", port: 9731, scheme: "HTTP" });
    assert.equal(pod.serviceAccountName, "xdp-counter-agent");
    assert.equal(pod.priorityClassName, "system-node-critical");
    assert.equal(pod.terminationGracePeriodSeconds, 30);
    assert.deepEqual(ds.spec.updateStrategy, {
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: "10%" },
    });
  });

  it("names a long XdpCounter's DaemonSet within bounds", () => {
    const long = renderDaemonSet(makeXdpCounter(`very-long-${"n".repeat(80)}`), config);
    assert.ok(long.metadata.name.length <= 63);
    assert.ok((long.spec.selector.matchLabels["xdpcounter.dev/xdpcounter"] ?? "").length <= 63);
    assert.equal(long.metadata.ownerReferences[0]?.name, `very-long-${"n".repeat(80)}`);
  });

  it("refuses an XdpCounter without a uid (no owner reference possible)", () => {
    const noUid = { ...xdpc, metadata: { name: "x" } };
    assert.throws(() => renderDaemonSet(noUid, config), /no metadata.uid/);
  });
});
