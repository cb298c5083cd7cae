// Turns the JSON Schema that zod writes into a Kubernetes structural schema (OpenAPI v3 as a CRD takes it):
// every node typed, maps as additionalProperties, no $ref/anyOf/const/propertyNames, and a loud failure for
// anything the API server would refuse, so a schema change that cannot be expressed never reaches the CRD.
import { z } from "zod";

export type JsonSchema = { [key: string]: unknown };

const dropped = new Set(["$schema", "propertyNames", "$id", "id"]);
const refused = ["$ref", "$defs", "anyOf", "oneOf", "allOf", "not", "if", "then", "else"];

/** The structural OpenAPI schema of a zod schema, as used for the input (so defaulted fields are optional). */
export function structuralSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "throw" }) as JsonSchema;
  return toStructural(json, "");
}

function toStructural(node: JsonSchema, path: string): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (dropped.has(key)) continue;
    if (refused.includes(key))
      throw new Error(`${path || "(root)"}: ${key} is not allowed in a structural schema`);
    if (key === "const") {
      out.enum = [value];
    } else if (key === "additionalProperties" && value === false) {
      // zod's strict objects: the API server prunes unknown fields anyway, and refuses `false` here.
    } else if (key === "maximum" && value === Number.MAX_SAFE_INTEGER) {
      // zod's int() bound; Kubernetes integers are int64, format says so.
    } else if (key === "minimum" && value === Number.MIN_SAFE_INTEGER) {
      // same
    } else if (key === "properties") {
      const props: JsonSchema = {};
      for (const [name, child] of Object.entries(value as JsonSchema)) {
        props[name] = toStructural(child as JsonSchema, `${path}.${name}`);
      }
      out.properties = props;
    } else if (key === "items" || key === "additionalProperties") {
      out[key] = toStructural(value as JsonSchema, `${path}${key === "items" ? "[]" : "{}"}`);
    } else {
      out[key] = value;
    }
  }
  if (typeof out.type !== "string") throw new Error(`${path || "(root)"}: every node needs a type`);
  if (out.type === "integer" && out.format === undefined) out.format = "int64";
  // zod spells date-time out as a long regex; the API server checks `format: date-time` itself.
  if (out.format === "date-time") delete out.pattern;
  if (out.properties && out.additionalProperties) {
    throw new Error(`${path || "(root)"}: properties and additionalProperties are exclusive`);
  }
  return orderKeys(out);
}

const keyOrder = ["description", "type", "format", "enum", "default", "pattern", "minLength", "maxLength"];

/** Puts the keys a reader looks for first in a fixed order; the rest stay as zod wrote them. */
function orderKeys(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const key of keyOrder) if (key in node) out[key] = node[key];
  for (const [key, value] of Object.entries(node)) if (!(key in out)) out[key] = value;
  return out;
}
