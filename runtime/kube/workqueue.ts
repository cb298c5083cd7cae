// A work queue of object keys in the manner of client-go's: a key is queued at most once, and never handed
// to two workers at once (a key added while it is being processed is queued again when that ends); failed
// keys come back after an exponential backoff with jitter; delayed keys wait on timers.
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from "./backoff.ts";

export type WorkQueueOptions = {
  backoff?: BackoffOptions;
  /** Called with the number of keys waiting (not processing, not delayed) whenever it changes. */
  onDepth?: (depth: number) => void;
};

export class WorkQueue {
  #queue: string[] = [];
  /** Keys that must be processed (again): queued, or added while processing. */
  #dirty = new Set<string>();
  #processing = new Set<string>();
  #failures = new Map<string, number>();
  #timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  #waiters: ((key: string | undefined) => void)[] = [];
  #shuttingDown = false;
  #backoff: BackoffOptions;
  #onDepth: (depth: number) => void;

  constructor(options: WorkQueueOptions = {}) {
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#onDepth = options.onDepth ?? (() => {});
  }

  get depth(): number {
    return this.#queue.length;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Queues `key` unless it already waits; a key being processed is queued again when done. */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      waiter(key);
      return;
    }
    this.#queue.push(key);
    this.#onDepth(this.#queue.length);
  }

  /** Queues `key` after `delayMs`; an earlier pending delay for the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const pending = this.#timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.#timers.set(key, { at, timer });
  }

  /** Queues `key` after its next backoff delay: each failure in a row doubles it. Returns the delay. */
  addRateLimited(key: string): number {
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    const delay = backoffDelay(failures, this.#backoff);
    this.addAfter(key, delay);
    return delay;
  }

  /** Forgets the failures of `key`, so its next failure starts from the base delay again. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** The next key to process, waiting for one; undefined once the queue shuts down. */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#queue.shift();
    if (key !== undefined) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      this.#onDepth(this.#queue.length);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks `key` processed; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key)) {
      this.#dirty.delete(key);
      this.add(key);
    }
  }

  /** Stops handing out keys: waiting get() calls resolve undefined, timers are cancelled. */
  shutDown(): void {
    this.#shuttingDown = true;
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
    this.#queue = [];
    this.#dirty.clear();
    this.#onDepth(0);
  }
}
