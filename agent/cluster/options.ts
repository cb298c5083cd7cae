// `xdp-counter agent` flags. What the agent counts comes from the agents' ConfigMap the operator writes
// (docs/adr/0021) and NODE_NAME; the flags say where that ConfigMap is and how this process runs.
import { parseArgs } from "node:util";
import { DEFAULT_PIN_ROOT } from "../bpf/index.ts";
import { parseDuration } from "../cli/duration.ts";
import { AgentError, AgentErrorCode } from "./errors.ts";
import { DEFAULT_POLL_MS, specsConfigMapName } from "./node-agent.ts";

/** The operator's default agentPort (operator/config/settings.ts), where the probes look. */
export const DEFAULT_AGENT_PORT = 9731;

export interface AgentFlags {
  host: string;
  port: number;
  pinRoot: string;
  pollMs: number;
  /** the release namespace, where the agents' ConfigMap is */
  namespace: string;
  /** the agents' ConfigMap */
  specs: string;
  logLevel: "debug" | "info" | "warn" | "error";
  /** the node's report writes per minute, all XdpCounters together (docs/adr/0027) */
  reportWritesPerMinute: number;
  help: boolean;
}

/** The node's default budget: one report write a minute, a sixth of its kubelet's Lease renewals. */
export const DEFAULT_REPORT_WRITES_PER_MINUTE = 1;

const DEFAULT_NAMESPACE = "xdp-system";
const DEFAULT_RELEASE = "xdp-counter";

export const AGENT_HELP = `xdp-counter agent: the in-cluster agent, one per node for every XdpCounter, run by the
operator's DaemonSet.

Watches the agents' ConfigMap (the XdpCounters' specs, written by the operator) and its own Node (NODE_NAME),
counts on the interfaces each XdpCounter selects on this node and writes one XdpCounterReport per XdpCounter.
Kubernetes access from KUBECONFIG or the in-cluster service account.

Options:
  --namespace NS      the release namespace (env POD_NAMESPACE)                   [${DEFAULT_NAMESPACE}]
  --specs NAME        the agents' ConfigMap (env XDP_COUNTER_AGENT_SPECS)    [${specsConfigMapName(DEFAULT_RELEASE)}]
  --port N            HTTP port for /metrics, /healthz, /readyz (env XDP_COUNTER_AGENT_PORT)   [${DEFAULT_AGENT_PORT}]
  --host ADDR         address to listen on                                                [0.0.0.0]
  --pin-root DIR      where pins live (env XDP_COUNTER_PIN_ROOT)               [${DEFAULT_PIN_ROOT}]
  --poll-interval D   how often to look at the node's interfaces, e.g. 1s, 5s              [5s]
  --report-writes-per-minute N
                      the node's report writes per minute, for all its XdpCounters together; a
                      report due when the budget is spent waits its turn
                      (env XDP_COUNTER_REPORT_WRITES_PER_MINUTE)                          [${DEFAULT_REPORT_WRITES_PER_MINUTE}]
  --log-level L       debug, info, warn or error                                          [info]
  -h, --help          this help
`;

const LEVELS = ["debug", "info", "warn", "error"] as const;
/** A Kubernetes object name: lowercase letters, digits, dashes and dots, at most 253. */
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export function parseAgentFlags(argv: string[], env: NodeJS.ProcessEnv): AgentFlags {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        "pin-root": { type: "string" },
        "poll-interval": { type: "string" },
        namespace: { type: "string" },
        specs: { type: "string" },
        "log-level": { type: "string" },
        "report-writes-per-minute": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    throw new AgentError(AgentErrorCode.InvalidConfig, (err as Error).message);
  }
  const portText =
    (values.port as string | undefined) ?? env.XDP_COUNTER_AGENT_PORT ?? String(DEFAULT_AGENT_PORT);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new AgentError(
      AgentErrorCode.InvalidConfig,
      `--port ${JSON.stringify(portText)} is not a port (0-65535)`,
    );
  }
  const pollText = (values["poll-interval"] as string | undefined) ?? `${DEFAULT_POLL_MS}ms`;
  const pollMs = parseDuration(pollText);
  if (pollMs === undefined || pollMs < 100 || pollMs > 600_000) {
    throw new AgentError(
      AgentErrorCode.InvalidConfig,
      `--poll-interval ${JSON.stringify(pollText)} must be a duration from 100ms to 10m, such as 5s`,
    );
  }
  const logLevel = (values["log-level"] as string | undefined) ?? "info";
  if (!(LEVELS as readonly string[]).includes(logLevel)) {
    throw new AgentError(AgentErrorCode.InvalidConfig, `--log-level must be one of ${LEVELS.join(", ")}`);
  }
  const budgetText =
    (values["report-writes-per-minute"] as string | undefined) ??
    env.XDP_COUNTER_REPORT_WRITES_PER_MINUTE ??
    String(DEFAULT_REPORT_WRITES_PER_MINUTE);
  const reportWritesPerMinute = Number(budgetText);
  if (!/^\d+(\.\d+)?$/.test(budgetText) || !(reportWritesPerMinute > 0) || reportWritesPerMinute > 6000) {
    throw new AgentError(
      AgentErrorCode.InvalidConfig,
      `--report-writes-per-minute ${JSON.stringify(budgetText)} must be a number above 0 and at most 6000, such as 1 or 0.5`,
    );
  }
  const namespace = (values.namespace as string | undefined) ?? env.POD_NAMESPACE ?? DEFAULT_NAMESPACE;
  const specs =
    (values.specs as string | undefined) ??
    env.XDP_COUNTER_AGENT_SPECS ??
    specsConfigMapName(DEFAULT_RELEASE);
  for (const [flag, value] of [
    ["--namespace", namespace],
    ["--specs", specs],
  ] as const) {
    if (!OBJECT_NAME.test(value))
      throw new AgentError(
        AgentErrorCode.InvalidConfig,
        `${flag} ${JSON.stringify(value)} is not an object name`,
      );
  }
  return {
    namespace,
    specs,
    host: (values.host as string | undefined) ?? "0.0.0.0",
    port,
    pinRoot: (values["pin-root"] as string | undefined) ?? env.XDP_COUNTER_PIN_ROOT ?? DEFAULT_PIN_ROOT,
    pollMs,
    logLevel: logLevel as AgentFlags["logLevel"],
    reportWritesPerMinute,
    help: values.help === true,
  };
}
