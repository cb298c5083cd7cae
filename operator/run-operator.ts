// The operator process: configuration validated at start, API client, controller, /healthz, /readyz,
// /metrics, JSON logs, graceful stop. `runOperator` is what `xdp-counter operator` calls.

import { createLogger, type HealthServer, type Logger, startHealthServer } from "../runtime/index.ts";
import { describeSettings, type OperatorConfig, parseOperatorConfig } from "./config/index.ts";
import {
  Controller,
  type ControllerOptions,
  createMetrics,
  HttpKubeClient,
  LeaderElector,
  loadKubeConfig,
} from "./controller/index.ts";
import { OperatorError } from "./errors.ts";

export type RunningOperator = {
  config: OperatorConfig;
  controller: Controller;
  /** Present when leader election is on. */
  elector: LeaderElector | undefined;
  health: HealthServer;
  /** False once a watch gave up or leadership was lost: the process should exit. */
  healthy(): boolean;
  log: Logger;
  /** Stops the controller (running reconciles finish) and the HTTP server. */
  stop(): Promise<void>;
};

export type StartOptions = {
  env?: Readonly<Record<string, string | undefined>>;
  argv?: readonly string[];
  /** kubeconfig text; default: KUBECONFIG, ~/.kube/config, then in-cluster. */
  kubeconfig?: string;
  /** Where log lines go (default stdout). */
  write?: (line: string) => void;
  /** Host of the HTTP server (default 0.0.0.0). */
  host?: string;
  controller?: Partial<Omit<ControllerOptions, "client" | "config" | "log" | "metrics">>;
};

export async function startOperator(options: StartOptions = {}): Promise<RunningOperator> {
  const config = parseOperatorConfig(options.env ?? process.env, options.argv ?? []);
  const log = createLogger({ level: config.logLevel, write: options.write });
  const metrics = createMetrics({ defaultMetrics: true });
  const client = new HttpKubeClient(await loadKubeConfig(options.kubeconfig));
  const controller = new Controller({
    client,
    config,
    log,
    metrics,
    // About eight minutes of failures in a row (backoff up to 30 s): then exit, so the pod restarts and its
    // status shows that something is wrong (no CRD, no permission, no API server).
    maxWatchFailures: 20,
    ...options.controller,
  });
  const elector = config.leaderElect
    ? new LeaderElector({
        client,
        namespace: config.namespace,
        name: config.leaseName,
        identity: config.identity,
        onEvent: (event) =>
          log[event.type === "error" || event.type === "lost" ? "warn" : "info"](
            `leader election: ${event.type}`,
            event,
          ),
      })
    : undefined;
  let lostLeadership = false;
  const healthy = () => controller.healthy && !lostLeadership;
  // A replica standing by is ready: it serves its endpoints and takes over when the leader goes.
  const ready = () => controller.ready || (elector !== undefined && !elector.isLeader && !lostLeadership);
  const health = await startHealthServer({
    host: options.host ?? "0.0.0.0",
    port: config.port,
    healthy,
    ready,
    metrics: () => metrics.registry.metrics(),
    metricsContentType: metrics.registry.contentType,
  });
  log.info("operator starting", {
    namespace: config.namespace,
    port: health.port,
    agentImage: config.agentImage,
    leaderElection: elector ? { lease: config.leaseName, identity: elector.identity } : false,
  });
  const startController = () => {
    controller.start().catch((error: unknown) => log.error("controller failed to start", { error }));
  };
  const electing = elector?.run(startController, () => {
    lostLeadership = true;
  });
  if (!elector) startController();
  let stopping: Promise<void> | undefined;
  return {
    config,
    controller,
    elector,
    health,
    healthy,
    log,
    stop: () => {
      stopping ??= (async () => {
        log.info("operator stopping");
        await controller.stop();
        await elector?.stop();
        await electing;
        await health.close();
        client.close();
        log.info("operator stopped");
      })();
      return stopping;
    },
  };
}

/** Runs until SIGTERM or SIGINT; returns the exit code. */
export async function runOperator(argv: readonly string[], env = process.env): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(
      `Usage: xdp-counter operator [--flag value]...\n\nSettings (flag, environment):\n${describeSettings()}\n`,
    );
    return 0;
  }
  let running: RunningOperator;
  try {
    running = await startOperator({ env, argv });
  } catch (error) {
    if (error instanceof OperatorError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    process.stderr.write(
      `cannot start the operator: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
  return await new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      running.log.info("signal received", { signal });
      running.stop().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
    // An informer that gave up leaves the operator blind, and a replica that lost the Lease may race the new
    // leader: exit so the pod restarts.
    const check = setInterval(() => {
      if (!running.healthy()) {
        clearInterval(check);
        running.log.error("unhealthy (a watch gave up or leadership was lost); exiting");
        running.stop().then(
          () => resolve(1),
          () => resolve(1),
        );
      }
    }, 1_000);
    check.unref();
  });
}
