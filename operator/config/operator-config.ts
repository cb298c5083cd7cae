// The operator's configuration, read from environment variables and command-line flags (a flag wins over
// its variable) and validated setting by setting, so an error names each bad setting by both its names.
import type { z } from "zod";
import { OperatorError, OperatorErrorCode } from "../errors.ts";
import { SETTINGS, type SettingName } from "./settings.ts";

export type OperatorConfig = { [K in SettingName]: z.output<(typeof SETTINGS)[K]["schema"]> };

const names = Object.keys(SETTINGS) as SettingName[];

function label(name: SettingName): string {
  const setting = SETTINGS[name];
  return `${setting.env.join(" or ")} (--${setting.flag})`;
}

/** Reads `--flag=value` and `--flag value` pairs; refuses flags that are not settings. */
function readFlags(argv: readonly string[], problems: string[]): Map<string, string> {
  const byFlag = new Map<string, SettingName>(names.map((name) => [SETTINGS[name].flag, name]));
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const match = /^--([a-z0-9-]+)(?:=(.*))?$/s.exec(arg);
    if (!match) {
      problems.push(`unexpected argument ${JSON.stringify(arg)}`);
      continue;
    }
    const flag = match[1] as string;
    if (!byFlag.has(flag)) {
      problems.push(`unknown flag --${flag}`);
      continue;
    }
    let value = match[2];
    if (value === undefined) {
      value = argv[i + 1];
      if (value === undefined) {
        problems.push(`--${flag} needs a value`);
        continue;
      }
      i++;
    }
    values.set(flag, value);
  }
  return values;
}

export function parseOperatorConfig(
  env: Readonly<Record<string, string | undefined>>,
  argv: readonly string[] = [],
): OperatorConfig {
  const problems: string[] = [];
  const flags = readFlags(argv, problems);
  const config: Record<string, unknown> = {};
  for (const name of names) {
    const setting = SETTINGS[name];
    let raw = flags.get(setting.flag);
    for (const variable of setting.env) {
      if (raw !== undefined) break;
      const value = env[variable];
      if (value !== undefined && value !== "") raw = value;
    }
    const result = setting.schema.safeParse(raw);
    if (result.success) {
      config[name] = result.data;
    } else {
      const why = raw === undefined ? "is required" : result.error.issues.map((i) => i.message).join("; ");
      problems.push(`${label(name)} ${raw === undefined ? why : `= ${JSON.stringify(raw)}: ${why}`}`);
    }
  }
  if (problems.length > 0) {
    throw new OperatorError(
      OperatorErrorCode.InvalidConfig,
      `invalid operator configuration:\n  ${problems.join("\n  ")}`,
    );
  }
  return config as OperatorConfig;
}

/** One line per setting, for --help. */
export function describeSettings(): string {
  return names
    .map(
      (name) =>
        `  --${SETTINGS[name].flag}  ${SETTINGS[name].env.join(", ")}\n      ${SETTINGS[name].description}`,
    )
    .join("\n");
}
