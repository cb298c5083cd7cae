// The XdpCounter object as clients read it: type meta, the metadata fields this project uses, spec, status.
import { z } from "zod";
import { API_VERSION, KIND, MAX_XDPCOUNTER_NAME } from "./group.ts";
import { xdpCounterSpec } from "./spec.ts";
import { xdpCounterStatus } from "./status.ts";

/** The ObjectMeta fields the operator and agents read; other fields pass through untouched. */
export const objectMeta = z.looseObject({
  name: z.string().min(1).max(253),
  uid: z.string().optional(),
  generation: z.number().int().min(0).optional(),
  resourceVersion: z.string().optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  finalizers: z.array(z.string()).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

export const xdpCounter = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(KIND),
  // the CRD's CEL rule on metadata.name says the same (crd.ts): the name labels the XdpCounter's reports
  metadata: objectMeta.extend({
    name: z
      .string()
      .min(1)
      .max(
        MAX_XDPCOUNTER_NAME,
        `an XdpCounter's name has at most ${MAX_XDPCOUNTER_NAME} characters (it labels its reports)`,
      ),
  }),
  spec: xdpCounterSpec.prefault({}),
  status: xdpCounterStatus.optional(),
});

export type XdpCounter = z.output<typeof xdpCounter>;
export type XdpCounterInput = z.input<typeof xdpCounter>;
