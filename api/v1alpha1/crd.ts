// The CustomResourceDefinition of XdpCounter, built from the zod schema (docs/adr/0002).
import {
  CATEGORIES,
  CRD_NAME,
  GROUP,
  KIND,
  LIST_KIND,
  PLURAL,
  SHORT_NAMES,
  SINGULAR,
  VERSION,
} from "./group.ts";
import { xdpCounterSpec } from "./spec.ts";
import { xdpCounterStatus } from "./status.ts";
import { type JsonSchema, structuralSchema } from "./structural-schema.ts";

export const PRINTER_COLUMNS = [
  { name: "Ready", type: "integer", jsonPath: ".status.readyNodes", description: "Nodes counting." },
  { name: "Desired", type: "integer", jsonPath: ".status.desiredNodes", description: "Nodes selected." },
  { name: "Pass", type: "string", jsonPath: ".status.totals.packets.pass", description: "Packets passed." },
  { name: "Drop", type: "string", jsonPath: ".status.totals.packets.drop", description: "Packets dropped." },
  {
    name: "Pass-Bytes",
    type: "string",
    jsonPath: ".status.totals.bytes.pass",
    description: "Bytes passed.",
    priority: 1,
  },
  {
    name: "Drop-Bytes",
    type: "string",
    jsonPath: ".status.totals.bytes.drop",
    description: "Bytes dropped.",
    priority: 1,
  },
  {
    name: "Interfaces",
    type: "string",
    jsonPath: ".status.interfaces",
    description: "Interfaces and attach modes.",
    priority: 1,
  },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
] as const;

export function openApiSchema(): JsonSchema {
  const spec = structuralSchema(xdpCounterSpec);
  return {
    description:
      "XdpCounter counts every packet that reaches the selected interfaces of the selected nodes, by XDP action, with one agent per node.",
    type: "object",
    properties: {
      apiVersion: {
        description: "The versioned schema of this object: xdpcounter.dev/v1alpha1.",
        type: "string",
      },
      kind: { description: "The kind of this object: XdpCounter.", type: "string" },
      metadata: { type: "object" },
      spec: { ...spec, default: {} },
      status: structuralSchema(xdpCounterStatus),
    },
  };
}

export function buildCrd() {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: CRD_NAME,
      labels: { "app.kubernetes.io/name": "xdp-counter" },
    },
    spec: {
      group: GROUP,
      scope: "Cluster",
      names: {
        kind: KIND,
        listKind: LIST_KIND,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: [...SHORT_NAMES],
        categories: [...CATEGORIES],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: PRINTER_COLUMNS.map((column) => ({ ...column })),
          schema: { openAPIV3Schema: openApiSchema() },
        },
      ],
    },
  };
}
