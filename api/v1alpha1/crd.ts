// The CustomResourceDefinition of XdpCounter, built from the zod schema (docs/adr/0002).
import {
  CATEGORIES,
  CRD_NAME,
  GROUP,
  KIND,
  LIST_KIND,
  MAX_XDPCOUNTER_NAME,
  PLURAL,
  REPORT_CRD_NAME,
  REPORT_KIND,
  REPORT_LIST_KIND,
  REPORT_PLURAL,
  REPORT_SHORT_NAMES,
  REPORT_SINGULAR,
  SHORT_NAMES,
  SINGULAR,
  VERSION,
} from "./group.ts";
import { xdpCounterReportBody } from "./report.ts";
import { xdpCounterSpec } from "./spec.ts";
import { xdpCounterStatus } from "./status.ts";
import { type JsonSchema, structuralSchema } from "./structural-schema.ts";

export const PRINTER_COLUMNS = [
  { name: "Ready", type: "integer", jsonPath: ".status.readyNodes", description: "Nodes counting." },
  { name: "Desired", type: "integer", jsonPath: ".status.desiredNodes", description: "Nodes selected." },
  {
    name: "Packets/s",
    type: "number",
    jsonPath: ".status.rates.totalPacketsPerSecond",
    description: "Packets per second, all actions, over the nodes' last report interval.",
  },
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
    "x-kubernetes-validations": [
      {
        rule: `self.metadata.name.size() <= ${MAX_XDPCOUNTER_NAME}`,
        message: `metadata.name: an XdpCounter's name has at most ${MAX_XDPCOUNTER_NAME} characters (it labels its reports)`,
        reason: "FieldValueInvalid",
      },
    ],
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

export const REPORT_PRINTER_COLUMNS = [
  { name: "XdpCounter", type: "string", jsonPath: ".xdpCounter.name", description: "The XdpCounter." },
  { name: "Node", type: "string", jsonPath: ".nodeName", description: "The node." },
  { name: "Phase", type: "string", jsonPath: ".phase", description: "Counting, Cleaning or Error." },
  {
    name: "Pass/s",
    type: "number",
    jsonPath: ".rates.packetsPerSecond.pass",
    description: "Packets passed per second over the last interval.",
  },
  {
    name: "Drop/s",
    type: "number",
    jsonPath: ".rates.packetsPerSecond.drop",
    description: "Packets dropped per second over the last interval.",
  },
  { name: "Pass", type: "string", jsonPath: ".packets.pass", description: "Packets passed." },
  { name: "Drop", type: "string", jsonPath: ".packets.drop", description: "Packets dropped." },
  {
    name: "Reported",
    type: "date",
    jsonPath: ".reportedAt",
    description: "When the agent last wrote it.",
    priority: 1,
  },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
] as const;

export function reportOpenApiSchema(): JsonSchema {
  const body = structuralSchema(xdpCounterReportBody) as { properties: JsonSchema; required?: string[] };
  // Replaced whole on each apply: the agent is their only writer, and zero actions are left out, so a map
  // that became empty (traffic stopped, counters reset) must not be kept as null by server-side apply.
  for (const field of ["packets", "bytes", "rates"])
    (body.properties[field] as JsonSchema)["x-kubernetes-map-type"] = "atomic";
  return {
    description:
      "XdpCounterReport holds one node's counts for one XdpCounter. Only the agent on that node writes it; the operator sums the reports into the XdpCounter's status.",
    type: "object",
    properties: {
      apiVersion: {
        description: "The versioned schema of this object: xdpcounter.dev/v1alpha1.",
        type: "string",
      },
      kind: { description: "The kind of this object: XdpCounterReport.", type: "string" },
      metadata: { type: "object" },
      ...body.properties,
    },
    ...(body.required ? { required: body.required } : {}),
  };
}

export function buildReportCrd() {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: REPORT_CRD_NAME,
      labels: { "app.kubernetes.io/name": "xdp-counter" },
    },
    spec: {
      group: GROUP,
      scope: "Cluster",
      names: {
        kind: REPORT_KIND,
        listKind: REPORT_LIST_KIND,
        plural: REPORT_PLURAL,
        singular: REPORT_SINGULAR,
        shortNames: [...REPORT_SHORT_NAMES],
        categories: [...CATEGORIES],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          additionalPrinterColumns: REPORT_PRINTER_COLUMNS.map((column) => ({ ...column })),
          selectableFields: [{ jsonPath: ".nodeName" }, { jsonPath: ".xdpCounter.name" }],
          schema: { openAPIV3Schema: reportOpenApiSchema() },
        },
      ],
    },
  };
}
