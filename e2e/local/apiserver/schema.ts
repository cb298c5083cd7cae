// Structural-schema handling for custom resources, in the order the API server applies it: prune unknown
// fields, apply defaults, then validate. x-kubernetes-validations (CEL) rules are NOT evaluated.
import type { StatusCause } from "./errors.ts";
import { isObject, type Schema } from "./types.ts";

const rootFields = new Set(["apiVersion", "kind", "metadata"]);

/**
 * Maps and lists already admitted (pruned, defaulted, found valid) under a schema, by the schema they were
 * admitted at. Only for objects nobody changes after admission (the API server's stored objects): for those,
 * pruning, defaulting and validating a marked node again under the same schema changes and finds nothing, so
 * it is skipped; a write that keeps most of an object then costs what it changed. Callers that change their
 * objects pass no marks.
 */
export type Marks = WeakMap<object, Schema>;

const marked = (marks: Marks | undefined, value: unknown, schema: Schema): boolean =>
  marks !== undefined && typeof value === "object" && value !== null && marks.get(value) === schema;

const marksHoldFor = new WeakMap<Schema, boolean>();

/**
 * Whether marks may be used with a schema: every default, once defaulted itself, survives pruning. (Else a
 * default could bring a field that pruning removes on the next write, and that write must report it.)
 */
export function marksHold(schema: Schema): boolean {
  let holds = marksHoldFor.get(schema);
  if (holds === undefined) {
    const seen = new Set<Schema>();
    const ok = (s: Schema | undefined): boolean => {
      if (!s || seen.has(s)) return true;
      seen.add(s);
      for (const prop of Object.values(s.properties ?? {})) {
        if (prop.default !== undefined) {
          const value = structuredClone(prop.default);
          applyDefaults(value, prop);
          if (needsPruning(value, prop)) return false;
        }
        if (!ok(prop)) return false;
      }
      return ok(s.items) && ok(isObject(s.additionalProperties) ? s.additionalProperties : undefined);
    };
    holds = ok(schema);
    marksHoldFor.set(schema, holds);
  }
  return holds;
}

/** Removes fields the schema does not declare; returns the dotted paths it removed. */
export function prune(obj: Record<string, unknown>, schema: Schema, marks?: Marks): string[] {
  const removed: string[] = [];
  pruneNode(obj, schema, "", removed, true, marks);
  return removed;
}

/** Whether prune would remove anything (read only). */
export function needsPruning(value: unknown, schema: Schema, marks?: Marks, root = false): boolean {
  const removed: string[] = [];
  pruneNode(value, schema, "", removed, root, marks, true);
  return removed.length > 0;
}

function pruneNode(
  value: unknown,
  schema: Schema | undefined,
  path: string,
  removed: string[],
  root = false,
  marks?: Marks,
  dry = false,
): void {
  if (!schema || marked(marks, value, schema)) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      pruneNode(item, schema.items, `${path}[${i}]`, removed, false, marks, dry);
    });
    return;
  }
  if (!isObject(value)) return;
  const props = schema.properties;
  const additional = schema.additionalProperties;
  // an embedded resource keeps its apiVersion, kind and metadata, like the root object
  const embedded = root || schema["x-kubernetes-embedded-resource"] === true;
  for (const key of Object.keys(value)) {
    const child = `${path ? `${path}.` : ""}${key}`;
    if (embedded && rootFields.has(key)) {
      if (key !== "metadata") pruneNode(value[key], props?.[key], child, removed, false, marks, dry);
      continue;
    }
    if (props && Object.hasOwn(props, key))
      pruneNode(value[key], props[key], child, removed, false, marks, dry);
    else if (isObject(additional)) pruneNode(value[key], additional, child, removed, false, marks, dry);
    else if (additional === true || schema["x-kubernetes-preserve-unknown-fields"]) continue;
    else {
      removed.push(child);
      if (dry) return;
      delete value[key];
    }
  }
}

