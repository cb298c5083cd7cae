// `xdp-counter agent`: validate the configuration (a bad one exits non-zero naming the field), connect to
// the API server, serve /metrics, /healthz, /readyz, and run the agent until SIGTERM/SIGINT.
import { type AgentConfig, ApiError, parseAgentConfig } from "../../api/v1alpha1/index.ts";
import { createLogger, type HealthServer, type Logger, startHealthServer } from "../../runtime/index.ts";
import { requireBpffs } from "../bpf/index.ts";
import { Agent } from "./agent.ts";
import { kubeClusterApi } from "./cluster-api.ts";
import { AgentError, messageOf } from "./errors.ts";
import { KubeClient } from "./kube-client.ts";
import { METRICS_CONTENT_TYPE } from "./metrics.ts";
import { AGENT_HELP, type AgentFlags, parseAgentFlags } from "./options.ts";

/** Exit codes, as the CLI's: 2 bad configuration, 3 the machine or cluster access is not ready. */
export const AgentExit = { Ok: 0, Internal: 1, Config: 2, Environment: 3 } as const;

export async function runAgent(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let log: Logger = createLogger({ fields: { component: "xdp-counter-agent" } });
  let flags: AgentFlags;
  let config: AgentConfig;
  try {
    flags = parseAgentFlags(argv, env);
    if (flags.help) {
      process.stdout.write(AGENT_HELP);
      return AgentExit.Ok;
    }
    config = parseAgentConfig(env);
  } catch (err) {
    if (err instanceof ApiError || err instanceof AgentError) {
      log.error("invalid configuration", { error: err.message });
      process.stderr.write(`xdp-counter agent: ${err.message}\n`);
      return AgentExit.Config;
    }
    throw err;
  }
  log = createLogger({
    level: flags.logLevel,
    fields: { component: "xdp-counter-agent", xdpcounter: config.xdpCounter, node: config.nodeName },
  });
  let client: KubeClient;
  try {
    requireBpffs(flags.pinRoot);
    client = await KubeClient.fromEnvironment();
  } catch (err) {
    log.error("cannot start", { error: messageOf(err) });
    process.stderr.write(`xdp-counter agent: ${messageOf(err)}\n`);
    return AgentExit.Environment;
  }
  const agent = new Agent({
    config,
    api: kubeClusterApi(client),
    log,
    pinRoot: flags.pinRoot,
    pollMs: flags.pollMs,
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
    return AgentExit.Environment;
  }
  log.info("started", {
    mode: config.mode,
    interfaces: config.interfaces,
    action: config.action,
    attachMode: config.attachMode,
    reportIntervalMs: config.reportIntervalMs,
    generation: config.generation,
    apiServer: client.server,
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
