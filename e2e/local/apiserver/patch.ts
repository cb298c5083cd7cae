// The three patch formats of PATCH requests: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
// Kubernetes strategic merge patch (for built-in kinds; see strategicMergePatch for what is covered).
import { ApiError, badRequest } from "./errors.ts";
import { isObject } from "./types.ts";

/** RFC 7386: objects merge recursively, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

interface JsonPatchOp {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}

function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw badRequest(`invalid JSON pointer "${pointer}"`);
  return pointer
    .slice(1)
    .split("/")
    .map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/**
 * A JSON patch that cannot be applied. The API server answers these with a generic 422 whose message does not
 * say why (NewGenericServerResponse drops the patch library's text); the reason is kept in `cause` for logs.
 */
function patchFailure(why: string): ApiError {
  const err = new ApiError("Invalid", "the server rejected our request due to an error in our request", {});
  err.cause = why;
  return err;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return (
      ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]))
    );
  }
  return false;
}

/** Walks to the parent container of a pointer; throws if a step is missing. */
function parentOf(doc: unknown, tokens: string[], pointer: string): { parent: unknown; key: string } {
  let cur = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) {
      const i = Number(t);
      if (!/^\d+$/.test(t) || i >= cur.length)
        throw patchFailure(`doc is missing path: "${pointer}": missing value`);
      cur = cur[i];
    } else if (isObject(cur) && Object.hasOwn(cur, t)) cur = cur[t];
    else throw patchFailure(`doc is missing path: "${pointer}": missing value`);
  }
  return { parent: cur, key: tokens[tokens.length - 1] ?? "" };
}

function getAt(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return doc;
  const { parent, key } = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!/^\d+$/.test(key) || i >= parent.length)
      throw patchFailure(`doc is missing path: "${pointer}": missing value`);
    return parent[i];
  }
  if (isObject(parent) && Object.hasOwn(parent, key)) return parent[key];
  throw patchFailure(`doc is missing path: "${pointer}": missing value`);
}

function removeAt(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  const { parent, key } = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!/^\d+$/.test(key) || i >= parent.length)
      throw patchFailure(`doc is missing path: "${pointer}": missing value`);
    return parent.splice(i, 1)[0];
  }
  if (isObject(parent) && Object.hasOwn(parent, key)) {
    const old = parent[key];
    delete parent[key];
    return old;
  }
  throw patchFailure(`doc is missing path: "${pointer}": missing value`);
}

function addAt(doc: unknown, pointer: string, value: unknown, replace: boolean): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, key } = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    if (key === "-" && !replace) parent.push(value);
    else {
      const i = Number(key);
      const limit = replace ? parent.length - 1 : parent.length;
      if (!/^\d+$/.test(key) || i > limit)
        throw patchFailure(`doc is missing path: "${pointer}": missing value`);
      if (replace) parent[i] = value;
      else parent.splice(i, 0, value);
    }
  } else if (isObject(parent)) {
    if (replace && !Object.hasOwn(parent, key))
      throw patchFailure(`doc is missing key: "${pointer}": missing value`);
    parent[key] = value;
  } else throw patchFailure(`doc is missing path: "${pointer}": missing value`);
  return doc;
}

/** RFC 6902 JSON patch, all six operations. A failed `test` aborts the whole patch. */
export function jsonPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch))
    throw badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
  if (patch.length > 10000)
    throw new ApiError(
      "RequestEntityTooLarge",
      "The allowed maximum operations in a JSON patch is 10000, got more",
    );
  let doc = structuredClone(target);
  for (const raw of patch as JsonPatchOp[]) {
    if (!isObject(raw) || typeof raw.op !== "string" || typeof raw.path !== "string")
      throw badRequest("invalid JSON patch operation: op and path are required");
    switch (raw.op) {
      case "add":
        doc = addAt(doc, raw.path, structuredClone(raw.value), false);
        break;
      case "replace":
        doc = addAt(doc, raw.path, structuredClone(raw.value), true);
        break;
      case "remove":
        removeAt(doc, raw.path);
        break;
      case "move": {
        const value = removeAt(doc, raw.from ?? "");
        doc = addAt(doc, raw.path, value, false);
        break;
      }
      case "copy":
        doc = addAt(doc, raw.path, structuredClone(getAt(doc, raw.from ?? "")), false);
        break;
      case "test": {
        let actual: unknown;
        try {
          actual = getAt(doc, raw.path);
        } catch {
          throw patchFailure(`testing value ${raw.path} failed: test failed`);
        }
        if (!deepEqual(actual, raw.value))
          throw patchFailure(`testing value ${raw.path} failed: test failed`);
        break;
      }
      default:
        throw badRequest(`Unexpected kind: ${raw.op}`);
    }
  }
  return doc;
}

