// The XdpCounter controller: four informers (XdpCounters, the operator's agent DaemonSets and their pods,
// Nodes) feed XdpCounter keys into one work queue; workers reconcile one key at a time, retrying failures
// with backoff.

import type { Logger } from "../../runtime/index.ts";
import { AGENT_COMPONENT, type RenderConfig } from "../daemonset/index.ts";
import { type AgentPod, agentPodChangeMatters, ownerDaemonSet, slimAgentPod } from "../status/index.ts";
import type { BackoffOptions } from "./backoff.ts";
import { errorMessage } from "./errors.ts";
import { EventRecorder, type EventSink } from "./events.ts";
import { Informer, type InformerEvent } from "./informer.ts";
import { allXdpCounterKeys, nodeChangeMatters, xdpCounterOfDaemonSet } from "./key-mapping.ts";
import type { KubeClient, KubeObject } from "./kube-types.ts";
import type { OperatorMetrics } from "./metrics.ts";
import { type ReconcileDeps, reconcile } from "./reconcile.ts";
import { kubeWriter, type ReconcileWriter } from "./reconcile-api.ts";
import { daemonSetsPath, nodesPath, podsPath, xdpCountersPath } from "./resources.ts";
import { WorkQueue } from "./workqueue.ts";

export type ControllerOptions = {
  client: KubeClient;
  /** What DaemonSets are rendered from; `identity` (the leader election identity) names the Events' reporter. */
  config: RenderConfig & { identity?: string };
  log: Logger;
  metrics: OperatorMetrics;
  workers?: number;
  /** How often informers re-deliver every cached object (a periodic full reconcile). */
  resyncMs?: number;
  watchTimeoutSeconds?: number;
  informerBackoff?: BackoffOptions;
  queueBackoff?: BackoffOptions;
  /** Failures in a row after which an informer gives up (the operator then reports unhealthy). */
  maxWatchFailures?: number;
  now?: () => Date;
  /** Overrides the writes (tests). */
  writer?: ReconcileWriter;
  /** Overrides where Events go (default: an EventRecorder writing events.k8s.io/v1 Events). */
  events?: EventSink;
};

export class Controller {
  readonly xdpCounters: Informer;
  readonly daemonSets: Informer;
  readonly nodes: Informer;
  readonly agentPods: Informer;
  readonly queue: WorkQueue;
  #options: ControllerOptions;
  #deps: ReconcileDeps;
  readonly #recorder: EventRecorder | undefined;
  #workers: Promise<void>[] = [];
  #listeners: ((event: InformerEvent) => void)[] = [];
  #started = false;

