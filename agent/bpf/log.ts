// libbpf's own messages (warnings, and the verifier log when a load fails) are captured here instead of
// going to stderr, so that a failure can carry them in its error and a caller decides what to print.
import { arch } from "node:process";
import { koffiPointer, koffiRegister, LibbpfPrintFn, native } from "./libbpf.ts";

const LEVELS = ["warn", "info", "debug"] as const;
export type LibbpfLevel = (typeof LEVELS)[number];
export interface LibbpfMessage {
  level: LibbpfLevel;
  text: string;
}

const MAX_MESSAGES = 200;
const messages: LibbpfMessage[] = [];
let installed = false;

/**
 * Routes libbpf's messages into an in-memory buffer. The callback gets a `va_list`, formatted with libc's
 * vsnprintf; that works where va_list is passed as a pointer (x86-64). Elsewhere libbpf is silenced, and
 * errors still carry errno and libbpf's text, without the verifier's log.
 */
export function captureLibbpfLog(): void {
  if (installed) return;
  installed = true;
  if (arch !== "x64") {
    native.libbpf_set_print(null);
    return;
  }
  const buf = Buffer.alloc(8192);
  const cb = koffiRegister((level: number, fmt: string, args: unknown) => {
    const n = native.vsnprintf(buf, buf.length, fmt, args);
    const text = buf.toString("utf8", 0, Math.min(Math.max(n, 0), buf.length - 1));
    messages.push({ level: LEVELS[level] ?? "debug", text: text.trimEnd() });
    if (messages.length > MAX_MESSAGES) messages.splice(0, messages.length - MAX_MESSAGES);
    return 0;
  }, koffiPointer(LibbpfPrintFn));
  native.libbpf_set_print(cb);
}

/** Returns and forgets what libbpf said since the last call. */
export function takeLibbpfLog(minLevel: LibbpfLevel = "info"): LibbpfMessage[] {
  const keep = LEVELS.indexOf(minLevel);
  const out = messages.filter((m) => LEVELS.indexOf(m.level) <= keep);
  messages.length = 0;
  return out;
}
