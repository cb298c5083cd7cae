// The agents' ConfigMap (docs/adr/0021): one key per XdpCounter, its name, holding the agent configuration the
// operator renders from it (agent-config.ts) as compact JSON. The operator writes it only when a spec, a
// generation or a deletion changes; every agent watches it, by name, and counts for the XdpCounters in it
// that select its node.

import {
  type AgentConfig,
  agentConfig,
  type RenderedAgentConfig,
  renderAgentConfig,
  serializeAgentConfig,
} from "./agent-config.ts";
import { ApiError, ApiErrorCode } from "./errors.ts";
import type { XdpCounter } from "./xdpcounter.ts";

/** The ConfigMap's name is the release's with this suffix. */
export const AGENT_SPECS_SUFFIX = "-agent-specs";

/** The ConfigMap's data for these XdpCounters (with parsed specs); equal inputs render equal text. */
export function renderAgentSpecs(xdpcs: readonly XdpCounter[]): Record<string, string> {
  const data: Record<string, string> = {};
  for (const xdpc of [...xdpcs].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1)))
    data[xdpc.metadata.name] = serializeAgentConfig(renderAgentConfig(xdpc));
  return data;
}

export interface ParsedAgentSpecs {
  configs: AgentConfig[];
  /** One line per key that could not be read, naming it; the others are used. */
  errors: string[];
}

/** Reads the ConfigMap's data for the agent on `nodeName`. A bad key is named in `errors`, never fatal. */
export function parseAgentSpecs(
  data: Readonly<Record<string, string>> | undefined,
  nodeName: string,
): ParsedAgentSpecs {
  const configs: AgentConfig[] = [];
  const errors: string[] = [];
  for (const [key, text] of Object.entries(data ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      errors.push(`${key}: not valid JSON`);
      continue;
    }
    const result = agentConfig.safeParse(
      typeof value === "object" && value !== null ? { ...value, nodeName } : value,
    );
    if (!result.success) {
      errors.push(
        `${key}: ${result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`,
      );
      continue;
    }
    if (result.data.xdpCounter !== key) {
      errors.push(`${key}: holds the configuration of XdpCounter ${result.data.xdpCounter}`);
      continue;
    }
    configs.push(result.data);
  }
  return { configs, errors };
}

/** Throws ApiError InvalidAgentConfig when `parseAgentSpecs` found errors: for callers that must not go on. */
export function assertNoSpecErrors(parsed: ParsedAgentSpecs): void {
  if (parsed.errors.length > 0)
    throw new ApiError(ApiErrorCode.InvalidAgentConfig, `invalid agent specs: ${parsed.errors.join("; ")}`);
}

export type { RenderedAgentConfig };
