// A status condition in the shape of metav1.Condition.
import { z } from "zod";

export const CONDITION_TYPES = ["Ready", "Degraded"] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];
export const CONDITION_STATUSES = ["True", "False", "Unknown"] as const;
export type ConditionStatus = (typeof CONDITION_STATUSES)[number];

export const condition = z
  .object({
    type: z
      .string()
      .min(1)
      .max(316)
      .describe(
        "The aspect this condition describes: Ready (every selected node counts) or Degraded (something failed).",
      ),
    status: z.enum(CONDITION_STATUSES).describe("Whether the condition holds: True, False or Unknown."),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/, "must be CamelCase")
      .describe(
        "A CamelCase word for why the condition has its status, e.g. AllNodesCounting or NodesNotReady.",
      ),
    message: z.string().max(32768).describe("What happened, in words, with what to do about it where known."),
    observedGeneration: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("The metadata.generation of the XdpCounter this condition was computed for."),
    lastTransitionTime: z.iso
      .datetime({ offset: true })
      .describe("When the status of this condition last changed (RFC 3339)."),
  })
  .describe("A condition in the shape of metav1.Condition.");

export type Condition = z.infer<typeof condition>;
