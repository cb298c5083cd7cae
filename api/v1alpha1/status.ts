// status of an XdpCounter, written only by the operator from the nodes' XdpCounterReports (docs/adr/0022), and
// the interface record those reports carry.
import { z } from "zod";
import { condition } from "./condition.ts";
import { byteCounters, completeByteCounters, completePacketCounters, packetCounters } from "./counters.ts";

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
    heldBy: z
      .string()
      .max(300)
      .optional()
      .describe(
        "With reason HeldByXdpCounter: the XdpCounter that counts on this interface on this node (one XDP program per interface); this one starts counting there once it lets go.",
      ),
    fallback: attachFallback.optional(),
  })
  .describe("One interface of a node and its counters since the program was first attached.");
export type InterfaceStatus = z.infer<typeof interfaceStatus>;

export const totals = z
  .object({
    packets: completePacketCounters.describe(
      "Packets of every reporting node, by XDP action; all five actions are always present, 0 included.",
    ),
    bytes: completeByteCounters.describe(
      "Bytes of every reporting node, by XDP action; all five actions are always present, 0 included.",
    ),
  })
  .describe("Cluster totals: the exact sums of the nodes' reports.");
export type Totals = z.infer<typeof totals>;

function completeRates(unit: string) {
  const rate = z.number().min(0);
  return z
    .object({
      aborted: rate.describe(`${unit} ended in XDP_ABORTED.`),
      drop: rate.describe(`${unit} dropped.`),
      pass: rate.describe(`${unit} passed.`),
      tx: rate.describe(`${unit} sent back out.`),
      redirect: rate.describe(`${unit} redirected.`),
    })
    .describe(`${unit} by XDP action: the sums of the nodes' rates over their last report interval.`);
}

export const clusterRates = z
  .object({
    packetsPerSecond: completeRates("Packets per second"),
    bitsPerSecond: completeRates("Bits per second"),
    totalPacketsPerSecond: z.number().min(0).describe("Packets per second of every action."),
    totalBitsPerSecond: z.number().min(0).describe("Bits per second of every action."),
  })
  .describe("Cluster rates: the sums of the nodes' rates, each over that node's last report interval.");
export type ClusterRates = z.infer<typeof clusterRates>;

export const xdpCounterStatus = z
  .object({
    observedGeneration: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("The metadata.generation the operator last acted on."),
    totals: totals.optional(),
    rates: clusterRates.optional(),
    desiredNodes: z.number().int().min(0).optional().describe("How many nodes should run an agent."),
    reportingNodes: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("How many nodes have a report of this XdpCounter (XdpCounterReport objects)."),
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
