// A Kubernetes toleration (core/v1 Toleration): which taints an XdpCounter tolerates on the nodes it counts on
// (node-selection.ts).
import { z } from "zod";
import { labelValue, optionalLabelKey } from "./label.ts";

export const toleration = z
  .object({
    key: optionalLabelKey
      .optional()
      .describe("The taint key the toleration applies to. Empty with operator Exists matches every taint."),
    operator: z
      .enum(["Exists", "Equal"])
      .optional()
      .describe("Exists matches any value of the key; Equal (the default) matches only `value`."),
    value: labelValue.optional().describe("The taint value to match when the operator is Equal."),
    effect: z
      .enum(["NoSchedule", "PreferNoSchedule", "NoExecute"])
      .optional()
      .describe("The taint effect to match; empty matches every effect."),
    tolerationSeconds: z
      .number()
      .int()
      .optional()
      .describe(
        "For NoExecute only: how long an agent pod stays on the node after the taint is added. Unset: forever.",
      ),
  })
  .describe("A toleration for the agent pods, as in a Pod's spec.tolerations.")
  .meta({
    "x-kubernetes-validations": [
      {
        rule: "!has(self.operator) || self.operator != 'Exists' || !has(self.value) || self.value == ''",
        message: "value must be empty when operator is Exists",
      },
      {
        rule: "!has(self.tolerationSeconds) || (has(self.effect) && self.effect == 'NoExecute')",
        message: "tolerationSeconds is only valid with effect NoExecute",
      },
      {
        rule: "(has(self.key) && self.key != '') || (has(self.operator) && self.operator == 'Exists')",
        message: "an empty key needs operator Exists",
      },
    ],
  })
  .refine((t) => t.operator !== "Exists" || !t.value, {
    message: "value must be empty when operator is Exists",
    path: ["value"],
  })
  .refine((t) => t.tolerationSeconds === undefined || t.effect === "NoExecute", {
    message: "tolerationSeconds is only valid with effect NoExecute",
    path: ["tolerationSeconds"],
  })
  .refine((t) => t.key || t.operator === "Exists", {
    message: "an empty key needs operator Exists",
    path: ["operator"],
  });

export type Toleration = z.infer<typeof toleration>;
