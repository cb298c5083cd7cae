// Polling for tests: Kubernetes is eventually consistent, so tests wait for a state rather than sleep.
// One loop for the shared scenario, the real nodes' tests and the control plane's.
import assert from "node:assert/strict";

/**
 * Polls `fn` every `intervalMs` until it returns something truthy; fails with `what` after `timeoutMs`,
 * naming the error of the last attempt if it threw.
 */
export async function until<T>(
  what: string,
  fn: () => T | Promise<T>,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      assert.fail(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