/**
 * Merge keys of the built-in types' lists (patchMergeKey in k8s.io/api), by field name. A field not listed
 * here is replaced as a whole, as in a merge patch. `ports` merges by containerPort inside containers and by
 * port elsewhere (Service); primitive lists with the merge strategy (finalizers) merge as sets.
 */
const mergeKeys: Record<string, string> = {
  containers: "name",
  initContainers: "name",
  ephemeralContainers: "name",
  env: "name",
  volumes: "name",
  volumeMounts: "name",
  volumeDevices: "devicePath",
  imagePullSecrets: "name",
  conditions: "type",
  ownerReferences: "uid",
  hostAliases: "ip",
  topologySpreadConstraints: "topologyKey",
};
const mergedPrimitiveLists = new Set(["finalizers"]);

function mergeKeyFor(field: string, items: unknown[]): string | undefined {
  if (field === "ports") {
    return items.some((i) => isObject(i) && "containerPort" in i) ? "containerPort" : "port";
  }
  return mergeKeys[field];
}

/**
 * Kubernetes strategic merge patch over the merge keys above, with the directives kubectl sends:
 * `$patch: replace|delete|merge` (in maps and list items), `$setElementOrder/<field>`,
 * `$deleteFromPrimitiveList/<field>` and `$retainKeys`.
 */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  return smpMap(isObject(target) ? target : {}, patch);
}

function smpMap(target: Record<string, unknown>, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const directive = patch.$patch;
  if (directive === "replace") {
    const { $patch: _, ...rest } = patch;
    return stripDirectives(rest);
  }
  if (directive === "delete") return undefined;
  let result: Record<string, unknown> = { ...target };
  const retain = patch.$retainKeys;
  if (Array.isArray(retain)) {
    result = Object.fromEntries(Object.entries(result).filter(([k]) => retain.includes(k)));
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key === "$patch" || key === "$retainKeys" || key.startsWith("$setElementOrder/")) continue;
    if (key.startsWith("$deleteFromPrimitiveList/")) {
      const field = key.slice("$deleteFromPrimitiveList/".length);
      const list = result[field];
      if (Array.isArray(list) && Array.isArray(value)) result[field] = list.filter((v) => !value.includes(v));
      continue;
    }
    if (value === null) {
      delete result[key];
      continue;
    }
    const current = result[key];
    if (Array.isArray(value)) {
      const merged = smpList(key, Array.isArray(current) ? current : [], value);
      const order = patch[`$setElementOrder/${key}`];
      result[key] = Array.isArray(order) ? reorder(key, merged, order) : merged;
    } else if (isObject(value)) {
      const merged = smpMap(isObject(current) ? current : {}, value);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else result[key] = value;
  }
  return result;
}

function smpList(field: string, current: unknown[], patch: unknown[]): unknown[] {
  if (patch.some((p) => isObject(p) && p.$patch === "replace")) {
    return patch.filter((p) => !(isObject(p) && p.$patch === "replace")).map(stripDirectives);
  }
  if (mergedPrimitiveLists.has(field)) {
    const out = [...current];
    for (const v of patch) if (!out.includes(v)) out.push(v);
    return out;
  }
  const key = mergeKeyFor(field, [...current, ...patch]);
  if (!key) return patch.map(stripDirectives);
  const out = current.map((c) => structuredClone(c));
  for (const item of patch) {
    if (!isObject(item)) continue;
    const idx = out.findIndex((c) => isObject(c) && c[key] === item[key]);
    if (item.$patch === "delete") {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = smpMap(out[idx] as Record<string, unknown>, item);
    else out.push(stripDirectives(item));
  }
  return out;
}

function reorder(field: string, items: unknown[], order: unknown[]): unknown[] {
  const key = mergeKeyFor(field, items);
  const identity = (v: unknown): unknown => (key && isObject(v) ? v[key] : v);
  const pos = (v: unknown): number => {
    const wanted = identity(v);
    const i = order.findIndex((o) => (key && isObject(o) ? o[key] : o) === wanted);
    return i < 0 ? order.length : i;
  };
  return [...items].sort((a, b) => pos(a) - pos(b));
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) {
    if (k.startsWith("$")) continue;
    out[k] = stripDirectives(val);
  }
  return out;
}

export { deepEqual };
