// `xdp-counter agent`: validate the flags and environment (a bad one exits non-zero naming it), connect to the
// API server, serve /metrics, /healthz, /readyz, and run the node's agent until SIGTERM/SIGINT.
import { NODE_NAME_ENV } from "../../api/v1alpha1/index.ts";
import {
  createLogger,
  type HealthServer,
  type Logger,
  messageOf,
  startHealthServer,
} from "../../runtime/index.ts";
import { HttpKubeClient, loadKubeConfig } from "../../runtime/kube/index.ts";
import { requireBpffs } from "../bpf/index.ts";
import { AgentError, AgentErrorCode } from "./errors.ts";
import { METRICS_CONTENT_TYPE } from "./metrics.ts";
import { NodeAgent } from "./node-agent.ts";
import { AGENT_HELP, type AgentFlags, parseAgentFlags } from "./options.ts";

/** Exit codes, as the CLI's: 2 bad configuration, 3 the machine or cluster access is not ready. */
export const AgentExit = { Ok: 0, Internal: 1, Config: 2, Environment: 3 } as const;
export const USER_AGENT = "xdp-counter-agent";

export async function runAgent(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let log: Logger = createLogger({ fields: { component: "xdp-counter-agent" } });
  let flags: AgentFlags;
  let nodeName: string;
  try {
    flags = parseAgentFlags(argv, env);
    if (flags.help) {
      process.stdout.write(AGENT_HELP);
      return AgentExit.Ok;
    }
    nodeName = env[NODE_NAME_ENV] ?? "";
    if (!nodeName) throw new AgentError(AgentErrorCode.InvalidConfig, `${NODE_NAME_ENV} is not set`);
  } catch (err) {
    if (err instanceof AgentError) {
      log.error("invalid configuration", { error: err.message });
      process.stderr.write(`xdp-counter agent: ${err.message}\n`);
      return AgentExit.Config;
    }
    throw err;
  }
  log = createLogger({ level: flags.logLevel, fields: { component: "xdp-counter-agent", node: nodeName } });
  let client: HttpKubeClient;
  let server: string;
  try {
    requireBpffs(flags.pinRoot);
    const access = await loadKubeConfig();
    server = access.server;
    client = new HttpKubeClient(access, { userAgent: USER_AGENT });
  } catch (err) {
    log.error("cannot start", { error: messageOf(err) });
    process.stderr.write(`xdp-counter agent: ${messageOf(err)}\n`);
    return AgentExit.Environment;
  }
  const agent = new NodeAgent({
    client,
    nodeName,
    namespace: flags.namespace,
    specsName: flags.specs,
    pinRoot: flags.pinRoot,
    pollMs: flags.pollMs,
    reportWritesPerMinute: flags.reportWritesPerMinute,
    log,
  });
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    log.info("stopping: counters stay attached and pinned for the next agent", { signal });
    stop.abort();
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  let http: HealthServer;
  try {
    http = await startHealthServer({
      host: flags.host,
      port: flags.port,
      metrics: () => agent.metrics(),
      metricsContentType: METRICS_CONTENT_TYPE,
      healthy: () => agent.healthy(),
      ready: () => agent.ready(),
    });
  } catch (err) {
    log.error("cannot listen", { port: flags.port, error: messageOf(err) });
    client.close();
    return AgentExit.Environment;
  }
  log.info("started", {
    apiServer: server,
    namespace: flags.namespace,
    specs: flags.specs,
    pinRoot: flags.pinRoot,
    port: http.port,
  });
  try {
    await agent.run(stop.signal);
    return AgentExit.Ok;
  } catch (err) {
    log.error("internal error", { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    return AgentExit.Internal;
  } finally {
    await http.close();
    client.close();
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    log.info("stopped");
  }
}
