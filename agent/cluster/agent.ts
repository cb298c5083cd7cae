// The in-cluster agent's loop: reconcile the node's interfaces every poll, report the node's entry every
// reportInterval (with jitter; skipped when nothing changed; backoff after failures), remove the pins of
// deleted XdpCounters, and in clean mode detach everything and report Clean. A count-mode agent whose Node no
// longer matches the configuration's nodeSelector turns to clean mode by itself (while it runs; the operator's
// cleanup DaemonSet brings a clean-mode agent to such a node in any case, docs/adr/0012). Stopping (SIGTERM) leaves the counters attached and pinned, so a
// restarted or succeeding agent continues them.
import { setTimeout as sleep } from "node:timers/promises";
import {
  type AgentConfig,
  type NodePhase,
  nodeEntryPatch,
  nodeMatchesSelector,
} from "../../api/v1alpha1/index.ts";
import type { Logger } from "../../runtime/index.ts";
import { type Inventory, readInventory } from "../interfaces/index.ts";
import { backoffDelay, jitteredInterval, shouldReport } from "./backoff.ts";
import type { ClusterApi } from "./cluster-api.ts";
import { messageOf } from "./errors.ts";
import { type AgentHealth, renderMetrics } from "./metrics.ts";
import { buildNodeEntry, changeKey } from "./node-entry.ts";
import { removeOrphans } from "./orphans.ts";
import { Reconciler } from "./reconciler.ts";

export const DEFAULT_POLL_MS = 5_000;
export const ORPHAN_CHECK_MS = 300_000;
export const NODE_IPS_RETRY_MS = 30_000;

export interface AgentOptions {
  config: AgentConfig;
  api: ClusterApi;
  log: Logger;
  pinRoot: string;
  pollMs?: number;
  objectPath?: string;
  listInterfaces?: () => Promise<Inventory>;
  random?: () => number;
  /**
   * Where the interface states and counters come from: the node's XDP counters (a Reconciler, the
   * default), or a stand-in with the same surface (bench/scale.ts reports synthetic counters through this
   * very loop, with no BPF).
   */
  source?: CounterSource;
}

/** What the loop needs from the Reconciler. */
export type CounterSource = Pick<
  Reconciler,
  "reconcile" | "states" | "ready" | "nodeProblem" | "setNodeProblem" | "cleanAll" | "close"
>;

type ReportResult = "written" | "skipped" | "gone" | "failed";

export class Agent {
  readonly #config: AgentConfig;
  readonly #api: ClusterApi;
  readonly #log: Logger;
  readonly #pinRoot: string;
  readonly #pollMs: number;
  readonly #list: () => Promise<Inventory>;
  readonly #random: () => number;
  readonly #reconciler: CounterSource;
  readonly health: AgentHealth = {
    reportsTotal: 0,
    reportErrorsTotal: 0,
    lastReportSeconds: 0,
    reconcileErrorsTotal: 0,
    ready: false,
  };
  #nodeIps: Set<string> | undefined;
  #lastKey: string | undefined;
  #failures = 0;
  #lastLoopMs = Date.now();
  #idle = false;

  constructor(opts: AgentOptions) {
    this.#config = opts.config;
    this.#api = opts.api;
    this.#log = opts.log;
    this.#pinRoot = opts.pinRoot;
    this.#pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
    this.#list = opts.listInterfaces ?? readInventory;
    this.#random = opts.random ?? Math.random;
    this.#reconciler =
      opts.source ??
      new Reconciler({
        config: opts.config,
        pinRoot: opts.pinRoot,
        objectPath: opts.objectPath,
        log: opts.log,
      });
  }

  /** Live: the loop turned recently (or the agent is idle after cleaning up, which is fine too). */
  healthy(): boolean {
    return this.#idle || Date.now() - this.#lastLoopMs < Math.max(60_000, 6 * this.#pollMs);
  }

  ready(): boolean {
    return this.health.ready;
  }

  metrics(): string {
    return renderMetrics({
      xdpCounter: this.#config.xdpCounter,
      node: this.#config.nodeName,
      states: this.#idle ? [] : this.#reconciler.states(),
      health: this.health,
    });
  }

