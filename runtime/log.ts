// Structured logs: one JSON object per line, {time, level, msg, ...fields}. A child logger adds fields every
// line of it carries (the agent's xdpcounter and node, an informer's resource). bigint values are written as
// decimal strings (counters are u64, as in the API); Error values as {name, message, code}.

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines also carry `fields`. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** lines below this level are dropped (default info) */
  level?: LogLevel;
  /** where a line goes (default: stdout, newline-terminated) */
  write?: (line: string) => void;
  /** fields every line carries */
  fields?: LogFields;
  now?: () => Date;
}

function toJson(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) out.code = code;
    return out;
  }
  return value;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const base = options.fields ?? {};
  const min = LOG_LEVELS.indexOf(options.level ?? "info");
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (LOG_LEVELS.indexOf(level) < min) return;
    write(JSON.stringify({ time: now().toISOString(), level, msg, ...base, ...fields }, toJson));
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  };
}

/** A logger that writes nothing, for tests. */
export const silentLogger: Logger = createLogger({ level: "error", write: () => {} });
