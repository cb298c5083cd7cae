// metadata.managedFields bookkeeping and server-side apply, over the field sets of fieldsets.ts.
import { ApiError, type StatusCause } from "./errors.ts";
import {
  childSchema,
  fieldSet,
  fromFieldsV1,
  fromId,
  listKind,
  removeAt,
  type Scope,
  showPath,
  type TypeContext,
  toFieldsV1,
  valueAt,
} from "./fieldsets.ts";
import { deepEqual } from "./patch.ts";
import { isObject, type KubeObject, type ManagedFieldsEntry, type Schema } from "./types.ts";

export interface Manager {
  name: string;
  apiVersion: string;
  /** "status" for writes through the status subresource. */
  subresource?: string;
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

interface Owned {
  entry: ManagedFieldsEntry;
  set: Set<string>;
  /** whether `set` differs from the entry's fieldsV1 */
  changed: boolean;
}

/**
 * The field sets of FieldsV1 trees this server made or read, by tree: a stored object is never changed, so
 * a manager whose fields a write leaves alone keeps the very same tree, and it is decoded once.
 */
const decoded = new WeakMap<object, Set<string>>();

/** The decoded set, shared: to be read, never changed. */
function sharedSetOf(fieldsV1: unknown): Set<string> {
  if (!isObject(fieldsV1)) return fromFieldsV1(fieldsV1);
  let set = decoded.get(fieldsV1);
  if (!set) {
    set = fromFieldsV1(fieldsV1);
    decoded.set(fieldsV1, set);
  }
  return set;
}

/**
 * The managers' entries (copies: `before` is only read) and their field sets: copies, or with `shared`
 * the decoded sets themselves, which the caller copies before changing one (and then sets `changed`).
 */
function load(obj: KubeObject | undefined, shared = false): Owned[] {
  return (obj?.metadata.managedFields ?? []).map((entry) => {
    const set = sharedSetOf(entry.fieldsV1);
    return { entry: { ...entry }, set: shared ? set : new Set(set), changed: false };
  });
}

const BUILTIN = Symbol("builtin");
const UNTYPED = Symbol("untyped");
const typeKey = (ctx: TypeContext): object | symbol => ctx.schema ?? (ctx.builtin ? BUILTIN : UNTYPED);

/**
 * Objects whose managers own only fields the object has (fieldSet(obj, ctx, "all") holds every id of every
 * managedFields entry), by the type context that holds for: what recordUpdate leaves in the object it
 * records into. Such objects are stored and never changed.
 */
const consistent = new WeakMap<KubeObject, object | symbol>();

function store(owned: Owned[]): ManagedFieldsEntry[] | undefined {
  const entries = owned
    .filter((o) => o.set.size > 0)
    .map((o) => {
      if (!o.changed && isObject(o.entry.fieldsV1)) return o.entry;
      const fieldsV1 = toFieldsV1(o.set);
      decoded.set(fieldsV1, o.set);
      return { ...o.entry, fieldsV1 };
    });
  return entries.length ? entries : undefined;
}

function sameSlot(e: ManagedFieldsEntry, m: Manager, op: "Apply" | "Update"): boolean {
  return e.manager === m.name && e.operation === op && (e.subresource ?? "") === (m.subresource ?? "");
}

function slot(owned: Owned[], m: Manager, op: "Apply" | "Update"): Owned {
  let o = owned.find((x) => sameSlot(x.entry, m, op));
  if (!o) {
    o = {
      entry: {
        manager: m.name,
        operation: op,
        apiVersion: m.apiVersion,
        time: now(),
        fieldsType: "FieldsV1",
        fieldsV1: {},
      },
      set: new Set(),
      changed: true,
    };
    if (m.subresource) o.entry.subresource = m.subresource;
    owned.push(o);
  }
  o.entry.apiVersion = m.apiVersion;
  o.entry.time = now();
  return o;
}

function scopeOf(m: Manager, hasStatus: boolean): Scope {
  if (!hasStatus) return "all";
  return m.subresource === "status" ? "status" : "main";
}

/** Paths set in `after` whose value differs from `before` (new list items count, unchanged ones do not). */
function changedPaths(
  before: KubeObject | undefined,
  after: KubeObject,
  ctx: TypeContext,
  scope: Scope,
): Set<string> {
  const changed = new Set<string>();
  // only paths under something that differs from `before` can have changed
  for (const id of before ? fieldSet(after, ctx, scope, before) : fieldSet(after, ctx, scope)) {
    const path = fromId(id);
    const old = before ? valueAt(before, path) : undefined;
    const cur = valueAt(after, path);
    const last = path[path.length - 1] ?? "";
    const isItem = !last.startsWith("f:");
    if (isItem ? old === undefined : !deepEqual(old, cur)) changed.add(id);
  }
  return changed;
}

/** Records an Update operation (create, update, patch) by a manager in the new object's managedFields. */
export function recordUpdate(
  before: KubeObject | undefined,
  after: KubeObject,
  m: Manager,
  ctx: TypeContext,
  hasStatus: boolean,
): void {
  if (before && consistent.get(before) === typeKey(ctx))
    recordUpdateIncrementally(before, after, m, ctx, hasStatus);
  else recordUpdateInFull(before, after, m, ctx, hasStatus);
  consistent.set(after, typeKey(ctx));
}

/**
 * recordUpdate where every owned id is in fieldSet(before): an id leaves fieldSet when the object changes
 * only if it lies under something that differs, so the sets are compared only there. Outside the places
 * where they differ (maps deepEqual to each other, see fieldSet), `before` and `after` have the same ids:
 *   fieldSet(after) = (fieldSet(before) − fieldSet(before, unchangedFrom after)) ∪ fieldSet(after, unchangedFrom before)
 * so an owned id is gone from `after` exactly when it is in the second set and not in the third.
 */
function recordUpdateIncrementally(
  before: KubeObject,
  after: KubeObject,
  m: Manager,
  ctx: TypeContext,
  hasStatus: boolean,
): void {
  const scope = scopeOf(m, hasStatus);
  const owned = load(before, true);
  const changed = changedPaths(before, after, ctx, scope);
  const differsAfter = fieldSet(after, ctx, "all", before);
  const gone = [...fieldSet(before, ctx, "all", after)].filter((id) => !differsAfter.has(id));
  const own = (o: Owned) => {
    if (!o.changed) {
      o.set = new Set(o.set);
      o.changed = true;
    }
  };
  for (const o of owned) {
    const drop = gone.filter((id) => o.set.has(id));
    if (!sameSlot(o.entry, m, "Update")) for (const id of changed) if (o.set.has(id)) drop.push(id);
    if (drop.length === 0) continue;
    own(o);
    for (const id of drop) o.set.delete(id);
  }
  if (changed.size > 0) {
    const mine = slot(owned, m, "Update");
    for (const id of changed)
      if (!mine.set.has(id)) {
        own(mine);
        mine.set.add(id);
      }
  }
  const entries = store(owned);
  if (entries) after.metadata.managedFields = entries;
  else delete after.metadata.managedFields;
}

function recordUpdateInFull(
  before: KubeObject | undefined,
  after: KubeObject,
  m: Manager,
  ctx: TypeContext,
  hasStatus: boolean,
): void {
  const scope = scopeOf(m, hasStatus);
  const owned = load(before ?? after);
  const changed = changedPaths(before, after, ctx, scope);
  const present = fieldSet(after, ctx, "all");
  for (const o of owned) {
    for (const id of [...o.set]) {
      if (!present.has(id) || (changed.has(id) && !sameSlot(o.entry, m, "Update"))) {
        o.set.delete(id);
        o.changed = true;
      }
    }
  }
  if (changed.size > 0) {
    const mine = slot(owned, m, "Update");
    for (const id of changed)
      if (!mine.set.has(id)) {
        mine.set.add(id);
        mine.changed = true;
      }
  }
  const entries = store(owned);
  if (entries) after.metadata.managedFields = entries;
  else delete after.metadata.managedFields;
}

/** Merges an applied configuration into an object: maps recursively, associative lists by key, sets as sets. */
export function applyMerge(
  current: unknown,
  config: unknown,
  field: string,
  schema: Schema | undefined,
  builtin: boolean,
): unknown {
  if (isObject(config)) {
    const out: Record<string, unknown> = isObject(current) ? { ...current } : {};
    for (const [k, v] of Object.entries(config)) {
      if (v === null) delete out[k];
      else out[k] = applyMerge(out[k], v, k, childSchema(schema, k), builtin);
    }
    return out;
  }
  if (Array.isArray(config) && Array.isArray(current)) {
    const kind = listKind(field, schema, builtin, [...current, ...config]);
    if (kind.type === "set")
      return [...current, ...config.filter((v) => !current.some((c) => deepEqual(c, v)))];
    if (kind.type === "map") {
      const same = (a: unknown, b: unknown) =>
        isObject(a) && isObject(b) && kind.keys.every((k) => deepEqual(a[k], b[k]));
      const out = current.map((c) => structuredClone(c));
      for (const item of config) {
        const i = out.findIndex((c) => same(c, item));
        if (i >= 0) out[i] = applyMerge(out[i], item, field, schema?.items, builtin);
        else out.push(structuredClone(item));
      }
      return out;
    }
  }
  return structuredClone(config);
}

/**
 * Server-side apply of `config` by manager `m` onto `current` (undefined: create). Throws 409 Conflict when
 * another manager owns a field whose value the configuration changes, unless `force`.
 */
export function serverSideApply(
  current: KubeObject | undefined,
  config: KubeObject,
  m: Manager,
  force: boolean,
  ctx: TypeContext,
  hasStatus: boolean,
): KubeObject {
  const scope = scopeOf(m, hasStatus);
  const owned = load(current);
  const applied = fieldSet(config, ctx, scope);
  const base = current ?? { apiVersion: config.apiVersion, kind: config.kind, metadata: {} };

  const conflicts: { manager: Owned; ids: string[] }[] = [];
  for (const o of owned) {
    if (sameSlot(o.entry, m, "Apply")) continue;
    const ids = [...applied].filter((id) => {
      if (!o.set.has(id)) return false;
      const path = fromId(id);
      const cv = valueAt(config, path);
      if (isObject(cv) && Object.keys(cv).length > 0) return false;
      const last = path[path.length - 1] ?? "";
      if (!last.startsWith("f:")) return false;
      return !deepEqual(valueAt(base, path), cv);
    });
    if (ids.length) conflicts.push({ manager: o, ids });
  }
  if (conflicts.length && !force) throw conflictError(conflicts);
  for (const c of conflicts)
    for (const id of c.ids) {
      c.manager.set.delete(id);
      c.manager.changed = true;
    }

  const merged = applyMerge(base, config, "", ctx.schema, ctx.builtin) as KubeObject;
  merged.metadata = { ...(base.metadata ?? {}), ...(merged.metadata ?? {}) };

  // fields this manager applied before and no longer applies are removed, unless someone else owns them
  const mine = slot(owned, m, "Apply");
  const dropped = [...mine.set].filter((id) => !applied.has(id));
  // list items first: removing their key fields first would leave them unaddressable
  dropped.sort((a, b) => fromId(a).length - fromId(b).length);
  for (const id of dropped) {
    const ownedByOthers = owned.some((o) => o !== mine && o.set.has(id));
    if (!ownedByOthers) removeAt(merged, fromId(id));
  }
  // fields whose value this apply changed move to this manager
  const changed = changedPaths(current, merged, ctx, scope);
  const present = fieldSet(merged, ctx, "all");
  for (const o of owned) {
    if (o === mine) continue;
    for (const id of [...o.set])
      if (!present.has(id) || (changed.has(id) && applied.has(id))) {
        o.set.delete(id);
        o.changed = true;
      }
  }
  mine.set = applied;
  mine.changed = true;
  const entries = store(owned);
  if (entries) merged.metadata.managedFields = entries;
  else delete merged.metadata.managedFields;
  return merged;
}

/** How the API server names a manager in conflicts: appliers by name, updaters with their apiVersion. */
function printManager(e: ManagedFieldsEntry): string {
  let out = JSON.stringify(e.manager);
  if (e.subresource) out += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === "Update") out += ` using ${e.apiVersion}`;
  return out;
}

/** 409 with the API server's conflict message (one line for one conflict, grouped by manager otherwise). */
function conflictError(conflicts: { manager: Owned; ids: string[] }[]): ApiError {
  const causes: StatusCause[] = [];
  for (const c of conflicts)
    for (const id of c.ids)
      causes.push({
        reason: "FieldManagerConflict",
        message: `conflict with ${printManager(c.manager.entry)}`,
        field: showPath(fromId(id)),
      });
  const n = causes.length;
  let message: string;
  if (n === 1) message = `Apply failed with 1 conflict: ${causes[0]?.message}: ${causes[0]?.field}`;
  else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) {
      const who = printManager(c.manager.entry);
      byManager.set(who, [...(byManager.get(who) ?? []), ...c.ids.map((id) => showPath(fromId(id)))]);
    }
    const lines: string[] = [];
    for (const who of [...byManager.keys()].sort()) {
      lines.push(`conflicts with ${who}:`);
      for (const path of byManager.get(who) ?? []) lines.push(`- ${path}`);
    }
    message = `Apply failed with ${n} conflicts: ${lines.join("\n")}`;
  }
  return new ApiError("Conflict", message, { causes });
}
