// Field sets in the structured-merge-diff sense: which fields of an object a manager owns, addressed by
// path elements `f:<field>`, `k:<key json>` (items of associative lists), `v:<value json>` (items of sets),
// and their FieldsV1 encoding in metadata.managedFields.
import { deepEqual } from "./patch.ts";
import { isObject, type JsonObject, type Schema } from "./types.ts";

/** How list and map types are known: from a CRD schema, or from the built-in merge-key table. */
export interface TypeContext {
  schema?: Schema;
  builtin: boolean;
}

export type ListKind = { type: "map"; keys: string[] } | { type: "set" } | { type: "atomic" };

const builtinListKeys: Record<string, string[]> = {
  containers: ["name"],
  initContainers: ["name"],
  ephemeralContainers: ["name"],
  env: ["name"],
  volumes: ["name"],
  volumeMounts: ["name"],
  imagePullSecrets: ["name"],
  conditions: ["type"],
  ownerReferences: ["uid"],
  hostAliases: ["ip"],
};
const builtinSets = new Set(["finalizers"]);

export function listKind(
  field: string,
  schema: Schema | undefined,
  builtin: boolean,
  items: unknown[],
): ListKind {
  if (builtin) {
    if (builtinSets.has(field)) return { type: "set" };
    if (field === "ports") {
      const containerPorts = items.some((i) => isObject(i) && "containerPort" in i);
      return { type: "map", keys: containerPorts ? ["containerPort", "protocol"] : ["port", "protocol"] };
    }
    const keys = builtinListKeys[field];
    return keys ? { type: "map", keys } : { type: "atomic" };
  }
  const t = schema?.["x-kubernetes-list-type"];
  if (t === "map") return { type: "map", keys: schema?.["x-kubernetes-list-map-keys"] ?? [] };
  if (t === "set") return { type: "set" };
  return { type: "atomic" };
}

export function childSchema(schema: Schema | undefined, key: string): Schema | undefined {
  if (!schema) return undefined;
  return (
    schema.properties?.[key] ??
    (isObject(schema.additionalProperties) ? schema.additionalProperties : undefined)
  );
}

function keyOf(item: unknown, keys: string[]): string {
  const k: Record<string, unknown> = {};
  if (isObject(item)) {
    for (const name of [...keys].sort()) {
      // protocol defaults to TCP on ports; an absent key is left out of the key, as SMD does for defaulted keys
      if (item[name] !== undefined) k[name] = item[name];
    }
  }
  return `k:${JSON.stringify(k)}`;
}

/** A path is a JSON array of elements; sets of paths are sets of those strings. */
export type Path = string[];
export const pathId = (p: Path): string => JSON.stringify(p);
export const fromId = (id: string): Path => JSON.parse(id) as Path;

/** Top-level fields that are never owned (as structured-merge-diff strips them). */
const metadataTracked = new Set(["labels", "annotations", "finalizers", "ownerReferences", "generateName"]);

export type Scope = "main" | "status" | "all";

/** Paths are built as the JSON text of their array, open at the end: `["f:spec","f:x"` (pathId adds `]`). */
const extend = (open: string, el: string): string => `${open}${open === "[" ? "" : ","}${JSON.stringify(el)}`;

/** Not compared: collect() walks the whole value. */
const WHOLE = Symbol("whole");

/**
 * The set of field paths an object (or an applied configuration) sets. With `unchangedFrom`, only the paths
 * that may have changed since that object: maps (reached through fields only) deepEqual to the same place
 * in `unchangedFrom` (as valueAt finds it) are left out, and with them every path beneath, none of which
 * differs from `unchangedFrom` (a superset of the changed paths, for changedPaths to test one by one).
 */
export function fieldSet(
  obj: Record<string, unknown>,
  ctx: TypeContext,
  scope: Scope,
  unchangedFrom?: Record<string, unknown>,
): Set<string> {
  const out = new Set<string>();
  const at = (base: unknown, key: string): unknown =>
    unchangedFrom === undefined ? WHOLE : isObject(base) ? base[key] : undefined;
  for (const [key, value] of Object.entries(obj)) {
    if (key === "apiVersion" || key === "kind") continue;
    if (scope === "main" && key === "status") continue;
    if (scope === "status" && key !== "status") continue;
    if (key === "metadata") {
      if (!isObject(value)) continue;
      const meta = at(unchangedFrom, "metadata");
      for (const [mk, mv] of Object.entries(value)) {
        if (metadataTracked.has(mk))
          collect(
            mv,
            mk,
            undefined,
            ctx.builtin,
            extend(extend("[", "f:metadata"), `f:${mk}`),
            out,
            at(meta, mk),
          );
      }
      continue;
    }
    collect(
      value,
      key,
      childSchema(ctx.schema, key),
      ctx.builtin,
      extend("[", `f:${key}`),
      out,
      at(unchangedFrom, key),
    );
  }
  return out;
}

