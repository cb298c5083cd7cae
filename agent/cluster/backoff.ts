// Timing of reports: the report interval with jitter (so agents started together do not write together),
// exponential backoff with jitter after failed writes, and the decision to skip a write.

export const INTERVAL_JITTER = 0.1;
export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_MAX_MS = 300_000;
/**
 * An unchanged entry is still written once it is this many intervals old (in practice every second report):
 * the operator counts a node as ready only while its entry is younger than 3 intervals
 * (STALE_AFTER_INTERVALS in operator/status), and reports come every interval ±10%.
 */
export const HEARTBEAT_INTERVALS = 1.5;

/** The report interval ±10%. */
export function jitteredInterval(intervalMs: number, random: () => number = Math.random): number {
  return Math.round(intervalMs * (1 - INTERVAL_JITTER + 2 * INTERVAL_JITTER * random()));
}

/**
 * The wait before retry number `failures` (1, 2, ...): base·2^(failures−1), capped at max(interval, 30s) and
 * at 5 minutes, then "equal jitter": half of it fixed, half random.
 */
export function backoffDelay(
  failures: number,
  intervalMs: number,
  random: () => number = Math.random,
): number {
  const cap = Math.min(Math.max(intervalMs, 30_000), BACKOFF_MAX_MS);
  const exp = Math.min(cap, BACKOFF_BASE_MS * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

/** Whether to write: the entry changed since the last successful write, or a heartbeat is due. */
export function shouldReport(opts: {
  key: string;
  lastKey: string | undefined;
  lastSuccessMs: number | undefined;
  nowMs: number;
  intervalMs: number;
}): boolean {
  if (opts.lastKey === undefined || opts.lastSuccessMs === undefined) return true;
  if (opts.key !== opts.lastKey) return true;
  return opts.nowMs - opts.lastSuccessMs >= HEARTBEAT_INTERVALS * opts.intervalMs;
}
