// The agent DaemonSets of one XdpCounter: the counting one from its spec and the operator configuration alone,
// and the cleanup one from the same and the nodes still to be cleaned (docs/adr/0012).
import {
  AGENT_CONFIG_ENV,
  API_VERSION,
  KIND,
  NODE_NAME_ENV,
  renderAgentConfig,
  serializeAgentConfig,
  type XdpCounter,
} from "../../api/v1alpha1/index.ts";
import type { OperatorConfig } from "../config/index.ts";
import { OperatorError, OperatorErrorCode } from "../errors.ts";
import { cleanupDaemonSetName, cleanupSelectorLabels, daemonSetName, selectorLabels } from "./names.ts";
import type { Container, DaemonSet, NodeSelector, Probe } from "./types.ts";

export const AGENT_CONTAINER = "agent";
export const BPFFS_PATH = "/sys/fs/bpf";
/** The host's /sys, read-only, where the container's own /sys would not do (e.g. /sys/kernel/btf). */
export const HOST_SYS_MOUNT = "/host/sys";
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
>;

function probe(path: string, port: number, failureThreshold: number): Probe {
  return { httpGet: { path, port, scheme: "HTTP" }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold };
}

/**
 * The counting DaemonSet: pods on the nodes the spec selects (its nodeSelector and tolerations), in count mode,
 * or in clean mode while the XdpCounter is being deleted. Nothing else goes into it, so its pod template (and
 * every agent on the cluster) stays untouched when nodes are deselected (docs/adr/0012).
 */
export function renderDaemonSet(xdpc: XdpCounter, config: RenderConfig): DaemonSet {
  return render(xdpc, config, undefined);
}

/**
 * The cleanup DaemonSet: clean-mode agents on `retainedNodes` only (nodes the spec no longer selects whose
 * entry is not Clean yet, see retainedNodeNames), placed by a required node affinity on their names. Each
 * detaches and unpins what the counting agent left there, reports Cleaning then Clean, and idles until the
 * operator takes its node out of the affinity (docs/adr/0012).
 */
export function renderCleanupDaemonSet(
  xdpc: XdpCounter,
  config: RenderConfig,
  retainedNodes: readonly string[],
): DaemonSet {
  return render(xdpc, config, retainedNodes);
}

function render(
  xdpc: XdpCounter,
  config: RenderConfig,
  cleanupNodes: readonly string[] | undefined,
): DaemonSet {
  const { name, uid } = xdpc.metadata;
  if (!uid) {
    throw new OperatorError(OperatorErrorCode.InvalidXdpCounter, `XdpCounter ${name} has no metadata.uid`);
  }
  const cleanup = cleanupNodes !== undefined;
  const labels = cleanup ? cleanupSelectorLabels(name) : selectorLabels(name);
  const agentConfig = renderAgentConfig(xdpc);
  if (cleanup) agentConfig.mode = "clean";
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
          { name: AGENT_CONFIG_ENV, value: serializeAgentConfig(agentConfig) },
          { name: NODE_NAME_ENV, valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "spec.nodeName" } } },
          // The port the probes and the metrics scrape use: the agent must listen where they look.
          { name: "XDP_COUNTER_AGENT_PORT", value: String(config.agentPort) },
          { name: "NODE_OPTIONS", value: AGENT_NODE_OPTIONS },
        ],
        ports: [{ name: "http", containerPort: config.agentPort, protocol: "TCP" }],
        securityContext: structuredClone(AGENT_SECURITY_CONTEXT),
        resources: Object.keys(limits).length > 0 ? { requests, limits } : { requests },
        volumeMounts: [
          // Pins live here, so counters survive agent restarts. HostToContainer: bpffs is mounted by the
          // host (the volume type Directory refuses to start without it) and we never mount it ourselves.
          { name: "bpffs", mountPath: BPFFS_PATH, mountPropagation: "HostToContainer" },
          { name: "sys", mountPath: HOST_SYS_MOUNT, readOnly: true },
        ],
        readinessProbe: probe("/readyz", config.agentPort, 3),
        livenessProbe: probe("/healthz", config.agentPort, 6),
      },
    ],
    volumes: [
      { name: "bpffs", hostPath: { path: BPFFS_PATH, type: "Directory" } },
      { name: "sys", hostPath: { path: "/sys", type: "Directory" } },
    ],
  };
  if (config.agentPriorityClassName) podSpec.priorityClassName = config.agentPriorityClassName;
  // Exactly what the spec says (no blanket tolerations); the cleanup agents on the retained nodes only.
  const selector = xdpc.spec.nodeSelector ?? {};
  if (cleanupNodes) {
    podSpec.affinity = {
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: byNodeName(cleanupNodes) },
    };
  } else if (Object.keys(selector).length > 0) {
    podSpec.nodeSelector = { ...selector };
  }
  if (xdpc.spec.tolerations && xdpc.spec.tolerations.length > 0) {
    podSpec.tolerations = xdpc.spec.tolerations.map((t) => ({ ...t }));
  }

  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: {
      name: cleanup ? cleanupDaemonSetName(name) : daemonSetName(name),
      namespace: config.namespace,
      labels: { ...labels, "app.kubernetes.io/managed-by": "xdp-counter-operator" },
      ownerReferences: [
        { apiVersion: API_VERSION, kind: KIND, name, uid, controller: true, blockOwnerDeletion: true },
      ],
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

/**
 * The nodes by name (`metadata.name`, as the DaemonSet controller itself pins daemon pods to nodes; the
 * `kubernetes.io/hostname` label need not equal the name). Sorted, so the same set renders the same.
 */
function byNodeName(nodes: readonly string[]): NodeSelector {
  return {
    nodeSelectorTerms: [
      { matchFields: [{ key: "metadata.name", operator: "In", values: [...nodes].sort() }] },
    ],
  };
}
