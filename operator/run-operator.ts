// The operator process: configuration validated at start, API client, controller, /healthz, /readyz,
// /metrics, JSON logs, graceful stop. `runOperator` is what `xdp-counter operator` calls.

import { setTimeout as sleep } from "node:timers/promises";
import {
  createLogger,
  type HealthServer,
  type Logger,
  messageOf,
  startHealthServer,
} from "../runtime/index.ts";
import {
  backoffDelay,
  deploymentsPath,
  HttpKubeClient,
  type KubeClient,
  LeaderElector,
  loadKubeConfig,
} from "../runtime/kube/index.ts";
import { describeSettings, type OperatorConfig, parseOperatorConfig } from "./config/index.ts";
import { Controller, type ControllerOptions, createMetrics } from "./controller/index.ts";
import type { Owner } from "./daemonset/index.ts";
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
  const lookup = await ownerDeployment(client, config, log);
  const owner = lookup.owner;
  const controller = new Controller({
    client,
    config,
    log,
    metrics,
    ...(owner ? { owner } : {}),
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
        ...(owner ? { owner } : {}),
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
  const stopped = new AbortController();
  const startController = () => {
    (async () => {
      // The first look-up failed (the API server unreachable at start): look again before the first write,
      // or the DaemonSet and the ConfigMap would lose the owner that helm uninstall removes them by.
      if (lookup.unknown) {
        const found = await ownerWhenReachable(client, config, log, stopped.signal);
        if (found) controller.setOwner(found);
      }
      if (!stopped.signal.aborted) await controller.start();
    })().catch((error: unknown) => log.error("controller failed to start", { error: messageOf(error) }));
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
        stopped.abort();
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

/**
 * The operator's own Deployment, which owns the agent DaemonSet and ConfigMap so that they go with it. Unknown
 * (not configured, or not readable): they get no owner, and are left for whoever removes the release.
 */
async function ownerDeployment(
  client: KubeClient,
  config: OperatorConfig,
  log: Logger,
): Promise<{ owner?: Owner; unknown?: true }> {
  if (!config.ownerDeployment) return {};
  try {
    const deployment = await client.get(deploymentsPath(config.namespace, config.ownerDeployment));
    if (deployment?.metadata.uid)
      return {
        owner: {
          apiVersion: "apps/v1",
          kind: "Deployment",
          name: deployment.metadata.name,
          uid: deployment.metadata.uid,
        },
      };
    log.warn("the owner Deployment does not exist; the agent DaemonSet gets no owner", {
      deployment: config.ownerDeployment,
    });
    return {};
  } catch (error) {
    log.warn("cannot read the owner Deployment yet; looking again before the first write", {
      deployment: config.ownerDeployment,
      error: messageOf(error),
    });
    return { unknown: true };
  }
}

/**
 * The owner Deployment, looked up again until the API server answers (back-off from 1 s to 30 s); undefined
 * when it does not exist or the operator stops first.
 */
async function ownerWhenReachable(
  client: KubeClient,
  config: OperatorConfig,
  log: Logger,
  signal: AbortSignal,
): Promise<Owner | undefined> {
  for (let attempt = 1; !signal.aborted; attempt++) {
    const lookup = await ownerDeployment(client, config, log);
    if (!lookup.unknown) {
      if (lookup.owner) log.info("owner Deployment found", { deployment: lookup.owner.name });
      return lookup.owner;
    }
    await sleep(backoffDelay(attempt, { baseMs: 1_000, maxMs: 30_000, jitter: 0.2 }), undefined, {
      signal,
    }).catch(() => {});
  }
  return undefined;
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
