// JSON merge patch (RFC 7386): the smallest patch that turns one JSON value into another, and applying one.
// Objects merge key by key; arrays and scalars are replaced whole; null removes a key.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a).filter((k) => a[k] !== undefined);
    const other = Object.keys(b).filter((k) => b[k] !== undefined);
    return keys.length === other.length && keys.every((k) => jsonEqual(a[k], b[k]));
  }
  return false;
}

/**
 * The merge patch from `before` to `after` (two objects), or undefined when they are equal. Keys whose value
 * is undefined count as absent. Values that are null in `after` cannot be expressed (null means remove).
 */
export function diffMergePatch(before: JsonObject | undefined, after: JsonObject): JsonObject | undefined {
  const patch: JsonObject = {};
  const prev = before ?? {};
  for (const [key, value] of Object.entries(after)) {
    if (value === undefined) continue;
    const old = prev[key];
    if (jsonEqual(old, value)) continue;
    if (isObject(old) && isObject(value)) {
      const inner = diffMergePatch(old, value);
      if (inner) patch[key] = inner;
    } else {
      patch[key] = value;
    }
  }
  for (const [key, value] of Object.entries(prev)) {
    if (value !== undefined && (after[key] === undefined || !(key in after))) patch[key] = null;
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}

/** RFC 7386 MergePatch(target, patch). */
export function applyMergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = applyMergePatch(out[key], value);
  }
  return out;
}
