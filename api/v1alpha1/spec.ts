// spec of an XdpCounter: which nodes and interfaces to count on, how to attach, what to do with packets.
import { z } from "zod";
import { DEFAULT_REPORT_INTERVAL, reportInterval } from "./duration.ts";
import { interfacePattern, MAX_INTERFACES } from "./interface-name.ts";
import { LABEL_KEYS_CEL, LABEL_KEYS_MESSAGE, labelKey, labelValue } from "./label.ts";
import { toleration } from "./toleration.ts";

export const ATTACH_MODES = ["auto", "native", "generic"] as const;
export const ACTIONS = ["pass", "drop"] as const;
export const MAX_TOLERATIONS = 64;
/** A bound the API server needs to estimate the cost of the CEL rule on the keys; Nodes have far fewer labels. */
export const MAX_NODE_SELECTOR_LABELS = 64;

export const xdpCounterSpec = z
  .object({
    nodeSelector: z
      .record(labelKey, labelValue.describe("The label value the node must have."), {
        // the key's own message (LABEL_KEY_MESSAGE) rather than zod's "Invalid key in record"
        error: (issue) =>
          issue.code === "invalid_key" ? issue.issues.map((i) => i.message).join("; ") : undefined,
      })
      .refine(
        (labels) => Object.keys(labels).length <= MAX_NODE_SELECTOR_LABELS,
        `must have at most ${MAX_NODE_SELECTOR_LABELS} labels`,
      )
      // a map's keys have no schema in a CRD: their rule is a CEL rule on the map
      .meta({
        maxProperties: MAX_NODE_SELECTOR_LABELS,
        "x-kubernetes-validations": [{ rule: LABEL_KEYS_CEL, message: LABEL_KEYS_MESSAGE }],
      })
      .optional()
      .describe(
        "Labels a node must have for this XdpCounter to count there, as in a Pod's spec.nodeSelector. Unset: every node that the tolerations allow.",
      ),
    tolerations: z
      .array(toleration)
      .max(MAX_TOLERATIONS)
      .optional()
      .describe(
        "Taints this XdpCounter tolerates, with a Pod's rules: it counts on a node whose NoSchedule and NoExecute taints are all tolerated (by these or by those every DaemonSet pod has, such as not-ready and unreachable), and stops where a NoExecute taint is not. Unset: untainted nodes only.",
      ),
    interfaces: z
      .array(interfacePattern)
      .max(MAX_INTERFACES)
      .default([])
      .describe(
        "Interfaces to count on, by name (eth0) or glob pattern (eth*, ens[0-9]*), matched on each node. Empty: the node's primary interface, the one that carries its default route.",
      ),
    attachMode: z
      .enum(ATTACH_MODES)
      .default("auto")
      .describe(
        "How to attach the XDP program: native (in the driver; fails where the driver lacks XDP), generic (in the kernel's network stack; works everywhere, slower), or auto (native where possible, else generic).",
      ),
    action: z
      .enum(ACTIONS)
      .default("pass")
      .describe(
        "What the XDP program does with each packet after counting it: pass (hand it on to the kernel) or drop (discard it).",
      ),
    reportInterval: reportInterval
      .default(DEFAULT_REPORT_INTERVAL)
      .describe(
        "How often each node's agent writes its report of this XdpCounter, as a duration such as 30s, 1m30s or 1h; between 1s and 1h. A node writes at most the operator's report writes per minute for all its XdpCounters together (the chart's agent.reportWritesPerMinute, 1 by default): a report waits its turn when they ask for more.",
      ),
  })
  .describe(
    "What to count: the nodes and interfaces to attach to, how to attach, and what to do with packets.",
  );

export type XdpCounterSpec = z.output<typeof xdpCounterSpec>;
export type XdpCounterSpecInput = z.input<typeof xdpCounterSpec>;
export type AttachMode = (typeof ATTACH_MODES)[number];
export type Action = (typeof ACTIONS)[number];
