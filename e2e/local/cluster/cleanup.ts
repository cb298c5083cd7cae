// Undo steps for everything a cluster makes (processes, namespaces, links, mounts, files), run in reverse
// order by stop(), and synchronously from process exit and signal handlers when a test run is aborted.
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";

export type UndoStep =
  | { kind: "argv"; argv: string[] }
  | { kind: "rm"; path: string }
  | { kind: "group"; undo: Undo }
  | { kind: "fn"; fn: () => void };

export class Undo {
  #steps: UndoStep[] = [];
  #early: UndoStep[] = [];

  /** A step that runs before all others (killing processes before their namespaces go). */
  pushEarly(step: UndoStep): void {
    this.#early.push(step);
  }

  push(step: UndoStep): UndoStep {
    this.#steps.push(step);
    return step;
  }

  /** Runs and forgets one step now (for a node removed while the cluster lives on). */
  runNow(step: UndoStep): void {
    const i = this.#steps.indexOf(step);
    if (i >= 0) this.#steps.splice(i, 1);
    runStep(step);
  }

  /** Runs every step, newest first, ignoring failures (the thing may already be gone). */
  runAll(): void {
    for (const step of [...this.#early.splice(0), ...this.#steps.splice(0).reverse()]) runStep(step);
  }
}

function runStep(step: UndoStep): void {
  try {
    if (step.kind === "argv") {
      const [cmd, ...args] = step.argv;
      execFileSync(cmd as string, args, { stdio: "ignore" });
    } else if (step.kind === "group") step.undo.runAll();
    else if (step.kind === "fn") step.fn();
    else rmSync(step.path, { recursive: true, force: true });
  } catch {
    // already gone
  }
}

// Clusters still alive in this process, cleaned up if it exits or is interrupted before stop().
const live = new Set<Undo>();
const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

function cleanupAll(): void {
  for (const undo of live) undo.runAll();
  live.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // Someone else handles the signal (e.g. the CLI, which stops the cluster gracefully): the exit handler
  // remains as the safety net.
  if (process.listenerCount(signal) > 1) return;
  cleanupAll();
  uninstall();
  process.kill(process.pid, signal);
}

function install(): void {
  process.on("exit", cleanupAll);
  for (const s of signals) process.on(s, onSignal);
}

function uninstall(): void {
  process.off("exit", cleanupAll);
  for (const s of signals) process.off(s, onSignal);
}

export function registerLive(undo: Undo): void {
  if (live.size === 0) install();
  live.add(undo);
}

export function unregisterLive(undo: Undo): void {
  live.delete(undo);
  if (live.size === 0) uninstall();
}
