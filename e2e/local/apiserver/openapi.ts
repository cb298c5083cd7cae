// OpenAPI documents, enough for kubectl: /openapi/v3 (index and one document per group/version, used by
// `kubectl explain` and to learn that the server validates fields itself) and /openapi/v2 (JSON).
// Custom resources get their CRD schema; built-in kinds get an open object schema (no client-side checks).
import { createHash } from "node:crypto";
import type { Registry } from "./registry.ts";
import type { ResourceInfo, Schema } from "./types.ts";

function reverseGroup(group: string): string {
  return group ? group.split(".").reverse().join(".") : "io.k8s.api.core";
}

export function definitionName(ri: { group: string; version: string; kind: string }): string {
  return `${reverseGroup(ri.group)}.${ri.version}.${ri.kind}`;
}

const objectMetaName = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

function gvk(ri: ResourceInfo): object[] {
  return [{ group: ri.group, version: ri.version, kind: ri.kind }];
}

/** A CRD schema with apiVersion, kind and metadata filled in as the API server publishes it. */
function resourceSchema(ri: ResourceInfo, ref: (name: string) => string): object {
  const base: Schema = ri.schema
    ? structuredClone(ri.schema)
    : { type: "object", "x-kubernetes-preserve-unknown-fields": true };
  const properties: Record<string, unknown> = { ...(base.properties ?? {}) };
  properties.apiVersion = {
    type: "string",
    description:
      "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.",
  };
  properties.kind = {
    type: "string",
    description:
      "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase.",
  };
  properties.metadata = {
    description: "Standard object's metadata.",
    allOf: [{ $ref: ref(objectMetaName) }],
  };
  return { ...base, type: "object", properties, "x-kubernetes-group-version-kind": gvk(ri) };
}

function objectMetaSchema(): object {
  const str = { type: "string" };
  return {
    type: "object",
    description: "ObjectMeta is metadata that all persisted resources must have.",
    properties: {
      name: { ...str, description: "Name must be unique within a namespace." },
      generateName: str,
      namespace: str,
      uid: str,
      resourceVersion: str,
      generation: { type: "integer", format: "int64" },
      creationTimestamp: { ...str, format: "date-time" },
      deletionTimestamp: { ...str, format: "date-time" },
      deletionGracePeriodSeconds: { type: "integer", format: "int64" },
      labels: { type: "object", additionalProperties: str },
      annotations: { type: "object", additionalProperties: str },
      finalizers: { type: "array", items: str },
      ownerReferences: {
        type: "array",
        items: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
      },
      managedFields: {
        type: "array",
        items: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
      },
      selfLink: str,
    },
  };
}

const queryParam = (name: string) => ({ name, in: "query", schema: { type: "string", uniqueItems: true } });

function paths(ri: ResourceInfo, ref: string, v3: boolean): Record<string, object> {
  const prefix = ri.group ? `/apis/${ri.group}/${ri.version}` : `/api/${ri.version}`;
  const collection = ri.namespaced
    ? `${prefix}/namespaces/{namespace}/${ri.plural}`
    : `${prefix}/${ri.plural}`;
  const body = v3 ? { content: { "application/json": { schema: { $ref: ref } } } } : undefined;
  const response = v3
    ? { 200: { description: "OK", content: { "application/json": { schema: { $ref: ref } } } } }
    : { 200: { description: "OK", schema: { $ref: ref } } };
  const op = (verb: string, params: string[] = []) => ({
    operationId: `${verb}${ri.kind}`,
    "x-kubernetes-action": verb,
    "x-kubernetes-group-version-kind": { group: ri.group, version: ri.version, kind: ri.kind },
    parameters: params.map(queryParam),
    ...(body && verb !== "get" && verb !== "delete" && verb !== "list" ? { requestBody: body } : {}),
    responses: response,
  });
  const write = ["dryRun", "fieldManager", "fieldValidation"];
  const out: Record<string, object> = {
    [collection]: { get: op("list"), post: op("post", write) },
    [`${collection}/{name}`]: {
      get: op("get"),
      put: op("put", write),
      patch: op("patch", [...write, "force"]),
      delete: op("delete"),
    },
  };
  if (ri.status)
    out[`${collection}/{name}/status`] = {
      get: op("get"),
      put: op("put", write),
      patch: op("patch", [...write, "force"]),
    };
  return out;
}

function hash(doc: unknown): string {
  return createHash("sha512").update(JSON.stringify(doc)).digest("hex").slice(0, 128).toUpperCase();
}

export function openApiV3Document(registry: Registry, group: string, version: string): object {
  const ref = (name: string) => `#/components/schemas/${name}`;
  const schemas: Record<string, object> = { [objectMetaName]: objectMetaSchema() };
  let allPaths: Record<string, object> = {};
  for (const ri of registry.inGroupVersion(group, version)) {
    const name = definitionName(ri);
    schemas[name] = resourceSchema(ri, ref);
    allPaths = { ...allPaths, ...paths(ri, ref(name), true) };
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: "v1.34.0" },
    paths: allPaths,
    components: { schemas },
  };
}

export function openApiV3Index(registry: Registry): object {
  const out: Record<string, { serverRelativeURL: string }> = {};
  for (const g of registry.groups()) {
    for (const v of g.versions) {
      const key = g.group ? `apis/${g.group}/${v}` : `api/${v}`;
      out[key] = {
        serverRelativeURL: `/openapi/v3/${key}?hash=${hash(openApiV3Document(registry, g.group, v))}`,
      };
    }
  }
  return { paths: out };
}

/** Converts the v3 schema subset we publish into Swagger 2 definitions (refs moved to #/definitions). */
export function openApiV2(registry: Registry): object {
  const ref = (name: string) => `#/definitions/${name}`;
  const definitions: Record<string, object> = { [objectMetaName]: objectMetaSchema() };
  let allPaths: Record<string, object> = {};
  for (const ri of registry.all()) {
    const name = definitionName(ri);
    definitions[name] = resourceSchema(ri, ref);
    allPaths = { ...allPaths, ...paths(ri, ref(name), false) };
  }
  return { swagger: "2.0", info: { title: "Kubernetes", version: "v1.34.0" }, paths: allPaths, definitions };
}
