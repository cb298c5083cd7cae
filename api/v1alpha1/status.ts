// status of an XdpCounter. Written by several writers without read-modify-write (docs/adr/0001): each agent
// owns `nodes.<its node>` and writes it with a JSON merge patch; the operator owns every other field.
import { z } from "zod";
import { condition } from "./condition.ts";
import { byteCounters, completeByteCounters, completePacketCounters, packetCounters } from "./counters.ts";

export const NODE_PHASES = ["Counting", "Cleaning", "Clean", "Error"] as const;
export type NodePhase = (typeof NODE_PHASES)[number];
export const ATTACHED_MODES = ["native", "generic", ""] as const;

export const FALLBACK_REASONS = ["NativeMtuTooLarge", "NativeUnsupported", "NativeRefused"] as const;

export const attachFallback = z
  .object({
    reason: z
      .enum(FALLBACK_REASONS)
      .describe(
        "NativeMtuTooLarge (the driver's XDP cannot take frames of the interface's MTU), NativeUnsupported (the driver has no native XDP), or NativeRefused (any other refusal of the driver's).",
      ),
    message: z
      .string()
      .max(512)
      .describe("The driver's refusal in words: the driver, the MTU, the kernel's message and errno."),
  })
  .describe("Why attachMode auto attached generic XDP here instead of native.");
export type AttachFallback = z.infer<typeof attachFallback>;

export const interfaceStatus = z
  .object({
    name: z.string().min(1).max(15).describe("The interface name on the node, e.g. eth0."),
    mode: z
      .enum(ATTACHED_MODES)
      .describe(
        "How the program is attached: native (in the driver), generic (in the stack), or empty when not attached.",
      ),
    attached: z.boolean().describe("Whether this XdpCounter's program is attached to the interface."),
    packets: packetCounters,
    bytes: byteCounters,
    reason: z
      .string()
      .max(64)
      .optional()
      .describe(
        "A CamelCase word for why the interface is not counting, e.g. ForeignXdpProgram (another XDP program is attached and is left alone) or AttachFailed.",
      ),
    error: z.string().max(1024).optional().describe("Why the interface is not counting, in words."),
    fallback: attachFallback.optional(),
  })
  .describe("One interface of a node and its counters since the program was first attached.");
export type InterfaceStatus = z.infer<typeof interfaceStatus>;

export const nodeStatus = z
  .object({
    phase: z
      .enum(NODE_PHASES)
      .describe(
        "Counting (attached and reporting), Cleaning (detaching after the XdpCounter was deleted), Clean (nothing left attached or pinned), or Error.",
      ),
    reportedAt: z.iso
      .datetime({ offset: true })
      .describe(
        "When the agent last wrote this entry (RFC 3339). Agents write only when the entry changed, so on an idle node this is the time of the last change, not a sign of life: the agent pod's Ready condition is.",
      ),
    generation: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("The metadata.generation of the XdpCounter whose spec the agent runs."),
    error: z.string().max(1024).optional().describe("Why the node is in phase Error, in words."),
    interfaces: z
      .array(interfaceStatus)
      .max(64)
      .default([])
      .describe(
        "The interfaces the agent counts on. Replaced whole on each report, so vanished interfaces disappear.",
      ),
    packets: packetCounters.describe(
      "Packets of all the node's interfaces, by XDP action. An action that is absent counted 0: agents leave zero counters out.",
    ),
    bytes: byteCounters.describe(
      "Bytes of all the node's interfaces, by XDP action. An action that is absent counted 0: agents leave zero counters out.",
    ),
  })
  .describe("One node's report, written only by the agent on that node.");
export type NodeStatus = z.infer<typeof nodeStatus>;

export const totals = z
  .object({
    packets: completePacketCounters.describe(
      "Packets of every reporting node, by XDP action; all five actions are always present, 0 included.",
    ),
    bytes: completeByteCounters.describe(
      "Bytes of every reporting node, by XDP action; all five actions are always present, 0 included.",
    ),
  })
  .describe("Cluster totals: the exact sums of the node entries.");
export type Totals = z.infer<typeof totals>;

export const xdpCounterStatus = z
  .object({
    observedGeneration: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("The metadata.generation the operator last acted on."),
    nodes: z
      .record(z.string().min(1).max(253), nodeStatus)
      .optional()
      .describe(
        "Per-node reports keyed by node name. Each agent writes only its own key with a JSON merge patch on /status; the operator removes keys of nodes that are gone or no longer selected.",
      ),
    totals: totals.optional(),
    desiredNodes: z.number().int().min(0).optional().describe("How many nodes should run an agent."),
    readyNodes: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("How many selected nodes report phase Counting and have a Ready agent pod."),
    interfaces: z
      .string()
      .max(256)
      .optional()
      .describe(
        "A summary of the attached interfaces and modes across nodes, e.g. eth0/native=3, ens5/generic=1; where attachMode auto fell back to generic, the reason follows the mode: ens5/generic(NativeMtuTooLarge)=1.",
      ),
    conditions: z
      .array(condition)
      .max(8)
      .optional()
      .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] })
      .describe("Ready: every selected node counts. Degraded: an agent or interface reports an error."),
  })
  .describe("What the agents counted and the operator concluded. Written through the status subresource.");
export type XdpCounterStatus = z.infer<typeof xdpCounterStatus>;