  /** Runs until the signal aborts. Leaves counters attached (count mode). */
  async run(signal: AbortSignal): Promise<void> {
    try {
      if (this.#config.mode === "clean") {
        await this.#runClean(signal, "the XdpCounter is being deleted");
      } else if ((await this.#runCount(signal)) === "deselected") {
        await this.#runClean(signal, "this node no longer matches the XdpCounter's nodeSelector");
      }
    } finally {
      this.#reconciler.close();
    }
  }

  async #runCount(signal: AbortSignal): Promise<"deselected" | undefined> {
    const intervalMs = this.#config.reportIntervalMs;
    // The Node's addresses matter only for action drop (the safety check), and then before the first
    // attach; counting with pass never waits for the API server, which may be unreachable for a while.
    if (this.#config.action === "drop") await this.#refreshNodeIps();
    const now = Date.now();
    let nextPoll = now;
    let nextReport = now;
    let nextOrphans = now;
    let nextNodeIps = this.#config.action === "drop" ? now + NODE_IPS_RETRY_MS : Number.POSITIVE_INFINITY;
    let gone = false;
    let deselected = false;
    let nextSelection = this.#config.nodeSelector ? now : Number.POSITIVE_INFINITY;
    // API calls run beside the loop, one of each kind at a time, so a slow or unreachable API server
    // (each request may take its full timeout) never delays the interface polls.
    const tasks = new Map<string, Promise<void>>();
    let wake: (() => void) | undefined;
    const background = (name: string, task: () => Promise<void>): void => {
      if (tasks.has(name)) return;
      const run = task()
        .catch((err: unknown) => this.#log.error(`${name} failed`, { error: messageOf(err) }))
        .finally(() => {
          tasks.delete(name);
          wake?.();
        });
      tasks.set(name, run);
    };
    while (!signal.aborted && !gone && !deselected) {
      this.#lastLoopMs = Date.now();
      if (Date.now() >= nextPoll) {
        await this.#reconcile();
        nextPoll = Date.now() + this.#pollMs;
      }
      if (Date.now() >= nextReport && !tasks.has("report")) {
        background("report", async () => {
          const result = await this.#report();
          if (result === "gone" && (await this.#confirmGone())) {
            gone = true;
            return;
          }
          const delay =
            result === "gone"
              ? backoffDelay(++this.#failures, intervalMs, this.#random)
              : result === "failed"
                ? backoffDelay(this.#failures, intervalMs, this.#random)
                : jitteredInterval(intervalMs, this.#random);
          nextReport = Date.now() + delay;
        });
      }
      if (this.#nodeIps === undefined && Date.now() >= nextNodeIps) {
        nextNodeIps = Number.POSITIVE_INFINITY;
        background("node addresses", async () => {
          await this.#refreshNodeIps();
          nextNodeIps = Date.now() + NODE_IPS_RETRY_MS;
        });
      }
      if (Date.now() >= nextOrphans) {
        nextOrphans = Number.POSITIVE_INFINITY;
        background("orphans", async () => {
          await this.#removeOrphans();
          nextOrphans = Date.now() + ORPHAN_CHECK_MS;
        });
      }
      if (Date.now() >= nextSelection) {
        nextSelection = Number.POSITIVE_INFINITY;
        background("node selection", async () => {
          deselected = await this.#deselected();
          nextSelection = Date.now() + jitteredInterval(intervalMs, this.#random);
        });
      }
      if (gone || deselected) break;
      const next = tasks.has("report") ? nextPoll : Math.min(nextPoll, nextReport);
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, next - Date.now()));
        signal.addEventListener("abort", done, { once: true });
        wake = done;
      });
    }
    if (gone) {
      this.#log.info("the XdpCounter is gone: detaching and unpinning its counters on this node");
      this.#reconciler.cleanAll("the XdpCounter was deleted");
      this.health.ready = true;
      await this.#idleUntil(signal);
      return undefined;
    }
    if (deselected) {
      // A count report still in flight must not land after Clean (the operator would keep waiting).
      await Promise.allSettled([...tasks.values()]);
      return "deselected";
    }
    return undefined;
  }

  /** The Node exists and its labels no longer match the nodeSelector; unknown (API errors) is false. */
  async #deselected(): Promise<boolean> {
    try {
      const labels = await this.#api.nodeLabels(this.#config.nodeName);
      return labels !== undefined && !nodeMatchesSelector(this.#config, labels);
    } catch (err) {
      this.#log.warn("cannot read the Node's labels", { error: messageOf(err) });
      return false;
    }
  }

  async #runClean(signal: AbortSignal, reason: string): Promise<void> {
    const intervalMs = this.#config.reportIntervalMs;
    this.#log.info(`clean mode: ${reason}; detaching and unpinning its counters`);
    await this.#report("Cleaning", true);
    let cleaned = false;
    while (!signal.aborted) {
      this.#lastLoopMs = Date.now();
      if (!cleaned) {
        try {
          const names = this.#reconciler.cleanAll("clean mode");
          this.#log.info("clean: nothing of this XdpCounter is left attached or pinned", {
            interfaces: names,
          });
          cleaned = true;
          this.health.ready = true;
        } catch (err) {
          this.#log.error("clean: cannot remove the counters; retrying", { error: messageOf(err) });
        }
      }
      if (cleaned) {
        const result = await this.#report("Clean", true);
        if (result === "written" || result === "gone") {
          this.#log.info("clean: reported; idle until stopped");
          return this.#idleUntil(signal);
        }
      }
      // at most 30 s between tries, so the liveness probe sees the loop turning
      const wait = cleaned
        ? Math.min(30_000, backoffDelay(this.#failures, intervalMs, this.#random))
        : this.#pollMs;
      await sleep(wait, undefined, { signal }).catch(() => undefined);
    }
  }

  async #idleUntil(signal: AbortSignal): Promise<void> {
    this.#idle = true;
    if (signal.aborted) return;
    await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  }

  async #reconcile(): Promise<void> {
    try {
      const inventory = await this.#list();
      this.#reconciler.reconcile(inventory, this.#nodeIps ?? new Set());
      const wasReady = this.health.ready;
      this.health.ready = this.#reconciler.ready;
      if (this.health.ready && !wasReady) this.#log.info("ready: the selected interfaces are attached");
    } catch (err) {
      this.health.reconcileErrorsTotal++;
      this.#reconciler.setNodeProblem(`cannot reconcile the node's interfaces: ${messageOf(err)}`);
      this.#log.error("reconcile failed", { error: messageOf(err) });
    }
  }

