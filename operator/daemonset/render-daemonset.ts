// The one agent DaemonSet (docs/adr/0021): its pods run where the operator's node label is, tolerate every taint
// (the label already applies each XdpCounter's tolerations), and learn what to count from the agents'
// ConfigMap. Nothing of any XdpCounter goes into it, so a spec change never rolls the agents.
import { NODE_NAME_ENV } from "../../api/v1alpha1/index.ts";
import type { OperatorConfig } from "../config/index.ts";
import { AGENT_NODE_LABEL, AGENT_NODE_LABEL_VALUE, selectorLabels } from "./names.ts";
import type { Container, DaemonSet, Probe } from "./types.ts";

export const AGENT_CONTAINER = "agent";
export const BPFFS_PATH = "/sys/fs/bpf";
/**
 * The Node.js options the agent runs with, as its container's NODE_OPTIONS: the one place they are set, for the
 * DaemonSet and for the footprint benchmark alike (docs/adr/0015). The agent allocates little and keeps less,
 * so a young generation of 1 MiB per semi-space (V8 lets it grow to tens of MiB and keeps what it grew) and one
 * V8 background thread (not one per CPU) save resident memory at no measurable CPU cost. Its JavaScript is a
 * small loop run once per interval, so it runs in V8's interpreter (`--jitless`: no compiler, no code
 * memory that is both writable and executable), which saves another ~10 MiB and measured no slower. Without
 * a JIT there is no WebAssembly, so Node.js cannot strip TypeScript types: the agent runs the compiled dist/.
 */
export const AGENT_NODE_OPTIONS = "--max-semi-space-size=1 --v8-pool-size=1 --jitless";

/**
 * The capabilities the agent runs with, and no others (docs/adr/0020): CAP_BPF for bpf(), CAP_PERFMON for the
 * verifier to let the program read `struct xdp_buff`, CAP_NET_ADMIN to load an XDP program and attach it. No
 * CAP_SYS_ADMIN: the agent reads back what it pinned through the pins, never by id. The agent's own list
 * (agent/bpf/capabilities.ts) is the same; a test checks it.
 */
export const AGENT_CAPABILITIES = ["BPF", "NET_ADMIN", "PERFMON"] as const;

/**
 * Not privileged: every capability dropped but AGENT_CAPABILITIES, the runtime's default seccomp profile
 * (containerd's lets bpf() through to a container with CAP_BPF: checked on containerd 1.6.20), no privilege
 * escalation, a read-only root filesystem. runAsUser 0: the image's default user
 * is non-root (for the operator), and added capabilities reach the process of uid 0 only; the pins under the
 * host's bpffs are root's.
 */
export const AGENT_SECURITY_CONTEXT: Container["securityContext"] = {
  privileged: false,
  runAsUser: 0,
  runAsNonRoot: false,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"], add: [...AGENT_CAPABILITIES] },
  seccompProfile: { type: "RuntimeDefault" },
};

export type RenderConfig = Pick<
  OperatorConfig,
  | "namespace"
  | "agentDaemonSet"
  | "agentSpecs"
  | "agentImage"
  | "agentImagePullPolicy"
  | "agentCommand"
  | "agentPort"
  | "agentCpuRequest"
  | "agentMemoryRequest"
  | "agentCpuLimit"
  | "agentMemoryLimit"
  | "agentServiceAccount"
  | "agentPriorityClassName"
  | "agentTerminationGracePeriodSeconds"
  | "agentMaxUnavailable"
  | "agentReportWritesPerMinute"
>;

function probe(path: string, port: number, failureThreshold: number): Probe {
  return { httpGet: { path, port, scheme: "HTTP" }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold };
}

/** The operator's Deployment, which owns the DaemonSet (so `helm uninstall` takes it), when known. */
export type Owner = { apiVersion: "apps/v1"; kind: "Deployment"; name: string; uid: string };

export function renderAgentDaemonSet(config: RenderConfig, owner?: Owner): DaemonSet {
  const labels = selectorLabels();
  const requests: Record<string, string> = { cpu: config.agentCpuRequest, memory: config.agentMemoryRequest };
  const limits: Record<string, string> = {};
  if (config.agentCpuLimit) limits.cpu = config.agentCpuLimit;
  if (config.agentMemoryLimit) limits.memory = config.agentMemoryLimit;

  const podSpec: DaemonSet["spec"]["template"]["spec"] = {
    serviceAccountName: config.agentServiceAccount,
    // The agent attaches to the node's own interfaces and reports them, so it lives in the node's netns.
    hostNetwork: true,
    dnsPolicy: "ClusterFirstWithHostNet",
    terminationGracePeriodSeconds: config.agentTerminationGracePeriodSeconds,
    containers: [
      {
        name: AGENT_CONTAINER,
        image: config.agentImage,
        imagePullPolicy: config.agentImagePullPolicy,
        command: [...config.agentCommand],
        env: [
          { name: NODE_NAME_ENV, valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "spec.nodeName" } } },
          {
            name: "POD_NAMESPACE",
            valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } },
          },
          { name: "XDP_COUNTER_AGENT_SPECS", value: config.agentSpecs },
          // The port the probes and the metrics scrape use: the agent must listen where they look.
          { name: "XDP_COUNTER_AGENT_PORT", value: String(config.agentPort) },
          // The node's budget of report writes, for all its XdpCounters (docs/adr/0027).
          { name: "XDP_COUNTER_REPORT_WRITES_PER_MINUTE", value: String(config.agentReportWritesPerMinute) },
          { name: "NODE_OPTIONS", value: AGENT_NODE_OPTIONS },
        ],
        ports: [{ name: "http", containerPort: config.agentPort, protocol: "TCP" }],
        securityContext: structuredClone(AGENT_SECURITY_CONTEXT),
        resources: Object.keys(limits).length > 0 ? { requests, limits } : { requests },
        volumeMounts: [
          // Pins live here, so counters survive agent restarts. HostToContainer: bpffs is mounted by the
          // host (the volume type Directory refuses to start without it) and we never mount it ourselves.
          // The only host path: what the agent reads of /sys (BTF, the possible CPUs, a NIC's driver), the
          // container's own /sys has, read-only and of the host's network namespace.
          { name: "bpffs", mountPath: BPFFS_PATH, mountPropagation: "HostToContainer" },
        ],
        readinessProbe: probe("/readyz", config.agentPort, 3),
        livenessProbe: probe("/healthz", config.agentPort, 6),
      },
    ],
    volumes: [{ name: "bpffs", hostPath: { path: BPFFS_PATH, type: "Directory" } }],
    nodeSelector: { [AGENT_NODE_LABEL]: AGENT_NODE_LABEL_VALUE },
    tolerations: [{ operator: "Exists" }],
  };
  if (config.agentPriorityClassName) podSpec.priorityClassName = config.agentPriorityClassName;

  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: {
      name: config.agentDaemonSet,
      namespace: config.namespace,
      labels: { ...labels, "app.kubernetes.io/managed-by": "xdp-counter-operator" },
      ...(owner ? { ownerReferences: [{ ...owner, controller: true }] } : {}),
    },
    spec: {
      selector: { matchLabels: labels },
      updateStrategy: {
        type: "RollingUpdate",
        rollingUpdate: { maxUnavailable: config.agentMaxUnavailable },
      },
      template: {
        metadata: {
          labels: { ...labels },
          annotations: { "kubectl.kubernetes.io/default-container": AGENT_CONTAINER },
        },
        spec: podSpec,
      },
    },
  };
}
