// The agent of one node, for every XdpCounter (docs/adr/0021). It watches two objects only, both by name: the
// agents' ConfigMap, where the operator puts each XdpCounter's spec, and its own Node (labels, taints,
// addresses). Status writes never reach it. For each XdpCounter that selects the node it runs a CounterUnit
// (counters and report); for one that no longer does, or is being deleted, or whose pins it finds without a
// spec, it detaches, unpins and deletes the report. An interface has one XDP program: the XdpCounter that
// attached first keeps it, the others report who holds it and take over once it lets go. Stopping (SIGTERM)
// leaves every counter attached and pinned, so a restarted agent continues them.
import {
  AGENT_SPECS_SUFFIX,
  type AgentConfig,
  parseAgentSpecs,
  reportName,
} from "../../api/v1alpha1/index.ts";
import type { Logger } from "../../runtime/index.ts";
import { messageOf } from "../../runtime/index.ts";
import {
  configMapsPath,
  Informer,
  informerEventLevel,
  type KubeClient,
  type KubeObject,
  nodesPath,
  reportsPath,
} from "../../runtime/kube/index.ts";
import { pinnedInterfaces, pinOwners, STANDALONE_OWNER } from "../bpf/index.ts";
import { type Inventory, readInventory } from "../interfaces/index.ts";
import { type CounterSource, CounterUnit, type ReportSink } from "./counter-unit.ts";
import { renderMetrics } from "./metrics.ts";
import { Reconciler } from "./reconciler.ts";
import { reportObject } from "./report.ts";
import { countsOn, type NodeFacts, nodeFacts } from "./selection.ts";
import { reportInTurn, WriteBudget } from "./write-budget.ts";

export const DEFAULT_POLL_MS = 5_000;
export const AGENT_FIELD_MANAGER = "xdp-counter-agent";
/** How long a failed clean-up waits before it is tried again. */
const CLEAN_RETRY_MS = 5_000;
/** A name that can be an XdpCounter's; other pin owners (the CLI's `_standalone`, strays) are not ours. */
const XDPCOUNTER_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export interface NodeAgentOptions {
  client: KubeClient;
  nodeName: string;
  /** The release namespace, where the agents' ConfigMap is. */
  namespace: string;
  /** The agents' ConfigMap's name (`<release>-agent-specs`). */
  specsName: string;
  pinRoot: string;
  log: Logger;
  pollMs?: number;
  objectPath?: string;
  listInterfaces?: () => Promise<Inventory>;
  random?: () => number;
  /** The node's report writes per minute, for all its XdpCounters together (docs/adr/0027); unset: no limit. */
  reportWritesPerMinute?: number;
  /** Where an XdpCounter's counters come from: a Reconciler (the default), or a stand-in in benchmarks. */
  source?: (config: AgentConfig, heldBy: (iface: string) => string | undefined) => CounterSource;
}

/** The ConfigMap's name for a release. */
export const specsConfigMapName = (release: string): string => `${release}${AGENT_SPECS_SUFFIX}`;

export class NodeAgent {
  readonly #o: NodeAgentOptions;
  readonly #pollMs: number;
  readonly #specs: Informer;
  readonly #node: Informer;
  /** the XdpCounters counted here, in the order they were taken on (the first keeps a shared interface) */
  readonly #units = new Map<string, CounterUnit>();
  /** units detaching, and when each may be tried again */
  readonly #cleaning = new Map<
    string,
    { unit: CounterUnit; why: string; notBeforeMs: number; running: boolean }
  >();
  readonly #budget: WriteBudget | undefined;
  #lastLoopMs = Date.now();
  #wake: (() => void) | undefined;
  #specErrors = "";
  /** XdpCounters in the specs that do not count here, as last logged */
  #notHere = "";

