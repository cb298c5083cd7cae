// Named steps, each logged with how long it took, each with its undo; undoAll() runs the undos newest first,
// logging each, and carries on past a failing one (what is left is then reported, not hidden). The shape of
// kind's node entrypoint: small steps named for what they do, so a log reads as the node's story.

export type Log = (line: string) => void;

interface Undo {
  name: string;
  fn: () => Promise<void> | void;
}

export class StepError extends Error {
  readonly step: string;
  constructor(who: string, step: string, cause: unknown) {
    super(`${who}: ${step}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "StepError";
    this.step = step;
  }
}

export class Steps {
  readonly who: string;
  readonly #log: Log;
  readonly #undo: Undo[] = [];
  /** milliseconds each step took, by name, in order */
  readonly timings: [string, number][] = [];

  constructor(who: string, log: Log) {
    this.who = who;
    this.#log = log;
  }

  log(line: string): void {
    this.#log(`${this.who}: ${line}`);
  }

  /**
   * Runs a step; its undo (if any) is registered only once the step succeeded, so a failed step must leave
   * nothing behind itself or register the partial undo first with `undo()`.
   */
  async run<T>(
    name: string,
    fn: () => Promise<T> | T,
    undo?: { name: string; fn: (result: T) => Promise<void> | void },
  ): Promise<T> {
    const began = performance.now();
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      this.log(`${name}: FAILED after ${Math.round(performance.now() - began)} ms`);
      throw new StepError(this.who, name, err);
    }
    const ms = Math.round(performance.now() - began);
    this.timings.push([name, ms]);
    this.log(`${name} (${ms} ms)`);
    if (undo) this.#undo.push({ name: undo.name, fn: () => undo.fn(result) });
    return result;
  }

  /** Registers an undo without a step (for something a step makes before it can fail). */
  undo(name: string, fn: () => Promise<void> | void): void {
    this.#undo.push({ name, fn });
  }

  /** Runs every undo, newest first; returns the failures' messages (empty when all went). */
  async undoAll(): Promise<string[]> {
    const failures: string[] = [];
    for (const undo of this.#undo.splice(0).reverse()) {
      const began = performance.now();
      try {
        await undo.fn();
        this.log(`undo: ${undo.name} (${Math.round(performance.now() - began)} ms)`);
      } catch (err) {
        const message = `undo: ${undo.name}: ${err instanceof Error ? err.message : String(err)}`;
        this.log(message);
        failures.push(`${this.who}: ${message}`);
      }
    }
    return failures;
  }
}
