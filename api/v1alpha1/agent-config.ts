// What an agent needs to count for one XdpCounter. The operator renders one such configuration per XdpCounter
// into the agents' ConfigMap (agent-specs.ts, docs/adr/0021): agents never read or watch an XdpCounter, so
// status writes never reach them, and a spec change reaches them as one ConfigMap event, without a restart.
// The node name is per pod, so it comes apart in NODE_NAME from the downward API (spec.nodeName).
import { z } from "zod";
import { parseDuration } from "./duration.ts";
import { ApiError, ApiErrorCode } from "./errors.ts";
import { interfacePattern, MAX_INTERFACES } from "./interface-name.ts";
import { ACTIONS, ATTACH_MODES } from "./spec.ts";
import { toleration } from "./toleration.ts";
import type { XdpCounter } from "./xdpcounter.ts";

export const AGENT_CONFIG_ENV = "XDP_COUNTER_CONFIG";
export const NODE_NAME_ENV = "NODE_NAME";
/**
 * count: attach and report where the XdpCounter selects the node. clean: the XdpCounter is being deleted:
 * detach, unpin, delete the report.
 */
export const AGENT_MODES = ["count", "clean"] as const;
export type AgentMode = (typeof AGENT_MODES)[number];

/** The part the operator renders: the same for every pod of the DaemonSet. */
export const renderedAgentConfig = z.strictObject({
  xdpCounter: z.string().min(1).max(253),
  uid: z.string().min(1),
  generation: z.number().int().min(0),
  mode: z.enum(AGENT_MODES),
  interfaces: z.array(interfacePattern).max(MAX_INTERFACES),
  attachMode: z.enum(ATTACH_MODES),
  action: z.enum(ACTIONS),
  reportIntervalMs: z.number().int().min(1_000).max(3_600_000),
  /** The spec's nodeSelector and tolerations, when set: the agent decides from them whether it counts here. */
  nodeSelector: z.record(z.string(), z.string()).optional(),
  tolerations: z.array(toleration).optional(),
});
export type RenderedAgentConfig = z.infer<typeof renderedAgentConfig>;

export const agentConfig = renderedAgentConfig.extend({
  nodeName: z.string().min(1).max(253),
});
export type AgentConfig = z.infer<typeof agentConfig>;

/** The agent configuration for an XdpCounter whose spec has been parsed (defaults applied). */
export function renderAgentConfig(xdpc: XdpCounter): RenderedAgentConfig {
  const { metadata, spec } = xdpc;
  if (!metadata.uid) {
    throw new ApiError(ApiErrorCode.InvalidXdpCounter, `XdpCounter ${metadata.name} has no metadata.uid`);
  }
  return {
    xdpCounter: metadata.name,
    uid: metadata.uid,
    generation: metadata.generation ?? 0,
    mode: metadata.deletionTimestamp ? "clean" : "count",
    interfaces: [...spec.interfaces],
    attachMode: spec.attachMode,
    action: spec.action,
    reportIntervalMs: parseDuration(spec.reportInterval),
    ...(spec.nodeSelector && Object.keys(spec.nodeSelector).length > 0
      ? { nodeSelector: { ...spec.nodeSelector } }
      : {}),
    ...(spec.tolerations && spec.tolerations.length > 0
      ? { tolerations: spec.tolerations.map((t) => ({ ...t })) }
      : {}),
  };
}

/** Whether a Node's labels match an agent configuration's nodeSelector (always, without one). */
export function nodeMatchesSelector(
  config: Pick<RenderedAgentConfig, "nodeSelector">,
  labels: Readonly<Record<string, string>>,
): boolean {
  return Object.entries(config.nodeSelector ?? {}).every(([key, value]) => labels[key] === value);
}

/** The value of XDP_COUNTER_CONFIG: compact JSON with keys in a fixed order, so equal configs render equal. */
export function serializeAgentConfig(config: RenderedAgentConfig): string {
  return JSON.stringify(renderedAgentConfig.parse(config));
}

/**
 * Reads the agent configuration from an environment (XDP_COUNTER_CONFIG and NODE_NAME), or from a JSON
 * text holding the whole AgentConfig, nodeName included. Throws ApiError InvalidAgentConfig naming each bad
 * field.
 */
export function parseAgentConfig(source: NodeJS.ProcessEnv | string): AgentConfig {
  let value: unknown;
  let origin: string;
  if (typeof source === "string") {
    origin = "agent configuration";
    value = parseJson(source, origin);
  } else {
    origin = AGENT_CONFIG_ENV;
    const text = source[AGENT_CONFIG_ENV];
    if (text === undefined || text === "") {
      throw new ApiError(ApiErrorCode.InvalidAgentConfig, `${AGENT_CONFIG_ENV} is not set`);
    }
    const rendered = parseJson(text, AGENT_CONFIG_ENV);
    const nodeName = source[NODE_NAME_ENV];
    if (!nodeName) {
      throw new ApiError(ApiErrorCode.InvalidAgentConfig, `${NODE_NAME_ENV} is not set`);
    }
    value = typeof rendered === "object" && rendered !== null ? { ...rendered, nodeName } : rendered;
  }
  const result = agentConfig.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new ApiError(ApiErrorCode.InvalidAgentConfig, `invalid ${origin}: ${issues.join("; ")}`);
  }
  return result.data;
}

function parseJson(text: string, origin: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError(ApiErrorCode.InvalidAgentConfig, `${origin} is not valid JSON`, { cause: error });
  }
}
