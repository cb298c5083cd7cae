// The XdpCounter controller: six informers (XdpCounters, their reports, Nodes, the agent DaemonSet, its pods
// and the agents' ConfigMap) feed keys into one work queue: an XdpCounter's name, or AGENTS_KEY for what they
// share (docs/adr/0021); workers reconcile one key at a time, retrying failures with backoff.

import { XDPCOUNTER_LABEL, type XdpCounterReport } from "../../api/v1alpha1/index.ts";
import { messageOf } from "../../runtime/errors.ts";
import type { Logger } from "../../runtime/index.ts";
import type { BackoffOptions } from "../../runtime/kube/backoff.ts";
import { Informer, type InformerEvent, informerEventLevel } from "../../runtime/kube/informer.ts";
import type { KubeClient, KubeObject } from "../../runtime/kube/kube-types.ts";
import {
  configMapsPath,
  daemonSetsPath,
  nodesPath,
  podsPath,
  reportsPath,
  xdpCountersPath,
} from "../../runtime/kube/paths.ts";
import { WorkQueue } from "../../runtime/kube/workqueue.ts";
import { AGENT_COMPONENT, type Owner, type RenderConfig } from "../daemonset/index.ts";
import { type AgentPod, agentPodChangeMatters, slimAgentPod } from "../status/index.ts";
import { EventRecorder, type EventSink } from "./events.ts";
import { allXdpCounterKeys, nodeChangeMatters, reportChangeMatters } from "./key-mapping.ts";
import type { OperatorMetrics } from "./metrics.ts";
import { AGENTS_KEY, type ReconcileDeps, reconcile } from "./reconcile.ts";
import { kubeWriter, type ReconcileWriter } from "./reconcile-api.ts";
import { slimNode, slimReport } from "./slim.ts";

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
  /** The operator's Deployment, which owns the DaemonSet and the ConfigMap. */
  owner?: Owner;
};

export class Controller {
  readonly xdpCounters: Informer;
  readonly reports: Informer;
  readonly daemonSets: Informer;
  readonly configMaps: Informer;
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
    const namespace = options.config.namespace;
    this.xdpCounters = new Informer({ ...common, name: "xdpcounters", path: xdpCountersPath() });
    // Nodes and reports are the caches that grow with the cluster: only the fields read are kept (slim.ts).
    this.reports = new Informer({
      ...common,
      name: "xdpcounterreports",
      path: reportsPath(),
      transform: slimReport,
    });
    this.daemonSets = new Informer({
      ...common,
      name: "daemonsets",
      path: daemonSetsPath(namespace),
      fieldSelector: `metadata.name=${options.config.agentDaemonSet}`,
    });
    this.configMaps = new Informer({
      ...common,
      name: "configmaps",
      path: configMapsPath(namespace),
      fieldSelector: `metadata.name=${options.config.agentSpecs}`,
    });
    this.nodes = new Informer({ ...common, name: "nodes", path: nodesPath(), transform: slimNode });
    // Only what tells whether a node's agent is alive and ready is kept: one small record per node.
    this.agentPods = new Informer({
      ...common,
      name: "pods",
      path: podsPath(namespace),
      labelSelector: `app.kubernetes.io/component=${AGENT_COMPONENT}`,
      transform: (pod) => slimAgentPod(pod as AgentPod) as KubeObject,
    });
    this.queue = new WorkQueue({
      ...(options.queueBackoff ? { backoff: options.queueBackoff } : {}),
      onDepth: (depth) => metrics.queueDepth.set(depth),
    });