function collect(
  value: unknown,
  field: string,
  schema: Schema | undefined,
  builtin: boolean,
  path: string,
  out: Set<string>,
  base: unknown = WHOLE,
) {
  if (base !== WHOLE && base !== undefined && deepEqual(base, value)) return;
  if (isObject(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0 || schema?.["x-kubernetes-map-type"] === "atomic") {
      out.add(`${path}]`);
      return;
    }
    for (const [k, v] of entries) {
      const at = base === WHOLE ? WHOLE : isObject(base) ? base[k] : undefined;
      // (the check collect() starts with, made before the path is built: most fields of a big map are equal)
      if (at !== WHOLE && at !== undefined && (at === v || deepEqual(at, v))) continue;
      collect(v, k, childSchema(schema, k), builtin, extend(path, `f:${k}`), out, at);
    }
    return;
  }
  if (Array.isArray(value)) {
    const kind = listKind(field, schema, builtin, value);
    if (kind.type === "atomic" || value.length === 0) {
      out.add(`${path}]`);
      return;
    }
    for (const item of value) {
      if (kind.type === "set") out.add(`${extend(path, `v:${JSON.stringify(item)}`)}]`);
      else {
        const itemPath = extend(path, keyOf(item, kind.keys));
        out.add(`${itemPath}]`);
        if (isObject(item))
          for (const [k, v] of Object.entries(item))
            collect(v, k, childSchema(schema?.items, k), builtin, extend(itemPath, `f:${k}`), out);
      }
    }
    return;
  }
  out.add(`${path}]`);
}

function matchesElement(item: unknown, element: string): boolean {
  if (element.startsWith("v:")) return deepEqual(item, JSON.parse(element.slice(2)));
  const key = JSON.parse(element.slice(2)) as Record<string, unknown>;
  if (!isObject(item)) return false;
  return Object.entries(key).every(([k, v]) => deepEqual(item[k], v));
}

/** The value at a path, or undefined. */
export function valueAt(obj: unknown, path: Path): unknown {
  let cur: unknown = obj;
  for (const el of path) {
    if (el.startsWith("f:")) {
      if (!isObject(cur)) return undefined;
      cur = cur[el.slice(2)];
    } else {
      if (!Array.isArray(cur)) return undefined;
      cur = cur.find((item) => matchesElement(item, el));
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** Removes the field or list item at a path, if present. */
export function removeAt(obj: unknown, path: Path): void {
  const parent = valueAt(obj, path.slice(0, -1));
  const last = path[path.length - 1] ?? "";
  if (last.startsWith("f:")) {
    if (isObject(parent)) delete parent[last.slice(2)];
  } else if (Array.isArray(parent)) {
    const i = parent.findIndex((item) => matchesElement(item, last));
    if (i >= 0) parent.splice(i, 1);
  }
}

interface Node {
  member: boolean;
  children: Map<string, Node>;
}

export function toFieldsV1(set: Set<string>): JsonObject {
  const root: Node = { member: false, children: new Map() };
  for (const id of set) {
    let node = root;
    for (const el of fromId(id)) {
      let next = node.children.get(el);
      if (!next) {
        next = { member: false, children: new Map() };
        node.children.set(el, next);
      }
      node = next;
    }
    node.member = true;
  }
  const encode = (node: Node): JsonObject => {
    const out: JsonObject = {};
    if (node.member && node.children.size > 0) out["."] = {};
    for (const key of [...node.children.keys()].sort()) out[key] = encode(node.children.get(key) as Node);
    return out;
  };
  return encode(root);
}

export function fromFieldsV1(fields: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (node: unknown, path: Path) => {
    if (!isObject(node)) return;
    const keys = Object.keys(node);
    if (keys.length === 0 && path.length > 0) out.add(pathId(path));
    for (const k of keys) {
      if (k === ".") out.add(pathId(path));
      else walk(node[k], [...path, k]);
    }
  };
  walk(fields, []);
  return out;
}

/** Human form of a path as kubectl prints conflicts: `.spec.containers[name="x"].image`. */
export function showPath(path: Path): string {
  return path
    .map((el) => {
      if (el.startsWith("f:")) return `.${el.slice(2)}`;
      if (el.startsWith("v:")) return `[=${el.slice(2)}]`;
      const key = JSON.parse(el.slice(2)) as Record<string, unknown>;
      return `[${Object.entries(key)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(",")}]`;
    })
    .join("");
}
