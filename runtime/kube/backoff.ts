// Exponential backoff with jitter, for retries of failed reconciles and broken watches.

export type BackoffOptions = {
  /** Delay of the first retry, before jitter. */
  baseMs: number;
  /** Upper bound of any delay, jitter included. */
  maxMs: number;
  /** Fraction of the delay added at random: 0.2 gives a delay in [d, 1.2·d]. */
  jitter: number;
  /** A number in [0, 1); Math.random unless a test fixes it. */
  random?: () => number;
};

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 100, maxMs: 60_000, jitter: 0.2 };

/** The delay before retry number `attempt` (1 for the first retry): base·2^(attempt−1), plus jitter, capped. */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 52));
  const plain = Math.min(options.maxMs, options.baseMs * 2 ** exponent);
  const random = options.random ?? Math.random;
  return Math.min(options.maxMs, Math.round(plain * (1 + options.jitter * random())));
}