/** Sets `default` values of absent fields, recursively, including inside defaults themselves. */
export function applyDefaults(value: unknown, schema: Schema | undefined, marks?: Marks): void {
  if (!schema || marked(marks, value, schema)) return;
  if (Array.isArray(value)) {
    for (const item of value) applyDefaults(item, schema.items, marks);
    return;
  }
  if (!isObject(value)) return;
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    if ((value[key] === undefined || (value[key] === null && !prop.nullable)) && prop.default !== undefined) {
      value[key] = structuredClone(prop.default);
    }
    if (value[key] !== undefined) applyDefaults(value[key], prop, marks);
  }
  if (isObject(schema.additionalProperties)) {
    for (const key of Object.keys(value)) {
      if (!schema.properties?.[key]) applyDefaults(value[key], schema.additionalProperties, marks);
    }
  }
}

/** Whether applyDefaults would set anything in `value` (read only: the object is not changed). */
export function needsDefaults(value: unknown, schema: Schema | undefined, marks?: Marks): boolean {
  if (!schema || marked(marks, value, schema)) return false;
  if (Array.isArray(value)) return value.some((item) => needsDefaults(item, schema.items, marks));
  if (!isObject(value)) return false;
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    if ((value[key] === undefined || (value[key] === null && !prop.nullable)) && prop.default !== undefined)
      return true;
    if (value[key] !== undefined && needsDefaults(value[key], prop, marks)) return true;
  }
  if (isObject(schema.additionalProperties)) {
    for (const key of Object.keys(value)) {
      if (!schema.properties?.[key] && needsDefaults(value[key], schema.additionalProperties, marks))
        return true;
    }
  }
  return false;
}

const patterns = new Map<string, RegExp>();

/** A schema's pattern, compiled once. */
function pattern(source: string): RegExp {
  let re = patterns.get(source);
  if (!re) {
    re = new RegExp(source, "u");
    patterns.set(source, re);
  }
  return re;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** Go-like rendering of a value in an "Invalid value: ..." message. */
export function showValue(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v === null) return "null";
  return JSON.stringify(typeName(v));
}

const int32 = { min: -2147483648, max: 2147483647 };
const dateTime = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Validates against the schema; returns causes with Kubernetes' reasons and messages. With marks, call it
 * after prune and applyDefaults: maps and lists found valid are marked as admitted.
 */
export function validate(obj: Record<string, unknown>, schema: Schema, marks?: Marks): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const [key, prop] of Object.entries(schema.properties ?? {})) {
    if (rootFields.has(key)) continue;
    if (obj[key] !== undefined) validateNode(obj[key], prop, key, causes, marks);
  }
  for (const req of schema.required ?? []) {
    if (!rootFields.has(req) && obj[req] === undefined) causes.push(required(req));
  }
  return causes;
}

function required(field: string): StatusCause {
  return { reason: "FieldValueRequired", message: "Required value", field };
}

function invalid(field: string, value: unknown, detail: string): StatusCause {
  return { reason: "FieldValueInvalid", message: `Invalid value: ${showValue(value)}: ${detail}`, field };
}

function typeInvalid(field: string, value: unknown, want: string): StatusCause {
  const actual = typeName(value);
  return {
    reason: "FieldValueTypeInvalid",
    message: `Invalid value: "${actual}": ${field} in body must be of type ${want}: "${actual}"`,
    field,
  };
}

function typeMatches(value: unknown, schema: Schema): boolean {
  if (schema["x-kubernetes-int-or-string"])
    return typeof value === "string" || (typeof value === "number" && Number.isInteger(value));
  switch (schema.type) {
    case undefined:
    case "":
      return true;
    case "object":
      return isObject(value);
    case "array":
      return Array.isArray(value);
    case "string":
      return typeof value === "string";
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "number":
      return typeof value === "number";
    case "boolean":
      return typeof value === "boolean";
    default:
      return true;
  }
}

function validateNode(
  value: unknown,
  schema: Schema,
  path: string,
  causes: StatusCause[],
  marks?: Marks,
): void {
  if (marked(marks, value, schema)) return;
  const found = causes.length;
  checkNode(value, schema, path, causes, marks);
  if (marks && causes.length === found && typeof value === "object" && value !== null)
    marks.set(value, schema);
}