  constructor(options: ControllerOptions) {
    this.#options = options;
    const { client, metrics } = options;
    const common = {
      client,
      resyncMs: options.resyncMs ?? 300_000,
      ...(options.watchTimeoutSeconds ? { watchTimeoutSeconds: options.watchTimeoutSeconds } : {}),
      ...(options.informerBackoff ? { backoff: options.informerBackoff } : {}),
      ...(options.maxWatchFailures ? { maxFailures: options.maxWatchFailures } : {}),
    };
    this.xdpCounters = new Informer({ ...common, name: "xdpcounters", path: xdpCountersPath() });
    this.daemonSets = new Informer({
      ...common,
      name: "daemonsets",
      path: daemonSetsPath(options.config.namespace),
      labelSelector: `app.kubernetes.io/component=${AGENT_COMPONENT}`,
    });
    this.nodes = new Informer({ ...common, name: "nodes", path: nodesPath() });
    // Only what tells whether a node's agent is alive and ready is kept: one small record per node.
    this.agentPods = new Informer({
      ...common,
      name: "pods",
      path: podsPath(options.config.namespace),
      labelSelector: `app.kubernetes.io/component=${AGENT_COMPONENT}`,
      transform: (pod) => slimAgentPod(pod as AgentPod) as KubeObject,
    });
    this.queue = new WorkQueue({
      ...(options.queueBackoff ? { backoff: options.queueBackoff } : {}),
      onDepth: (depth) => metrics.queueDepth.set(depth),
    });

    this.xdpCounters.addHandlers({
      onAdd: (obj) => this.queue.add(obj.metadata.name),
      onUpdate: (_old, obj) => this.queue.add(obj.metadata.name),
      onDelete: (obj) => this.queue.add(obj.metadata.name),
    });
    const enqueueOwner = (obj: Parameters<typeof xdpCounterOfDaemonSet>[0]) => {
      const owner = xdpCounterOfDaemonSet(obj);
      if (owner) this.queue.add(owner);
    };
    this.daemonSets.addHandlers({
      onAdd: enqueueOwner,
      onUpdate: (_o, obj) => enqueueOwner(obj),
      onDelete: enqueueOwner,
    });
    const enqueueAll = () => {
      for (const key of allXdpCounterKeys(this.xdpCounters.list())) this.queue.add(key);
    };
    this.nodes.addHandlers({
      onAdd: enqueueAll,
      onUpdate: (old, obj) => {
        if (old === obj || nodeChangeMatters(old, obj)) enqueueAll();
      },
      onDelete: enqueueAll,
    });
    const namespace = options.config.namespace;
    const enqueuePodOwner = (pod: KubeObject) => {
      const ds = ownerDaemonSet(pod as AgentPod);
      const owner = ds ? this.daemonSets.get(`${namespace}/${ds}`) : undefined;
      if (owner) enqueueOwner(owner);
    };
    this.agentPods.addHandlers({
      onAdd: enqueuePodOwner,
      onUpdate: (old, pod) => {
        if (old === pod || agentPodChangeMatters(old as AgentPod, pod as AgentPod)) enqueuePodOwner(pod);
      },
      onDelete: enqueuePodOwner,
    });
    for (const informer of this.#informers()) {
      informer.onEvent((event) => {
        metrics.informerEvents.inc({ informer: event.informer, event: event.type });
        const level =
          event.type === "give-up"
            ? "error"
            : event.type === "disconnect" || event.type === "gone"
              ? "warn"
              : event.type === "connect" || event.type === "relist"
                ? "info"
                : "debug";
        options.log[level](`watch ${event.type}`, { ...event });
        for (const listener of this.#listeners) listener(event);
      });
    }

    const nodes = this.nodes;
    const daemonSets = this.daemonSets;
    const xdpCounters = this.xdpCounters;
    const agentPods = this.agentPods;
    this.#recorder = options.events
      ? undefined
      : new EventRecorder({
          client,
          reportingInstance: options.config.identity ?? "xdp-counter-operator",
          log: options.log,
        });
    this.#deps = {
      read: {
        getXdpCounter: (name) => xdpCounters.get(name),
        getDaemonSet: (name) => daemonSets.get(`${namespace}/${name}`),
        listNodes: () => nodes.list(),
        listAgentPods: (daemonSet) =>
          (agentPods.list() as AgentPod[]).filter((pod) => ownerDaemonSet(pod) === daemonSet),
      },
      write: options.writer ?? kubeWriter(client, namespace),
      config: options.config,
      now: options.now ?? (() => new Date()),
      events: options.events ?? (this.#recorder as EventRecorder),
    };
  }

  #informers(): Informer[] {
    return [this.xdpCounters, this.daemonSets, this.nodes, this.agentPods];
  }

  /** Named informer events (connect, relist, bookmark, disconnect, gone, resync, give-up). */
  onInformerEvent(listener: (event: InformerEvent) => void): void {
    this.#listeners.push(listener);
  }

  /** Starts the informers, waits for their first lists, then starts the workers. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const informers = this.#informers();
    for (const informer of informers) informer.start();
    await Promise.all(informers.map((informer) => informer.waitForSync()));
    if (this.queue.shuttingDown) return;
    this.#options.log.info("caches synced", {
      xdpcounters: this.xdpCounters.list().length,
      daemonsets: this.daemonSets.list().length,
      nodes: this.nodes.list().length,
      agentPods: this.agentPods.list().length,
    });
    const workers = this.#options.workers ?? 2;
    for (let i = 0; i < workers; i++) this.#workers.push(this.#work());
  }

  get ready(): boolean {
    return this.#informers().every((informer) => informer.hasSynced);
  }

  get healthy(): boolean {
    return !this.#informers().some((informer) => informer.gaveUp);
  }

  /** Resolves once the Events emitted so far are written (or failed). */
  flushEvents(): Promise<void> {
    return this.#recorder?.flush() ?? Promise.resolve();
  }

  /** Stops handing out keys, lets running reconciles finish, stops the watches; gives Events 2 s to go out. */
  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.#workers);
    await Promise.all(this.#informers().map((informer) => informer.stop()));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.flushEvents(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 2_000);
      }),
    ]);
    clearTimeout(timer);
  }

  async #work(): Promise<void> {
    const { log, metrics } = this.#options;
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const endTimer = metrics.reconcileDuration.startTimer();
      try {
        const result = await reconcile(key, this.#deps);
        metrics.reconciles.inc({ outcome: result.outcome });
        this.queue.forget(key);
        log.debug("reconciled", { xdpcounter: key, ...result });
        if (result.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
      } catch (error) {
        metrics.reconciles.inc({ outcome: "Error" });
        metrics.reconcileErrors.inc();
        const delayMs = this.queue.addRateLimited(key);
        log.warn("reconcile failed; retrying", { xdpcounter: key, error: errorMessage(error), delayMs });
      } finally {
        endTimer();
        this.queue.done(key);
      }
    }
  }
}
