// Timing of reports: the report interval with jitter (so agents started together do not write together),
// exponential backoff with jitter after failed writes, and the decision to skip a write.
import { backoffDelay } from "../../runtime/kube/index.ts";

export const INTERVAL_JITTER = 0.1;
export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_MAX_MS = 300_000;

/** The report interval ±10%. */
export function jitteredInterval(intervalMs: number, random: () => number = Math.random): number {
  return Math.round(intervalMs * (1 - INTERVAL_JITTER + 2 * INTERVAL_JITTER * random()));
}

/**
 * The wait before retry number `failures` (1, 2, ...) of a report: the runtime's back-off from 1 s, doubling,
 * plus up to 20 %, capped at max(interval, 30 s) and at 5 minutes.
 */
export function reportBackoff(
  failures: number,
  intervalMs: number,
  random: () => number = Math.random,
): number {
  return backoffDelay(failures, {
    baseMs: BACKOFF_BASE_MS,
    maxMs: Math.min(Math.max(intervalMs, 30_000), BACKOFF_MAX_MS),
    jitter: 0.2,
    random,
  });
}

/**
 * Whether to write: nothing written yet by this process, or the report changed since the last successful
 * write. No heartbeat: the operator reads a node's liveness from its agent pod's Ready condition
 * (docs/adr/0016), so an idle node writes nothing.
 */
export function shouldReport(opts: { key: string; lastKey: string | undefined }): boolean {
  return opts.lastKey === undefined || opts.key !== opts.lastKey;
}
