// Structured logs: one JSON object per line, with time, level, message and fields.

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFields = Record<string, unknown>;

export type Logger = {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
};

function toJson(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) out.code = code;
    return out;
  }
  return value;
}

export function createLogger(
  level: LogLevel = "info",
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  base: LogFields = {},
): Logger {
  const min = LOG_LEVELS.indexOf(level);
  const log = (at: LogLevel, msg: string, fields: LogFields = {}) => {
    if (LOG_LEVELS.indexOf(at) < min) return;
    const record = { time: new Date().toISOString(), level: at, msg, ...base, ...fields };
    write(JSON.stringify(record, (_key, value) => toJson(value)));
  };
  return {
    debug: (msg, fields) => log("debug", msg, fields),
    info: (msg, fields) => log("info", msg, fields),
    warn: (msg, fields) => log("warn", msg, fields),
    error: (msg, fields) => log("error", msg, fields),
    child: (fields) => createLogger(level, write, { ...base, ...fields }),
  };
}

/** A logger that writes nothing, for tests. */
export const silentLogger: Logger = createLogger("error", () => {});
