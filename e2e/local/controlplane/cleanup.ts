// Control planes still running in this process, stopped synchronously if the process exits or is interrupted
// (Ctrl-C, SIGTERM, SIGHUP) before their stop(): their processes are SIGKILLed and their folders removed. A
// SIGKILLed owner runs no handler at all; the next start cleans what it left (state.ts).
export interface LiveControlPlane {
  /** kills the processes and removes the folder, synchronously */
  killSync(): void;
}

const live = new Set<LiveControlPlane>();
const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

function cleanupAll(): void {
  for (const cp of live) cp.killSync();
  live.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // someone else handles the signal (the CLI, which stops gracefully): the exit handler stays as a safety net
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

export function registerLive(cp: LiveControlPlane): void {
  if (live.size === 0) install();
  live.add(cp);
}

export function unregisterLive(cp: LiveControlPlane): void {
  if (!live.delete(cp)) return;
  if (live.size === 0) uninstall();
}