function checkNode(value: unknown, schema: Schema, path: string, causes: StatusCause[], marks?: Marks): void {
  if (value === null) {
    if (!schema.nullable && schema.type) causes.push(typeInvalid(path, value, schema.type));
    return;
  }
  if (!typeMatches(value, schema)) {
    causes.push(
      typeInvalid(path, value, schema["x-kubernetes-int-or-string"] ? "integer,string" : (schema.type ?? "")),
    );
    return;
  }
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    causes.push({
      reason: "FieldValueNotSupported",
      message: `Unsupported value: ${showValue(value)}: supported values: ${schema.enum.map((e) => showValue(e)).join(", ")}`,
      field: path,
    });
  }
  if (typeof value === "number") {
    if (schema.minimum !== undefined) {
      if (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum)
        causes.push(
          invalid(
            path,
            value,
            `${path} in body should be greater than ${schema.exclusiveMinimum ? "" : "or equal to "}${schema.minimum}`,
          ),
        );
    }
    if (schema.maximum !== undefined) {
      if (schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum)
        causes.push(
          invalid(
            path,
            value,
            `${path} in body should be less than ${schema.exclusiveMaximum ? "" : "or equal to "}${schema.maximum}`,
          ),
        );
    }
    if (schema.format === "int32" && (value < int32.min || value > int32.max))
      causes.push(invalid(path, value, `${path} in body must be of type int32: "${value}"`));
    if (schema.format === "int64" && !Number.isSafeInteger(value))
      causes.push(invalid(path, value, `${path} in body must be of type int64: "${value}"`));
  }
  if (typeof value === "string") {
    const length = schema.minLength !== undefined || schema.maxLength !== undefined ? [...value].length : 0;
    if (schema.minLength !== undefined && length < schema.minLength)
      causes.push(invalid(path, value, `${path} in body should be at least ${schema.minLength} chars long`));
    if (schema.maxLength !== undefined && length > schema.maxLength)
      causes.push({
        reason: "FieldValueTooLong",
        message: `Too long: may not be more than ${schema.maxLength} bytes`,
        field: path,
      });
    if (schema.pattern !== undefined && !pattern(schema.pattern).test(value))
      causes.push(invalid(path, value, `${path} in body should match '${schema.pattern}'`));
    if (schema.format === "date-time" && !dateTime.test(value))
      causes.push(invalid(path, value, `${path} in body must be of type date-time: "${value}"`));
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      causes.push(invalid(path, value, `${path} in body should have at least ${schema.minItems} items`));
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      causes.push({
        reason: "FieldValueTooMany",
        message: `Too many: ${value.length}: must have at most ${schema.maxItems} items`,
        field: path,
      });
    if (schema.items)
      value.forEach((item, i) => {
        validateNode(item, schema.items as Schema, `${path}[${i}]`, causes, marks);
      });
    const listType = schema["x-kubernetes-list-type"];
    if (listType === "map" || listType === "set") {
      const keys = schema["x-kubernetes-list-map-keys"] ?? [];
      const identity = (item: unknown) =>
        listType === "set"
          ? JSON.stringify(item)
          : JSON.stringify(Object.fromEntries(keys.map((k) => [k, isObject(item) ? item[k] : undefined])));
      const seen = new Set<string>();
      value.forEach((item, i) => {
        const id = identity(item);
        if (seen.has(id))
          causes.push({
            reason: "FieldValueDuplicate",
            message: `Duplicate value: ${id}`,
            field: `${path}[${i}]`,
          });
        seen.add(id);
      });
    }
  }
  if (isObject(value)) {
    for (const req of schema.required ?? []) {
      if (value[req] === undefined) causes.push(required(`${path}.${req}`));
    }
    const count = Object.keys(value).length;
    if (schema.minProperties !== undefined && count < schema.minProperties)
      causes.push(
        invalid(path, value, `${path} in body should have at least ${schema.minProperties} properties`),
      );
    if (schema.maxProperties !== undefined && count > schema.maxProperties)
      causes.push(
        invalid(path, value, `${path} in body should have at most ${schema.maxProperties} properties`),
      );
    for (const [key, child] of Object.entries(value)) {
      const prop = schema.properties?.[key];
      if (prop) validateNode(child, prop, `${path}.${key}`, causes, marks);
      else if (isObject(schema.additionalProperties))
        validateNode(child, schema.additionalProperties, `${path}.${key}`, causes, marks);
    }
  }
}
