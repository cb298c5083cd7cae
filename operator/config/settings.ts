// Every setting of the operator: its environment variable, its flag, its schema and what it means.
// Values arrive as strings (environment or command line); each schema turns one into its typed value.
import { z } from "zod";

const quantity = z
  .string()
  .regex(
    /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/,
    "must be a Kubernetes quantity such as 100m, 64Mi or 1",
  );
const port = z.coerce.number().int().min(1).max(65535);
const dnsLabel = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS label: lowercase letters, digits and -");
const dnsSubdomain = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "must be a DNS subdomain: lowercase letters, digits, - and .");
const command = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({
        code: "custom",
        message: 'must be a JSON array of strings, e.g. ["xdp-counter","agent"]',
      });
      return z.NEVER;
    }
  })
  .pipe(z.array(z.string().min(1)).min(1, "must name at least the program to run"));
const maxUnavailable = z
  .string()
  .regex(
    /^([1-9][0-9]*|([1-9][0-9]?|100)%)$/,
    "must be a positive count such as 1 or a percentage such as 10%",
  )
  .transform((text) => (text.endsWith("%") ? text : Number(text)));

const bool = z.enum(["true", "false"], "must be true or false").transform((text) => text === "true");

export type Setting = {
  env: readonly string[];
  flag: string;
  schema: z.ZodType;
  description: string;
};

export const SETTINGS = {
  namespace: {
    env: ["XDP_COUNTER_NAMESPACE", "POD_NAMESPACE"],
    flag: "namespace",
    schema: dnsLabel,
    description: "The namespace of the operator, where the agent DaemonSet and the agents' ConfigMap are.",
  },
  leaderElect: {
    env: ["XDP_COUNTER_LEADER_ELECT"],
    flag: "leader-elect",
    schema: bool.default(true),
    description:
      "Whether replicas elect a leader through a Lease in the namespace, so only one reconciles at a time.",
  },
  leaseName: {
    env: ["XDP_COUNTER_LEASE_NAME"],
    flag: "lease-name",
    schema: dnsSubdomain.default("xdp-counter-operator"),
    description: "The name of the leader election Lease.",
  },
  identity: {
    env: ["XDP_COUNTER_IDENTITY", "POD_NAME", "HOSTNAME"],
    flag: "identity",
    schema: z.string().min(1).max(128).default("xdp-counter-operator"),
    description: "This replica's name in the Lease; the pod name from the downward API.",
  },
  agentDaemonSet: {
    env: ["XDP_COUNTER_AGENT_DAEMONSET"],
    flag: "agent-daemonset",
    schema: dnsSubdomain.default("xdp-counter-agent"),
    description: "The name of the one agent DaemonSet the operator keeps in its namespace (docs/adr/0021).",
  },
  agentSpecs: {
    env: ["XDP_COUNTER_AGENT_SPECS"],
    flag: "agent-specs",
    schema: dnsSubdomain.default("xdp-counter-agent-specs"),
    description:
      "The name of the ConfigMap in the operator's namespace where the agents read the XdpCounters' specs.",
  },
  ownerDeployment: {
    env: ["XDP_COUNTER_OWNER_DEPLOYMENT"],
    flag: "owner-deployment",
    schema: dnsSubdomain.optional(),
    description:
      "The operator's own Deployment; the agent DaemonSet and ConfigMap are owned by it, so they go when it goes (helm uninstall). Unset: no owner.",
  },
  agentImage: {
    env: ["XDP_COUNTER_AGENT_IMAGE"],
    flag: "agent-image",
    schema: z.string().min(1).regex(/^\S+$/, "must be an image reference without whitespace"),
    description: "The container image of the agents.",
  },
  agentImagePullPolicy: {
    env: ["XDP_COUNTER_AGENT_IMAGE_PULL_POLICY"],
    flag: "agent-image-pull-policy",
    schema: z.enum(["Always", "IfNotPresent", "Never"]).default("IfNotPresent"),
    description: "The image pull policy of the agent container.",
  },
  agentCommand: {
    env: ["XDP_COUNTER_AGENT_COMMAND"],
    flag: "agent-command",
    schema: command.default(["xdp-counter", "agent"]),
    description: "The agent container's command, as a JSON array of strings.",
  },
  logLevel: {
    env: ["XDP_COUNTER_LOG_LEVEL"],
    flag: "log-level",
    schema: z.enum(["debug", "info", "warn", "error"]).default("info"),
    description: "The operator's log level.",
  },
  port: {
    env: ["XDP_COUNTER_PORT"],
    flag: "port",
    schema: port.default(8080),
    description: "The operator's port for /metrics, /healthz and /readyz.",
  },
  agentPort: {
    env: ["XDP_COUNTER_AGENT_PORT"],
    flag: "agent-port",
    schema: port.default(9731),
    description: "The agents' port on the node (host network) for /metrics, /healthz and /readyz.",
  },
  agentCpuRequest: {
    env: ["XDP_COUNTER_AGENT_CPU_REQUEST"],
    flag: "agent-cpu-request",
    schema: quantity.default("20m"),
    description: "CPU requested by each agent.",
  },
  agentMemoryRequest: {
    env: ["XDP_COUNTER_AGENT_MEMORY_REQUEST"],
    flag: "agent-memory-request",
    schema: quantity.default("64Mi"),
    description: "Memory requested by each agent.",
  },
  agentCpuLimit: {
    env: ["XDP_COUNTER_AGENT_CPU_LIMIT"],
    flag: "agent-cpu-limit",
    schema: quantity.optional(),
    description: "CPU limit of each agent; unset: none (throttling slows reports, not packets).",
  },
  agentMemoryLimit: {
    env: ["XDP_COUNTER_AGENT_MEMORY_LIMIT"],
    flag: "agent-memory-limit",
    schema: quantity.default("256Mi"),
    description: "Memory limit of each agent.",
  },
  agentServiceAccount: {
    env: ["XDP_COUNTER_AGENT_SERVICE_ACCOUNT"],
    flag: "agent-service-account",
    schema: dnsSubdomain.default("xdp-counter-agent"),
    description: "The service account of the agent pods (it writes the nodes' XdpCounterReports).",
  },
  agentPriorityClassName: {
    env: ["XDP_COUNTER_AGENT_PRIORITY_CLASS_NAME"],
    flag: "agent-priority-class-name",
    schema: dnsSubdomain.optional(),
    description: "The priority class of the agent pods, e.g. system-node-critical; unset: none.",
  },
  agentTerminationGracePeriodSeconds: {
    env: ["XDP_COUNTER_AGENT_TERMINATION_GRACE_PERIOD_SECONDS"],
    flag: "agent-termination-grace-period-seconds",
    schema: z.coerce.number().int().min(1).max(3600).default(30),
    description: "How long an agent may take to stop (a report write in flight).",
  },
  agentMaxUnavailable: {
    env: ["XDP_COUNTER_AGENT_MAX_UNAVAILABLE"],
    flag: "agent-max-unavailable",
    schema: maxUnavailable.default("10%"),
    description: "How many agents a rollout may replace at once: a count or a percentage of the nodes.",
  },
  agentReportWritesPerMinute: {
    env: ["XDP_COUNTER_AGENT_REPORT_WRITES_PER_MINUTE"],
    flag: "agent-report-writes-per-minute",
    schema: z.coerce
      .number("must be a number")
      .gt(0, "must be above 0")
      .max(6000, "must be at most 6000")
      .default(1),
    description:
      "Report writes per minute of each node, all XdpCounters together (docs/adr/0027): the API load each node adds.",
  },
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;