  constructor(options: NodeAgentOptions) {
    this.#o = options;
    this.#pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    if (options.reportWritesPerMinute !== undefined)
      this.#budget = new WriteBudget(options.reportWritesPerMinute, Date.now());
    const wake = () => this.#wake?.();
    const handlers = { onAdd: wake, onUpdate: wake, onDelete: wake };
    this.#specs = new Informer({
      name: "agent specs",
      client: options.client,
      path: configMapsPath(options.namespace),
      fieldSelector: `metadata.name=${options.specsName}`,
    });
    this.#specs.addHandlers(handlers);
    this.#node = new Informer({
      name: "node",
      client: options.client,
      path: nodesPath(),
      fieldSelector: `metadata.name=${options.nodeName}`,
    });
    this.#node.addHandlers(handlers);
    for (const informer of [this.#specs, this.#node]) {
      informer.onEvent((event) => {
        options.log[informerEventLevel(event.type)](`watch ${event.type}`, { ...event });
      });
    }
  }

  /** Live: the loop turned recently. */
  healthy(): boolean {
    return Date.now() - this.#lastLoopMs < Math.max(60_000, 6 * this.#pollMs);
  }

  /** Ready: it knows the specs and its Node, and every XdpCounter it counts for is attached where it can be. */
  ready(): boolean {
    return (
      this.#specs.hasSynced && this.#node.hasSynced && [...this.#units.values()].every((unit) => unit.ready)
    );
  }

  metrics(): string {
    return renderMetrics({
      node: this.#o.nodeName,
      units: [...this.#units.values()].map((unit) => ({
        xdpCounter: unit.name,
        states: unit.states(),
        health: unit.health,
      })),
      ready: this.ready(),
    });
  }

  /** The XdpCounters this agent counts for now. */
  get counting(): string[] {
    return [...this.#units.keys()];
  }

  /** Runs until the signal aborts. Leaves counters attached. */
  async run(signal: AbortSignal): Promise<void> {
    this.#specs.start();
    this.#node.start();
    let nextPoll = 0;
    try {
      while (!signal.aborted) {
        this.#lastLoopMs = Date.now();
        this.#arrange();
        if (Date.now() >= nextPoll || [...this.#units.values()].some((unit) => unit.wantsPoll)) {
          await this.#poll();
          nextPoll = Date.now() + this.#pollMs;
        }
        const now = Date.now();
        const reportAt = reportInTurn([...this.#units.values()], now, this.#budget);
        this.#startCleanups(now);
        const next = Math.min(
          nextPoll,
          reportAt,
          ...[...this.#cleaning.values()].map((c) => (c.running ? Number.POSITIVE_INFINITY : c.notBeforeMs)),
        );
        await this.#sleepUntil(next, signal);
      }
    } finally {
      await Promise.all([this.#specs.stop(), this.#node.stop()]);
      await Promise.all([...this.#units.values()].map((unit) => unit.close()));
    }
  }

  #sleepUntil(atMs: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.#wake = undefined;
        resolve();
      };
      // at most a poll interval: the liveness probe sees the loop turning
      const timer = setTimeout(done, Math.min(this.#pollMs, Math.max(0, atMs - Date.now())));
      signal.addEventListener("abort", done, { once: true });
      this.#wake = done;
    });
  }

  /** The facts of the Node, once its informer has it. */
  #nodeFacts(): NodeFacts | undefined {
    const node = this.#node.get(this.#o.nodeName);
    return node ? nodeFacts(node) : undefined;
  }

  /**
   * Decides which XdpCounters count here and which clean up. Nothing is cleaned before both the ConfigMap and
   * the Node are known: an API server that is briefly gone must never detach anything.
   */
  #arrange(): void {
    if (!this.#specs.hasSynced || !this.#node.hasSynced) return;
    const node = this.#nodeFacts();
    const configMap = this.#specs.get(`${this.#o.namespace}/${this.#o.specsName}`);
    if (!node || !configMap) return;
    const { configs, errors } = parseAgentSpecs(
      (configMap as KubeObject & { data?: Record<string, string> }).data,
      this.#o.nodeName,
    );
    const errorText = errors.join("; ");
    if (errorText !== this.#specErrors) {
      if (errorText) this.#o.log.error("some XdpCounter specs cannot be read", { errors });
      this.#specErrors = errorText;
    }
    const unreadable = new Set(errors.map((e) => e.slice(0, e.indexOf(":"))));
    const notHere = configs
      .filter((c) => c.mode === "count" && !countsOn(c, node, this.#counting(c.xdpCounter)))
      .map((c) => c.xdpCounter);
    if (notHere.join(",") !== this.#notHere) {
      this.#notHere = notHere.join(",");
      if (notHere.length > 0)
        this.#o.log.info("XdpCounters that do not count on this node (nodeSelector, or untolerated taints)", {
          xdpcounters: notHere,
          labels: node.labels,
          taints: node.taints,
        });
    }
    const wanted = new Map<string, AgentConfig>();
    const why = new Map<string, string>();
    for (const config of configs) {
      if (config.mode === "clean") why.set(config.xdpCounter, "the XdpCounter is being deleted");
      else if (!countsOn(config, node, this.#counting(config.xdpCounter)))
        why.set(config.xdpCounter, "the XdpCounter does not select this node");
      else wanted.set(config.xdpCounter, config);
    }
    for (const [name, unit] of this.#units) {
      const config = wanted.get(name);
      if (config && config.uid === unit.config.uid) {
        unit.update(config);
        continue;
      }
      if (unreadable.has(name)) continue; // a spec that cannot be read changes nothing
      this.#units.delete(name);
      this.#startCleaning(
        unit,
        config ? "an XdpCounter of the same name replaced it" : (why.get(name) ?? "the XdpCounter is gone"),
      );
    }
    for (const [name, config] of wanted) {
      if (this.#units.has(name) || this.#cleaning.has(name)) continue;
      const reported = pinnedInterfaces(this.#o.pinRoot, name).length > 0;
      this.#units.set(name, this.#unit(config, reported));
      this.#o.log.info("counting for an XdpCounter", {
        xdpcounter: name,
        interfaces: config.interfaces,
        action: config.action,
        attachMode: config.attachMode,
      });
    }
    // pins of XdpCounters that have no spec any more: their agents are gone, nobody else would detach them
    for (const owner of pinOwners(this.#o.pinRoot)) {
      if (owner === STANDALONE_OWNER || !XDPCOUNTER_NAME.test(owner)) continue;
      if (this.#units.has(owner) || this.#cleaning.has(owner) || unreadable.has(owner)) continue;
      if (pinnedInterfaces(this.#o.pinRoot, owner).length === 0) continue;
      this.#startCleaning(
        this.#unit(orphanConfig(owner, this.#o.nodeName), true),
        why.get(owner) ?? "the XdpCounter is gone",
      );
    }
  }

  /** Whether this node counts for the XdpCounter already: a unit runs, or its pins are here (a restart). */
  #counting(name: string): boolean {
    return this.#units.has(name) || pinnedInterfaces(this.#o.pinRoot, name).length > 0;
  }

  #unit(config: AgentConfig, reported: boolean): CounterUnit {
    const heldBy = (iface: string): string | undefined => this.#holder(iface, config.xdpCounter);
    const source =
      this.#o.source?.(config, heldBy) ??
      new Reconciler({
        config,
        pinRoot: this.#o.pinRoot,
        objectPath: this.#o.objectPath,
        log: this.#o.log,
        heldBy,
      });
    return new CounterUnit({
      config,
      source,
      sink: this.#sink(),
      log: this.#o.log,
      random: this.#o.random,
      reported,
      wake: () => this.#wake?.(),
    });
  }

  /** The XdpCounter other than `self` whose counter is pinned on `iface` here, if any. */
  #holder(iface: string, self: string): string | undefined {
    for (const name of [...this.#units.keys(), ...this.#cleaning.keys()]) {
      if (name !== self && pinnedInterfaces(this.#o.pinRoot, name).includes(iface)) return name;
    }
    return undefined;
  }

  #sink(): ReportSink {
    const { client, nodeName, log } = this.#o;
    return {
      apply: async (body) => {
        const node = this.#node.get(nodeName);
        if (!node?.metadata.uid) throw new Error(`Node ${nodeName} is not known yet`);
        const object = reportObject(body, { name: nodeName, uid: node.metadata.uid });
        await client.patch(reportsPath(object.metadata.name), object, "apply", {
          fieldManager: AGENT_FIELD_MANAGER,
          force: true,
        });
      },
      remove: async (xdpCounter) => {
        await client.delete(reportsPath(reportName(xdpCounter, nodeName)));
        log.debug("report deleted", { xdpcounter: xdpCounter });
      },
    };
  }

  #startCleaning(unit: CounterUnit, why: string): void {
    this.#o.log.info("cleaning up an XdpCounter on this node", { xdpcounter: unit.name, why });
    this.#cleaning.set(unit.name, { unit, why, notBeforeMs: 0, running: false });
  }

  #startCleanups(nowMs: number): void {
    for (const [name, c] of this.#cleaning) {
      if (c.running || nowMs < c.notBeforeMs) continue;
      c.running = true;
      c.unit
        .clean(c.why)
        .then(async (done) => {
          c.running = false;
          if (done) {
            this.#cleaning.delete(name);
            await c.unit.close();
          } else c.notBeforeMs = Date.now() + CLEAN_RETRY_MS;
        })
        .catch((err: unknown) => {
          c.running = false;
          c.notBeforeMs = Date.now() + CLEAN_RETRY_MS;
          this.#o.log.error("clean-up failed", { xdpcounter: name, error: messageOf(err) });
        })
        .finally(() => this.#wake?.());
    }
  }

  async #poll(): Promise<void> {
    if (this.#units.size === 0) return;
    let inventory: Inventory;
    try {
      inventory = await (this.#o.listInterfaces ?? readInventory)();
    } catch (err) {
      this.#o.log.error("cannot list the node's interfaces", { error: messageOf(err) });
      return;
    }
    const ips = new Set(this.#nodeFacts()?.internalIps ?? []);
    for (const unit of this.#units.values()) unit.poll(inventory, ips);
  }
}

/** What a clean-up needs of an XdpCounter known only by its pins. */
function orphanConfig(owner: string, nodeName: string): AgentConfig {
  return {
    xdpCounter: owner,
    uid: "unknown",
    generation: 0,
    mode: "clean",
    interfaces: [],
    attachMode: "auto",
    action: "pass",
    reportIntervalMs: 10_000,
    nodeName,
  };
}
