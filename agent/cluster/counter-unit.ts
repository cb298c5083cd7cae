// What the node's agent does for one XdpCounter (docs/adr/0021, 0022): its interfaces' counters (a Reconciler,
// or a stand-in with the same surface in benchmarks) and its report, written at most once per the XdpCounter's
// interval (with jitter), only when something but the time changed, with back-off after failures. The report
// exists before anything is attached, and goes only after everything is detached and unpinned.
import type { AgentConfig } from "../../api/v1alpha1/index.ts";
import type { Logger } from "../../runtime/index.ts";
import { messageOf } from "../../runtime/index.ts";
import type { Inventory } from "../interfaces/index.ts";
import { jitteredInterval, reportBackoff, shouldReport } from "./backoff.ts";
import { type AgentHealth, emptyHealth } from "./metrics.ts";
import type { Reconciler } from "./reconciler.ts";
import { buildReport, changeKey, interfaceTotals, RateMeter, type ReportBody } from "./report.ts";
import type { ReportTurn } from "./write-budget.ts";

/** What a unit needs from its counters: a Reconciler, or a stand-in with the same surface. */
export type CounterSource = Pick<
  Reconciler,
  "reconcile" | "states" | "ready" | "nodeProblem" | "setNodeProblem" | "cleanAll" | "close" | "setConfig"
>;

/** Where reports go: the API server in production. */
export interface ReportSink {
  /** Creates or replaces the report (server-side apply). */
  apply(body: ReportBody): Promise<void>;
  /** Deletes the report; a missing one is not an error. */
  remove(xdpCounter: string): Promise<void>;
}

export class CounterUnit {
  readonly name: string;
  readonly health: AgentHealth = emptyHealth();
  #config: AgentConfig;
  readonly #source: CounterSource;
  readonly #sink: ReportSink;
  readonly #log: Logger;
  readonly #random: () => number;
  readonly #meter = new RateMeter();
  #lastKey: string | undefined;
  #failures = 0;
  #nextReportMs = 0;
  /** the report exists (written since this process started, or found): attaching is allowed */
  #reported = false;
  #reporting: Promise<void> | undefined;
  readonly #wake: () => void;
  /** the report exists but no poll has attached since: the next report waits for one */
  #awaitingPoll = false;

  constructor(opts: {
    config: AgentConfig;
    source: CounterSource;
    sink: ReportSink;
    log: Logger;
    random?: () => number;
    /** the report is known to exist already (an earlier process wrote it) */
    reported?: boolean;
    /** called when a report write ends, so the agent's loop looks again at once (the next report may be due) */
    wake?: () => void;
  }) {
    this.name = opts.config.xdpCounter;
    this.#config = opts.config;
    this.#source = opts.source;
    this.#sink = opts.sink;
    this.#log = opts.log;
    this.#random = opts.random ?? Math.random;
    this.#reported = opts.reported ?? false;
    this.#wake = opts.wake ?? (() => {});
    // counters an earlier process pinned are read by a poll first: never a report that shows them as 0
    if (this.#reported) {
      this.#awaitingPoll = true;
      this.#nextReportMs = Number.POSITIVE_INFINITY;
    }
  }

  get config(): AgentConfig {
    return this.#config;
  }

  get ready(): boolean {
    return this.#reported && this.#source.ready;
  }

  states() {
    return this.#source.states();
  }

