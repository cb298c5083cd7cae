// XdpCounterReport: one node's counts for one XdpCounter, written only by the agent on that node, at most once
// per the XdpCounter's report interval and only when something but the time changed (docs/adr/0022). The
// operator sums the reports of an XdpCounter into its status. A report exists wherever something of its
// XdpCounter may be attached or pinned: the agent writes it before it attaches and deletes it once it has
// detached and unpinned everything.
import { createHash } from "node:crypto";
import { z } from "zod";
import { byteCounters, packetCounters, XDP_ACTIONS } from "./counters.ts";
import { API_VERSION, MAX_XDPCOUNTER_NAME, REPORT_KIND } from "./group.ts";
import { interfaceStatus } from "./status.ts";
import { objectMeta } from "./xdpcounter.ts";

export const REPORT_PHASES = ["Counting", "Cleaning", "Error"] as const;
export type ReportPhase = (typeof REPORT_PHASES)[number];

function actionRates(unit: string) {
  const rate = z.number().min(0);
  return z
    .object(
      Object.fromEntries(
        XDP_ACTIONS.map((a) => [a, rate.describe(`${unit} ended in XDP_${a.toUpperCase()}.`)]),
      ),
    )
    .partial()
    .describe(
      `${unit} by XDP action over the last report interval; an action that is absent had no traffic.`,
    );
}

export const reportRates = z
  .object({
    packetsPerSecond: actionRates("Packets per second"),
    bitsPerSecond: actionRates("Bits per second"),
    seconds: z.number().min(0).describe("The span the rates are measured over, in seconds."),
  })
  .describe("Rates between this report's counters and those of the agent's previous reading.");
export type ReportRates = z.infer<typeof reportRates>;

export const xdpCounterReportBody = z.object({
  nodeName: z
    .string()
    .min(1)
    .max(253)
    .describe("The node this report is of; only that node's agent may write it."),
  xdpCounter: z
    .object({
      name: z.string().min(1).max(MAX_XDPCOUNTER_NAME).describe("The XdpCounter counted for."),
      uid: z
        .string()
        .min(1)
        .max(64)
        .describe("Its uid: a report of an earlier XdpCounter of the same name is stale."),
    })
    .describe("The XdpCounter this report counts for."),
  generation: z
    .number()
    .int()
    .min(0)
    .describe("The metadata.generation of the XdpCounter whose spec the agent runs."),
  phase: z
    .enum(REPORT_PHASES)
    .describe(
      "Counting (attached and reporting), Cleaning (detaching: the XdpCounter is being deleted or no longer selects the node), or Error (counting on nothing; see error).",
    ),
  reportedAt: z.iso
    .datetime({ offset: true })
    .describe(
      "When the agent last wrote this report (RFC 3339). Agents write only when the report changed, so on an idle node this is the time of the last change, not a sign of life: the agent pod's Ready condition is.",
    ),
  error: z.string().max(1024).optional().describe("Why the node counts on nothing, in words."),
  interfaces: z
    .array(interfaceStatus)
    .max(64)
    .default([])
    .describe("The interfaces the XdpCounter selects on this node, counting or not, and why not."),
  packets: packetCounters.describe(
    "Packets of all the node's interfaces, by XDP action, since the program was first attached. An action that is absent counted 0.",
  ),
  bytes: byteCounters.describe(
    "Bytes of all the node's interfaces, by XDP action, since the program was first attached. An action that is absent counted 0.",
  ),
  rates: reportRates.optional(),
});

export const xdpCounterReport = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(REPORT_KIND),
  metadata: objectMeta,
  ...xdpCounterReportBody.shape,
});
export type XdpCounterReport = z.output<typeof xdpCounterReport>;
export type XdpCounterReportInput = z.input<typeof xdpCounterReport>;

const MAX_NAME = 253;

/**
 * The name of `node`'s report for `xdpCounter`: `<xdpcounter>.<node>`, or, past 253 characters, its start, a
 * dash and a hash of all of it (both names are DNS subdomains, so the result is one too).
 */
export function reportName(xdpCounter: string, node: string): string {
  const full = `${xdpCounter}.${node}`;
  if (full.length <= MAX_NAME) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, 10);
  return `${full.slice(0, MAX_NAME - hash.length - 1).replace(/[-.]+$/, "")}-${hash}`;
}
