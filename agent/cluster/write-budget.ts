// A node's budget of report writes (docs/adr/0027): every XdpCounter's report on the node draws from one
// token bucket, so the node's write rate stays at most `perMinute` whatever the number of XdpCounters, the
// load every node adds to the API server and etcd beside its kubelet's Lease renewals. A bucket holds at most
// one token per XdpCounter counted on the node: after a quiet spell each may write once without waiting, and
// over time the rate is the budget's.

export class WriteBudget {
  readonly #msPerToken: number;
  #tokens: number;
  #atMs: number;

  /**
   * `perMinute`: the writes a node may make per minute, on average (e.g. 1, or 0.5 for one every 2 min). A new
   * bucket is full: an agent that starts may write each report once at once.
   */
  constructor(perMinute: number, nowMs: number) {
    if (!(perMinute > 0) || !Number.isFinite(perMinute))
      throw new RangeError(`report writes per minute must be a positive number, not ${perMinute}`);
    this.#msPerToken = 60_000 / perMinute;
    this.#tokens = Number.POSITIVE_INFINITY;
    this.#atMs = nowMs;
  }

  #refill(nowMs: number, capacity: number): void {
    const elapsed = Math.max(0, nowMs - this.#atMs);
    this.#tokens = Math.min(Math.max(1, capacity), this.#tokens + elapsed / this.#msPerToken);
    this.#atMs = Math.max(this.#atMs, nowMs);
  }

  /** Whether a write may go now. */
  available(nowMs: number, capacity: number): boolean {
    this.#refill(nowMs, capacity);
    return this.#tokens >= 1;
  }

  /** Spends one write; false (and nothing spent) when none is available. */
  take(nowMs: number, capacity: number): boolean {
    if (!this.available(nowMs, capacity)) return false;
    this.#tokens -= 1;
    return true;
  }

  /** When the next write may go: now if one may, else when the bucket holds a whole token again. */
  nextAt(nowMs: number, capacity: number): number {
    if (this.available(nowMs, capacity)) return nowMs;
    return nowMs + Math.ceil((1 - this.#tokens) * this.#msPerToken);
  }
}

/** One report's view of its node's budget at the moment it falls due. */
export interface ReportTurn {
  /** whether a write may go now */
  available(nowMs: number): boolean;
  /** spends one write */
  take(nowMs: number): void;
}

/** What takes turns at a budget: a CounterUnit. */
export interface BudgetedReporter {
  /** when its next report is due (+∞ while one is being written) */
  readonly nextReportMs: number;
  maybeReport(nowMs: number, budget?: ReportTurn): void;
}

/**
 * Lets every due report write that the node's budget allows, the longest due first, and returns when the
 * next one may: its due time, or later when the budget has no write left by then. Without a budget, every
 * due report writes.
 */
export function reportInTurn(
  units: readonly BudgetedReporter[],
  nowMs: number,
  budget?: WriteBudget,
): number {
  // one token per XdpCounter at most: after a quiet spell each may write once without waiting
  const capacity = units.length;
  const spend: ReportTurn | undefined = budget && {
    available: (t: number) => budget.available(t, capacity),
    take: (t: number) => void budget.take(t, capacity),
  };
  for (const unit of [...units].sort((a, b) => a.nextReportMs - b.nextReportMs))
    unit.maybeReport(nowMs, spend);
  const writeAt = budget ? budget.nextAt(nowMs, capacity) : nowMs;
  return Math.min(...units.map((unit) => Math.max(unit.nextReportMs, writeAt)));
}