  async #report(phase?: NodePhase, force = false): Promise<ReportResult> {
    const clean = phase === "Cleaning" || phase === "Clean";
    const entry = buildNodeEntry({
      states: clean ? [] : this.#reconciler.states(),
      generation: this.#config.generation,
      now: new Date(),
      phase,
      nodeProblem: clean ? undefined : this.#reconciler.nodeProblem,
    });
    const key = changeKey(entry);
    const nowMs = Date.now();
    const due = shouldReport({ key, lastKey: this.#lastKey });
    if (!due && !force) return "skipped";
    try {
      const result = await this.#api.patchNodeEntry(
        this.#config.xdpCounter,
        nodeEntryPatch(this.#config.nodeName, entry),
      );
      if (result === "gone") return "gone";
      if (this.#failures > 0) this.#log.info("reporting again after failures", { failures: this.#failures });
      this.#failures = 0;
      this.#lastKey = key;
      this.health.reportsTotal++;
      this.health.lastReportSeconds = Math.floor(nowMs / 1000);
      this.#log.debug("reported", { phase: entry.phase, packets: entry.packets, bytes: entry.bytes });
      return "written";
    } catch (err) {
      this.#failures++;
      this.health.reportErrorsTotal++;
      this.#log.warn("report failed; retrying with backoff", {
        failures: this.#failures,
        error: messageOf(err),
      });
      return "failed";
    }
  }

  /** A 404 on the status patch: ask once more with a GET before deleting anything. */
  async #confirmGone(): Promise<boolean> {
    try {
      return !(await this.#api.xdpCounterExists(this.#config.xdpCounter));
    } catch (err) {
      this.#log.warn("cannot confirm that the XdpCounter is gone", { error: messageOf(err) });
      return false;
    }
  }

  async #refreshNodeIps(): Promise<void> {
    try {
      this.#nodeIps = new Set(await this.#api.nodeInternalIps(this.#config.nodeName));
      this.#log.info("node addresses", { internalIPs: [...this.#nodeIps] });
    } catch (err) {
      this.#log.warn(
        "cannot read the Node's addresses; until then action drop is refused only on the default-route interface",
        { error: messageOf(err) },
      );
    }
  }

  async #removeOrphans(): Promise<void> {
    try {
      await removeOrphans({
        pinRoot: this.#pinRoot,
        self: this.#config.xdpCounter,
        exists: (name) => this.#api.xdpCounterExists(name),
        log: this.#log,
      });
    } catch (err) {
      this.#log.warn("cannot look for pins of deleted XdpCounters", { error: messageOf(err) });
    }
  }
}