  /** A changed spec (generation) of the same XdpCounter: applied by a poll at once, then reported. */
  update(config: AgentConfig): void {
    if (config.generation === this.#config.generation && config.uid === this.#config.uid) return;
    this.#log.info("spec changed", {
      xdpcounter: this.name,
      generation: config.generation,
      interfaces: config.interfaces,
      action: config.action,
      attachMode: config.attachMode,
      reportIntervalMs: config.reportIntervalMs,
    });
    this.#config = config;
    this.#source.setConfig(config);
    // the report says which generation runs only once a poll has applied it (a program swapped, say): the
    // next poll comes at once, and the report right after it
    if (this.#reported) {
      this.#awaitingPoll = true;
      this.#nextReportMs = Number.POSITIVE_INFINITY;
    }
  }

  /** True when the report has just been created and a poll should attach at once. */
  get wantsPoll(): boolean {
    return this.#awaitingPoll;
  }

  /** Attaches and detaches to match the spec; nothing is attached before the report exists. */
  poll(inventory: Inventory, nodeIps: ReadonlySet<string>): void {
    if (!this.#reported) return;
    if (this.#awaitingPoll) {
      this.#awaitingPoll = false;
      this.#nextReportMs = 0; // what the first attach found, reported at once
    }
    try {
      this.#source.reconcile(inventory, nodeIps);
    } catch (err) {
      this.health.reconcileErrorsTotal++;
      this.#source.setNodeProblem(`cannot reconcile the node's interfaces: ${messageOf(err)}`);
      this.#log.error("reconcile failed", { xdpcounter: this.name, error: messageOf(err) });
    }
    const wasReady = this.health.ready;
    this.health.ready = this.ready;
    if (this.health.ready && !wasReady)
      this.#log.info("ready: the selected interfaces are attached", { xdpcounter: this.name });
  }

  /**
   * Starts a report write when one is due and none is running; never waits for the API server. With the node's
   * budget, a due report whose node has no write left waits (it stays due, so the longest waiting goes
   * first); the first write, which creates the report before anything is attached, never waits.
   */
  maybeReport(nowMs: number, budget?: ReportTurn): void {
    if (this.#reporting || nowMs < this.#nextReportMs) return;
    if (budget && this.#reported && !budget.available(nowMs)) return;
    this.#reporting = this.#report(nowMs, this.#reported ? budget : undefined).finally(() => {
      this.#reporting = undefined;
      this.#wake();
    });
  }

  /** When the next report is due (for the agent's wait). */
  get nextReportMs(): number {
    return this.#reporting ? Number.POSITIVE_INFINITY : this.#nextReportMs;
  }

  async #report(nowMs: number, budget?: Pick<ReportTurn, "take">): Promise<void> {
    const states = this.#reported ? this.#source.states() : [];
    const rates = this.#meter.sample(interfaceTotals(states), nowMs);
    const body = buildReport({
      xdpCounter: { name: this.name, uid: this.#config.uid, generation: this.#config.generation },
      nodeName: this.#config.nodeName,
      states,
      now: new Date(nowMs),
      nodeProblem: this.#reported ? this.#source.nodeProblem : undefined,
      rates,
      // before the first write nothing is attached: the report only says the node is taking it on
      ...(this.#reported ? {} : { phase: "Counting" as const }),
    });
    const key = changeKey(body);
    const intervalMs = this.#config.reportIntervalMs;
    if (!shouldReport({ key, lastKey: this.#lastKey })) {
      this.#nextReportMs = nowMs + jitteredInterval(intervalMs, this.#random);
      return;
    }
    // spent only on a write that goes out (before the first await: no other unit runs in between)
    budget?.take(nowMs);
    try {
      await this.#sink.apply(body);
      if (this.#failures > 0)
        this.#log.info("reporting again after failures", { xdpcounter: this.name, failures: this.#failures });
      this.#failures = 0;
      this.#lastKey = key;
      const first = !this.#reported;
      this.#reported = true;
      this.health.reportsTotal++;
      this.health.lastReportSeconds = Math.floor(Date.now() / 1000);
      // the first write only creates the report: the next poll attaches, and the report after it says so
      if (first) {
        this.#awaitingPoll = true;
        this.#nextReportMs = Number.POSITIVE_INFINITY;
      } else this.#nextReportMs = nowMs + jitteredInterval(intervalMs, this.#random);
      this.#log.debug("reported", { xdpcounter: this.name, phase: body.phase, packets: body.packets });
    } catch (err) {
      this.#failures++;
      this.health.reportErrorsTotal++;
      this.#nextReportMs = nowMs + reportBackoff(this.#failures, intervalMs, this.#random);
      this.#log.warn("report failed; retrying with backoff", {
        xdpcounter: this.name,
        failures: this.#failures,
        error: messageOf(err),
      });
    }
  }

  /**
   * Detaches and unpins everything of this XdpCounter on the node, then deletes its report. True once both
   * are done; false to be tried again (the API server may be unreachable: the counters are gone already).
   */
  async clean(why: string): Promise<boolean> {
    await this.#reporting;
    try {
      const names = this.#source.cleanAll(why);
      if (names.length > 0)
        this.#log.info("detached and unpinned", { xdpcounter: this.name, why, interfaces: names });
    } catch (err) {
      this.#log.error("cannot remove the counters; retrying", {
        xdpcounter: this.name,
        error: messageOf(err),
      });
      return false;
    }
    try {
      await this.#sink.remove(this.name);
      this.#log.info("report deleted: nothing of this XdpCounter is left on the node", {
        xdpcounter: this.name,
        why,
      });
      return true;
    } catch (err) {
      this.health.reportErrorsTotal++;
      this.#log.warn("cannot delete the report; retrying", { xdpcounter: this.name, error: messageOf(err) });
      return false;
    }
  }

  /** Waits for a running write; closes file descriptors. Everything attached stays attached and pinned. */
  async close(): Promise<void> {
    await this.#reporting;
    this.#source.close();
  }
}