    const agents = () => this.queue.add(AGENTS_KEY);
    const enqueueAll = () => {
      for (const key of allXdpCounterKeys(this.xdpCounters.list())) this.queue.add(key);
    };
    const byName = (obj: KubeObject) => {
      this.queue.add(obj.metadata.name);
      agents();
    };
    this.xdpCounters.addHandlers({ onAdd: byName, onUpdate: (_old, obj) => byName(obj), onDelete: byName });
    const ofReport = (obj: KubeObject) => obj.metadata.labels?.[XDPCOUNTER_LABEL];
    this.reports.addHandlers({
      onAdd: (obj) => {
        const owner = ofReport(obj);
        if (owner) this.queue.add(owner);
        agents();
      },
      onUpdate: (old, obj) => {
        const owner = ofReport(obj);
        if (owner && (old === obj || reportChangeMatters(old, obj))) this.queue.add(owner);
      },
      onDelete: (obj) => {
        const owner = ofReport(obj);
        if (owner) this.queue.add(owner);
        agents();
      },
    });
    for (const informer of [this.daemonSets, this.configMaps]) {
      informer.addHandlers({
        onAdd: () => {
          agents();
          enqueueAll();
        },
        onUpdate: agents,
        onDelete: () => {
          agents();
          enqueueAll();
        },
      });
    }
    this.nodes.addHandlers({
      onAdd: () => {
        agents();
        enqueueAll();
      },
      onUpdate: (old, obj) => {
        if (old === obj || nodeChangeMatters(old, obj)) {
          agents();
          enqueueAll();
        }
      },
      onDelete: () => {
        agents();
        enqueueAll();
      },
    });
    this.agentPods.addHandlers({
      onAdd: enqueueAll,
      onUpdate: (old, pod) => {
        if (old === pod || agentPodChangeMatters(old as AgentPod, pod as AgentPod)) enqueueAll();
      },
      onDelete: enqueueAll,
    });
    for (const informer of this.#informers()) {
      informer.onEvent((event) => {
        metrics.informerEvents.inc({ informer: event.informer, event: event.type });
        options.log[informerEventLevel(event.type)](`watch ${event.type}`, { ...event });
        for (const listener of this.#listeners) listener(event);
      });
    }

    this.#recorder = options.events
      ? undefined
      : new EventRecorder({
          client,
          reportingInstance: options.config.identity ?? "xdp-counter-operator",
          log: options.log,
        });
    const { nodes, daemonSets, configMaps, xdpCounters, agentPods, reports } = this;
    this.#deps = {
      read: {
        getXdpCounter: (name) => xdpCounters.get(name),
        listXdpCounters: () => xdpCounters.list(),
        getDaemonSet: () => daemonSets.get(`${namespace}/${options.config.agentDaemonSet}`),
        getConfigMap: () => configMaps.get(`${namespace}/${options.config.agentSpecs}`),
        listNodes: () => nodes.list(),
        listAgentPods: () => agentPods.list() as AgentPod[],
        listReports: (xdpCounter) =>
          (reports.list() as unknown as XdpCounterReport[]).filter(
            (r) => xdpCounter === undefined || r.metadata.labels?.[XDPCOUNTER_LABEL] === xdpCounter,
          ),
      },
      write: options.writer ?? kubeWriter(client),
      config: options.config,
      owner: options.owner,
      now: options.now ?? (() => new Date()),
      events: options.events ?? (this.#recorder as EventRecorder),
      statusWrites: new Map(),
      agentSpecs: new Map(),
    };
  }

  #informers(): Informer[] {
    return [this.xdpCounters, this.reports, this.daemonSets, this.configMaps, this.nodes, this.agentPods];
  }

  /**
   * The operator's Deployment, once known: what the DaemonSet and the ConfigMap are owned by from the next
   * reconcile on (an operator that started while the API server was unreachable learns it only later).
   */
  setOwner(owner: Owner): void {
    this.#deps.owner = owner;
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
    this.queue.add(AGENTS_KEY);
    this.#options.log.info("caches synced", {
      xdpcounters: this.xdpCounters.list().length,
      reports: this.reports.list().length,
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
        log.debug("reconciled", { key: key === AGENTS_KEY ? "agents" : key, ...result });
        if (result.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
      } catch (error) {
        metrics.reconciles.inc({ outcome: "Error" });
        metrics.reconcileErrors.inc();
        const delayMs = this.queue.addRateLimited(key);
        log.warn("reconcile failed; retrying", {
          key: key === AGENTS_KEY ? "agents" : key,
          error: messageOf(error),
          delayMs,
        });
      } finally {
        endTimer();
        this.queue.done(key);
      }
    }
  }
}
