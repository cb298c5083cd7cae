// The REST semantics of the server, independent of HTTP: create, get, list, update, patch, apply, delete,
// with resourceVersion preconditions, generation, the status subresource, CRD schemas, managedFields and
// finalizers. Garbage collection runs in gc.ts after writes.
import { randomUUID } from "node:crypto";
import type { UserInfo } from "./auth.ts";
import { extraSelectableFields, pruneUnknownTopLevel } from "./builtins.ts";
import { crdStatus, crdTerminating, validateCrd } from "./crds.ts";
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  invalid,
  notFound,
  type StatusCause,
  staleMessage,
} from "./errors.ts";
import { isEventsV1, toCoreEvent, toEventsV1 } from "./events.ts";
import type { TypeContext } from "./fieldsets.ts";
import { systemFinalizers } from "./finalizers.ts";
import { type Manager, recordUpdate, serverSideApply } from "./managed.ts";
import { nameSuffix, validateLabel, validateMetadataMaps, validateSubdomain } from "./names.ts";
import { deepEqual, jsonPatch, mergePatch, strategicMergePatch } from "./patch.ts";
import type { CrdSpec, Registry } from "./registry.ts";
import {
  applyDefaults,
  type Marks,
  marksHold,
  needsDefaults,
  needsPruning,
  prune,
  validate,
} from "./schema.ts";
import { type FieldRequirement, type LabelRequirement, matchesFields, matchesLabels } from "./selectors.ts";
import type { Store } from "./store.ts";
import {
  apiVersionOf,
  isObject,
  type KubeObject,
  type ManagedFieldsEntry,
  type ResourceInfo,
  storageKey,
} from "./types.ts";

export type FieldValidation = "Strict" | "Warn" | "Ignore";

export interface WriteOptions {
  manager: string;
  fieldValidation: FieldValidation;
  dryRun?: boolean;
  /** Collects warnings for the Warning response header. */
  warnings?: string[];
  /** Who writes (absent for the server's own writes): RBAC objects are checked against their rights. */
  user?: UserInfo;
}

export type PatchType = "merge" | "json" | "strategic" | "apply";

export interface ListOptions {
  labels: LabelRequirement[];
  fields: FieldRequirement[];
  limit?: number;
  continueToken?: string;
}

export interface DeleteOptions {
  propagationPolicy?: "Background" | "Foreground" | "Orphan";
  preconditions?: { uid?: string; resourceVersion?: string };
  gracePeriodSeconds?: number;
  /** The client set orphanDependents=false: a deletion left pending is answered 202 instead of 200. */
  acceptedStatus?: boolean;
  dryRun?: boolean;
}

export interface DeleteResult {
  code: 200 | 202;
  body: unknown;
}

/** Resources whose DELETE returns the deleted object rather than a Success Status. */
const returnsDeletedObject = new Set(["/pods", "/services", "/namespaces"]);

function timestamp(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs).toISOString().replace(/\.\d+Z$/, "Z");
}

/**
 * Seconds of graceful deletion for a pod bound to a node and not finished (0 for anything else): the
 * request's gracePeriodSeconds, else the pod's terminationGracePeriodSeconds, else 30.
 */
function podGracePeriod(ri: ResourceInfo, obj: KubeObject, requested: number | undefined): number {
  if (ri.group !== "" || ri.kind !== "Pod") return 0;
  const spec = (isObject(obj.spec) ? obj.spec : {}) as {
    nodeName?: string;
    terminationGracePeriodSeconds?: number;
  };
  const phase = isObject(obj.status) ? obj.status.phase : undefined;
  if (!spec.nodeName || phase === "Succeeded" || phase === "Failed") return 0;
  return Math.max(0, requested ?? spec.terminationGracePeriodSeconds ?? 30);
}

export class Api {
  readonly store: Store;
  readonly registry: Registry;
  /** Largest stored object (its JSON), as etcd's default --max-request-bytes of 1.5 MiB. */
  maxObjectBytes = 1.5 * 1024 * 1024;
  /** Called after every committed change, to let garbage collection run. */
  onChange: () => void = () => {};
  /** Checks a write against its writer's rights beyond the request's own authorisation (RBAC escalation). */
  checkWriter: (user: UserInfo, ri: ResourceInfo, obj: KubeObject) => void = () => {};
  /** Called when a resource stops being served (its CRD is gone), with its storage key. */
  onResourceRemoved: (key: string) => void = () => {};

  constructor(store: Store, registry: Registry) {
    this.store = store;
    this.registry = registry;
  }

  typeContext(ri: ResourceInfo): TypeContext {
    return ri.crd
      ? ri.schema
        ? { schema: ri.schema, builtin: false }
        : { builtin: false }
      : { builtin: true };
  }

  /** The object as served at the resource's version (custom resources get their defaults on read too). */
  present(ri: ResourceInfo, stored: KubeObject): KubeObject {
    const obj = isEventsV1(ri) ? toEventsV1(stored) : stored;
    obj.apiVersion = apiVersionOf(ri);
    obj.kind = ri.kind;
    if (ri.schema) applyDefaults(obj, ri.schema);
    return obj;
  }

  /** A copy of a stored (or otherwise shared) object, as served: the caller may change it. */
  #served(ri: ResourceInfo, shared: KubeObject): KubeObject {
    return this.present(ri, structuredClone(shared));
  }

  /**
   * The JSON of an object as served at the resource's version, made once per object and resource version
   * and shared by the write's answer and every watch event. Only for objects nobody changes any more (stored
   * ones, or a write's own result).
   */
  presentedJson(ri: ResourceInfo, shared: KubeObject): string {
    let byVersion = this.#json.get(shared);
    const cached = byVersion?.get(ri);
    if (cached !== undefined) return cached;
    const json = JSON.stringify(this.#servedAsStored(ri, shared) ? shared : this.#served(ri, shared));
    if (!byVersion) {
      byVersion = new Map();
      this.#json.set(shared, byVersion);
    }
    byVersion.set(ri, json);
    return json;
  }

  #json = new WeakMap<KubeObject, Map<ResourceInfo, string>>();

  /** Whether serving the object at this resource's version changes nothing (the usual case). */
  #servedAsStored(ri: ResourceInfo, obj: KubeObject): boolean {
    return (
      !isEventsV1(ri) &&
      obj.apiVersion === apiVersionOf(ri) &&
      obj.kind === ri.kind &&
      (!ri.schema || !needsDefaults(obj, ri.schema, this.#marksFor(ri)))
    );
  }

  /** What was admitted under which schema (schema.ts): objects here are never changed once admitted. */
  #admitted: Marks = new WeakMap();

  #marksFor(ri: ResourceInfo): Marks | undefined {
    return ri.schema && marksHold(ri.schema) ? this.#admitted : undefined;
  }

  /** The stored object itself: read it, never change it. */
  #peek(ri: ResourceInfo, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.store.peekOne(storageKey(ri), this.#namespaceOf(ri, namespace), name);
  }

  #namespaceOf(ri: ResourceInfo, namespace: string | undefined): string | undefined {
    return ri.namespaced ? namespace : undefined;
  }

  getStored(ri: ResourceInfo, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.store.get(storageKey(ri), this.#namespaceOf(ri, namespace), name);
  }

  has(ri: ResourceInfo, namespace: string | undefined, name: string): boolean {
    return this.#peek(ri, namespace, name) !== undefined;
  }

  get(ri: ResourceInfo, namespace: string | undefined, name: string): KubeObject {
    const obj = this.getStored(ri, namespace, name);
    if (!obj) throw notFound(ri, name);
    return this.present(ri, obj);
  }

  /** get() as JSON text. */
  getJson(ri: ResourceInfo, namespace: string | undefined, name: string): string {
    const obj = this.#peek(ri, namespace, name);
    if (!obj) throw notFound(ri, name);
    return this.presentedJson(ri, obj);
  }

  checkFieldSelector(ri: ResourceInfo, fields: FieldRequirement[]): void {
    const allowed = new Set([
      "metadata.name",
      "metadata.namespace",
      ...(extraSelectableFields[`${ri.group}/${ri.plural}`] ?? []),
    ]);
    for (const f of fields) {
      if (allowed.has(f.field)) continue;
      if (ri.crd)
        throw badRequest(
          `"${f.field}" is not a known field selector: only "metadata.name", "metadata.namespace"`,
        );
      throw badRequest(`field label not supported: ${f.field}`);
    }
  }

  matches(obj: KubeObject, opts: Pick<ListOptions, "labels" | "fields">): boolean {
    return matchesLabels(opts.labels, obj.metadata.labels) && matchesFields(opts.fields, obj);
  }

  list(ri: ResourceInfo, namespace: string | undefined, opts: ListOptions): KubeObject {
    this.checkFieldSelector(ri, opts.fields);
    let items = this.store
      .list(storageKey(ri), this.#namespaceOf(ri, namespace))
      .map((o) => this.present(ri, o))
      .filter((o) => this.matches(o, opts));
    let rv = String(this.store.resourceVersion);
    const metadata: Record<string, unknown> = {};
    if (opts.continueToken) {
      let token: { rv: string; after: string };
      try {
        token = JSON.parse(Buffer.from(opts.continueToken, "base64url").toString()) as {
          rv: string;
          after: string;
        };
      } catch {
        throw badRequest("continue key is not valid: illegal base64 data");
      }
      rv = token.rv;
      items = items.filter((o) => `${o.metadata.namespace ?? ""}/${o.metadata.name}` > token.after);
    }
    if (opts.limit && opts.limit > 0 && items.length > opts.limit) {
      items = items.slice(0, opts.limit);
      const last = items[items.length - 1] as KubeObject;
      metadata.continue = Buffer.from(
        JSON.stringify({ rv, after: `${last.metadata.namespace ?? ""}/${last.metadata.name}` }),
      ).toString("base64url");
    }
    metadata.resourceVersion = rv;
    return { apiVersion: apiVersionOf(ri), kind: ri.listKind, metadata, items } as unknown as KubeObject;
  }

  #checkNamespace(ri: ResourceInfo, namespace: string | undefined): void {
    if (!ri.namespaced) return;
    const nsInfo = this.registry.get("", "v1", "namespaces") as ResourceInfo;
    const ns = this.store.get(storageKey(nsInfo), undefined, namespace ?? "");
    if (!ns) throw notFound(nsInfo, namespace ?? "");
    if (ns.metadata.deletionTimestamp)
      throw new ApiError(
        "Forbidden",
        `${ri.plural}${ri.group ? `.${ri.group}` : ""} "" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
      );
  }

  #checkCrdTerminating(ri: ResourceInfo): void {
    if (!ri.crd) return;
    const crd = this.store.get("apiextensions.k8s.io/customresourcedefinitions", undefined, ri.crd);
    if (crd?.metadata.deletionTimestamp)
      throw new ApiError(
        "MethodNotAllowed",
        `create not allowed while custom resource definition is terminating`,
      );
  }

  /** Parses the body's identity against the URL's. `owned`: the body is the caller's own, no copy needed. */
  #checkIdentity(ri: ResourceInfo, namespace: string | undefined, body: unknown, owned = false): KubeObject {
    if (!isObject(body)) throw badRequest("Object 'Kind' is missing in request body");
    const obj = (owned ? body : structuredClone(body)) as unknown as KubeObject;
    if (obj.kind !== undefined && obj.kind !== ri.kind)
      throw badRequest(
        `the kind of the object in the body (${String(obj.kind)}) does not match the kind of the resource (${ri.kind})`,
      );
    if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersionOf(ri))
      throw badRequest(
        `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersionOf(ri)})`,
      );
    if (!isObject(obj.metadata)) obj.metadata = {};
    if (ri.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== namespace)
        throw badRequest(
          "the namespace of the provided object does not match the namespace sent on the request",
        );
      obj.metadata.namespace = namespace as string;
    } else delete obj.metadata.namespace;
    obj.apiVersion = apiVersionOf(ri);
    obj.kind = ri.kind;
    return obj;
  }

  /** Schema pruning, defaulting, validation; built-in normalisation. Throws 400/422. */
  #admit(ri: ResourceInfo, obj: KubeObject, opts: WriteOptions): void {
    const name = obj.metadata.name ?? "";
    const causes: StatusCause[] = [];
    causes.push(...(ri.kind === "Namespace" ? validateLabel(name) : validateSubdomain(name)));
    causes.push(...validateMetadataMaps(obj.metadata.labels, obj.metadata.annotations));
    (obj.metadata.ownerReferences ?? []).forEach((ref, i) => {
      for (const f of ["apiVersion", "kind", "name", "uid"] as const)
        if (!ref[f])
          causes.push({
            reason: "FieldValueRequired",
            message: "Required value",
            field: `metadata.ownerReferences[${i}].${f}`,
          });
    });
    const removed = pruneUnknownTopLevel(obj, ri.crd ? undefined : ri.kind);
    const marks = this.#marksFor(ri);
    if (ri.schema) removed.push(...prune(obj, ri.schema, marks));
    if (removed.length && opts.fieldValidation === "Strict")
      throw badRequest(
        `${ri.kind} in version "${ri.version}" cannot be handled as a ${ri.kind}: strict decoding error: ${removed
          .map((f) => `unknown field "${f}"`)
          .join(", ")}`,
      );
    if (removed.length && opts.fieldValidation === "Warn")
      for (const f of removed) opts.warnings?.push(`unknown field "${f}"`);
    if (ri.schema) {
      applyDefaults(obj, ri.schema, marks);
      causes.push(...validate(obj, ri.schema, marks));
    }
    if (ri.kind === "Secret" && isObject(obj.stringData)) {
      // a copy: `data` may be the stored object's (see #patch)
      const data = { ...(isObject(obj.data) ? obj.data : {}) } as Record<string, string>;
      for (const [k, v] of Object.entries(obj.stringData))
        data[k] = Buffer.from(String(v)).toString("base64");
      obj.data = data;
      delete obj.stringData;
    }
    if (ri.kind === "CustomResourceDefinition" && ri.group === "apiextensions.k8s.io")
      causes.push(...validateCrd(obj));
    if (causes.length) throw invalid(ri.kind, ri.group, name, causes);
    if (opts.user) this.checkWriter(opts.user, ri, obj);
  }

  /**
   * Persists a new or changed object: the common tail of every write. `old` is only read; `next` is the
   * caller's own and is taken over. Returns the object as written, shared: to be read, not changed.
   */
  #commit(
    ri: ResourceInfo,
    old: KubeObject | undefined,
    next: KubeObject,
    opts: WriteOptions,
    manager: Manager | null,
  ): KubeObject {
    const name = next.metadata.name ?? "";
    if (old) {
      for (const k of [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
      ] as const) {
        const meta = next.metadata as Record<string, unknown>;
        if (old.metadata[k] !== undefined) meta[k] = old.metadata[k];
        else delete meta[k];
      }
      if (old.metadata.deletionTimestamp) {
        const added = (next.metadata.finalizers ?? []).filter(
          (f) => !(old.metadata.finalizers ?? []).includes(f),
        );
        if (added.length)
          throw invalid(ri.kind, ri.group, name, [
            {
              reason: "FieldValueForbidden",
              message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(", ")}}`,
              field: "metadata.finalizers",
            },
          ]);
      }
      next.metadata.generation = (old.metadata.generation ?? 1) + (specChanged(old, next) ? 1 : 0);
    }
    // empty metadata collections are omitted, as Go's omitempty does
    if (next.metadata.finalizers?.length === 0) delete next.metadata.finalizers;
    if (next.metadata.ownerReferences?.length === 0) delete next.metadata.ownerReferences;
    for (const k of ["labels", "annotations"] as const) {
      const m = next.metadata[k];
      if (m && Object.keys(m).length === 0) delete next.metadata[k];
    }
    if (ri.kind === "CustomResourceDefinition" && ri.group === "apiextensions.k8s.io") crdStatus(next, old);
    if (manager) recordUpdate(old, next, manager, this.typeContext(ri), ri.status);
    if (old && sameObject(old, next)) return old;
    const tooLarge = () => new ApiError("Unknown", "etcdserver: request is too large");
    const key = storageKey(ri);
    const finished = old?.metadata.deletionTimestamp !== undefined && !next.metadata.finalizers?.length;
    if (opts.dryRun || finished) {
      if (Buffer.byteLength(JSON.stringify(next)) > this.maxObjectBytes) throw tooLarge();
      if (opts.dryRun) return next;
      const gone = this.store.remove(key, next) ?? next;
      this.#afterWrite(ri, gone, true);
      return gone;
    }
    // The JSON is made once, with the resourceVersion the store is about to give the object, and serves
    // for the size limit (which counts the object as it was before that, as ever) and for the answer and
    // every watch event.
    const meta = next.metadata as Record<string, unknown>;
    const given = meta.resourceVersion;
    const comma = Object.entries(meta).some(([k, v]) => k !== "resourceVersion" && v !== undefined)
      ? ","
      : "";
    const rv = String(this.store.resourceVersion + 1);
    meta.resourceVersion = rv;
    const json = JSON.stringify(next);
    const bytesBefore =
      Buffer.byteLength(json) -
      (given === undefined
        ? Buffer.byteLength(`${comma}"resourceVersion":${JSON.stringify(rv)}`)
        : Buffer.byteLength(JSON.stringify(rv)) - Buffer.byteLength(JSON.stringify(given)));
    if (bytesBefore > this.maxObjectBytes) {
      if (given === undefined) delete meta.resourceVersion;
      else meta.resourceVersion = given;
      throw tooLarge();
    }
    // known before the store tells the watches
    if (this.#servedAsStored(ri, next)) this.#json.set(next, new Map([[ri, json]]));
    const stored = this.store.put(key, next);
    // only the current version keeps its JSON: watches replay older ones from history only when they resume
    if (old) this.#json.delete(old);
    this.#afterWrite(ri, stored, false);
    return stored;
  }

  #afterWrite(ri: ResourceInfo, obj: KubeObject, deleted: boolean): void {
    if (ri.kind === "CustomResourceDefinition" && ri.group === "apiextensions.k8s.io") {
      if (deleted) {
        const spec = obj.spec as CrdSpec;
        this.registry.removeCrd(obj.metadata.name ?? "");
        this.onResourceRemoved(storageKey({ group: spec.group, plural: spec.names.plural }));
      } else if (!obj.metadata.deletionTimestamp) this.registry.addCrd(obj);
    }
    this.onChange();
  }

  #manager(opts: WriteOptions, ri: ResourceInfo, subresource?: string): Manager {
    return subresource
      ? { name: opts.manager, apiVersion: apiVersionOf(ri), subresource }
      : { name: opts.manager, apiVersion: apiVersionOf(ri) };
  }

  create(
    ri: ResourceInfo,
    namespace: string | undefined,
    body: unknown,
    opts: WriteOptions,
    managedFields?: ManagedFieldsEntry[],
  ): KubeObject {
    return this.#served(ri, this.#create(ri, namespace, body, opts, managedFields));
  }

  /** create() as JSON text. */
  createJson(ri: ResourceInfo, namespace: string | undefined, body: unknown, opts: WriteOptions): string {
    return this.presentedJson(ri, this.#create(ri, namespace, body, opts));
  }

  #create(
    ri: ResourceInfo,
    namespace: string | undefined,
    body: unknown,
    opts: WriteOptions,
    managedFields?: ManagedFieldsEntry[],
  ): KubeObject {
    const checked = this.#checkIdentity(ri, namespace, body);
    const obj = isEventsV1(ri) ? toCoreEvent(checked) : checked;
    this.#checkNamespace(ri, namespace);
    this.#checkCrdTerminating(ri);
    const meta = obj.metadata;
    if (!meta.name) {
      if (!meta.generateName)
        throw invalid(ri.kind, ri.group, "", [
          {
            reason: "FieldValueRequired",
            message: "Required value: name or generateName is required",
            field: "metadata.name",
          },
        ]);
      meta.name = `${meta.generateName}${nameSuffix()}`;
    }
    for (const k of [
      "uid",
      "resourceVersion",
      "deletionTimestamp",
      "deletionGracePeriodSeconds",
      "managedFields",
    ] as const)
      delete meta[k];
    meta.uid = randomUUID();
    meta.creationTimestamp = timestamp();
    meta.generation = 1;
    if (ri.status && ri.kind !== "Node") delete obj.status;
    initBuiltin(ri, obj);
    this.#admit(ri, obj, opts);
    if (this.#peek(ri, namespace, meta.name)) throw alreadyExists(ri, meta.name);
    if (managedFields) {
      meta.managedFields = managedFields;
      return this.#commit(ri, undefined, obj, opts, null);
    }
    return this.#commit(ri, undefined, obj, opts, this.#manager(opts, ri));
  }

  /** PUT: replaces the object, or only its status through the status subresource. */
  update(
    ri: ResourceInfo,
    namespace: string | undefined,
    name: string,
    body: unknown,
    opts: WriteOptions,
    subresource?: string,
  ): KubeObject {
    return this.#served(ri, this.#update(ri, namespace, name, body, opts, subresource));
  }

  /** update() as JSON text. */
  updateJson(
    ri: ResourceInfo,
    namespace: string | undefined,
    name: string,
    body: unknown,
    opts: WriteOptions,
    subresource?: string,
  ): string {
    return this.presentedJson(ri, this.#update(ri, namespace, name, body, opts, subresource));
  }

  #update(
    ri: ResourceInfo,
    namespace: string | undefined,
    name: string,
    body: unknown,
    opts: WriteOptions,
    subresource?: string,
  ): KubeObject {
    const obj = this.#checkIdentity(ri, namespace, body);
    if (obj.metadata.name && obj.metadata.name !== name)
      throw badRequest(
        `the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`,
      );
    obj.metadata.name = name;
    const old = this.#peek(ri, namespace, name);
    if (!old) throw notFound(ri, name);
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && rv !== "" && rv !== old.metadata.resourceVersion)
      throw conflict(ri, name, staleMessage);
    checkUid(ri, name, obj, old);
    return this.#write(ri, old, obj, opts, subresource);
  }

  /**
   * The part of update and patch after the new object is known. `given` is taken over, `old` only read;
   * `shares`: below its top level and metadata, `given` may share maps and lists with `old` (a patch).
   */
  #write(
    ri: ResourceInfo,
    old: KubeObject,
    given: KubeObject,
    opts: WriteOptions,
    subresource?: string,
    shares = false,
  ): KubeObject {
    const obj = isEventsV1(ri) ? toCoreEvent(given) : given;
    let next: KubeObject;
    if (subresource === "status") {
      next = copyExceptStatus(old);
      next.apiVersion = obj.apiVersion;
      if (obj.status === undefined) delete next.status;
      else next.status = obj.status;
    } else {
      next = obj;
      if (ri.status) {
        if (old.status === undefined) delete next.status;
        else next.status = structuredClone(old.status);
      }
      next.metadata.managedFields = old.metadata.managedFields ?? [];
      if (!next.metadata.managedFields.length) delete next.metadata.managedFields;
    }
    if (ri.kind === "Namespace") initBuiltin(ri, next);
    // admission changes maps and lists in place only to prune or default them: if it would, they are copied
    // first, so that the stored object's own stay as they are
    const marks = this.#marksFor(ri);
    if (
      shares &&
      ri.schema &&
      (needsPruning(next, ri.schema, marks, true) || needsDefaults(next, ri.schema, marks))
    )
      next = structuredClone(next);
    this.#admit(ri, next, opts);
    return this.#commit(ri, old, next, opts, this.#manager(opts, ri, subresource));
  }

  patch(
    ri: ResourceInfo,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patch: unknown,
    opts: WriteOptions & { force?: boolean },
    subresource?: string,
  ): KubeObject {
    return this.#served(ri, this.#patch(ri, namespace, name, type, patch, opts, subresource));
  }

  /** patch() as JSON text. */
  patchJson(
    ri: ResourceInfo,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patch: unknown,
    opts: WriteOptions & { force?: boolean },
    subresource?: string,
  ): string {
    return this.presentedJson(ri, this.#patch(ri, namespace, name, type, patch, opts, subresource));
  }

  #patch(
    ri: ResourceInfo,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patch: unknown,
    opts: WriteOptions & { force?: boolean },
    subresource?: string,
  ): KubeObject {
    const old = this.#peek(ri, namespace, name);
    if (type === "apply") return this.#apply(ri, namespace, name, old, patch, opts, subresource);
    if (!old) throw notFound(ri, name);
    // The patch applies to the stored object itself when serving it changes nothing (else to a served
    // copy): the patch functions never change their target, they copy what they change, so the result
    // shares the rest with the stored object, and #write copies before anything would change it.
    const current = this.#servedAsStored(ri, old) ? old : this.present(ri, structuredClone(old));
    let patched: unknown;
    if (type === "merge") patched = mergePatch(current, patch);
    else if (type === "json") patched = jsonPatch(current, patch);
    else {
      if (ri.crd)
        throw new ApiError(
          "UnsupportedMediaType",
          "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
        );
      patched = strategicMergePatch(current, patch);
    }
    if (!isObject(patched)) throw badRequest("the patched object is not an object");
    const obj = patched as KubeObject;
    obj.metadata = isObject(obj.metadata) ? { ...obj.metadata } : {};
    if (obj.metadata.name !== name)
      throw badRequest(
        `the name of the object (${String(obj.metadata.name)}) does not match the name on the URL (${name})`,
      );
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && rv !== old.metadata.resourceVersion) throw conflict(ri, name, staleMessage);
    checkUid(ri, name, obj, old);
    // the patched object's top level and metadata are this request's own, the rest may be the stored one's
    return this.#write(ri, old, this.#checkIdentity(ri, namespace, obj, true), opts, subresource, true);
  }

  #apply(
    ri: ResourceInfo,
    namespace: string | undefined,
    name: string,
    old: KubeObject | undefined,
    patch: unknown,
    opts: WriteOptions & { force?: boolean },
    subresource?: string,
  ): KubeObject {
    if (!isObject(patch)) throw badRequest("error decoding YAML: the applied configuration is not an object");
    const config = patch as unknown as KubeObject;
    if (!config.apiVersion || !config.kind)
      throw badRequest(`invalid object type: ${config.apiVersion ?? ""}, Kind=${config.kind ?? ""}`);
    const configObj = this.#checkIdentity(ri, namespace, config);
    if (configObj.metadata.name && configObj.metadata.name !== name)
      throw badRequest(
        `the name of the object (${configObj.metadata.name}) does not match the name on the URL (${name})`,
      );
    configObj.metadata.name = name;
    delete configObj.metadata.namespace;
    if (ri.namespaced) configObj.metadata.namespace = namespace as string;
    const rv = configObj.metadata.resourceVersion;
    if (rv !== undefined && rv !== old?.metadata.resourceVersion) throw conflict(ri, name, staleMessage);
    delete configObj.metadata.resourceVersion;
    const m = this.#manager(opts, ri, subresource);
    if (!old && subresource) throw notFound(ri, name);
    const current = old ? this.present(ri, structuredClone(old)) : undefined;
    let merged = serverSideApply(current, configObj, m, opts.force ?? false, this.typeContext(ri), ri.status);
    const managedFields = merged.metadata.managedFields ?? [];
    if (!old) return this.#create(ri, namespace, merged, opts, managedFields);
    if (isEventsV1(ri)) merged = toCoreEvent(merged);
    let next: KubeObject;
    if (subresource === "status") {
      next = copyExceptStatus(old);
      if (merged.status === undefined) delete next.status;
      else next.status = merged.status;
    } else {
      next = merged;
      if (ri.status) {
        if (old.status === undefined) delete next.status;
        else next.status = structuredClone(old.status);
      }
    }
    next.metadata.managedFields = managedFields;
    if (!managedFields.length) delete next.metadata.managedFields;
    this.#admit(ri, next, opts);
    return this.#commit(ri, old, next, opts, null);
  }

  delete(ri: ResourceInfo, namespace: string | undefined, name: string, opts: DeleteOptions): DeleteResult {
    const obj = this.getStored(ri, namespace, name);
    if (!obj) throw notFound(ri, name);
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== obj.metadata.uid)
      throw conflict(
        ri,
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`,
      );
    if (pre?.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion)
      throw conflict(
        ri,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`,
      );
    const finalizers = [...(obj.metadata.finalizers ?? [])];
    const policy = opts.propagationPolicy;
    const addFinalizer = (f: string) => {
      if (!finalizers.includes(f)) finalizers.push(f);
    };
    const removeFinalizer = (f: string) => {
      const i = finalizers.indexOf(f);
      if (i >= 0) finalizers.splice(i, 1);
    };
    if (policy === "Foreground") {
      addFinalizer(systemFinalizers.foreground);
      removeFinalizer(systemFinalizers.orphan);
    } else if (policy === "Orphan") {
      addFinalizer(systemFinalizers.orphan);
      removeFinalizer(systemFinalizers.foreground);
    } else if (policy === "Background") {
      removeFinalizer(systemFinalizers.orphan);
      removeFinalizer(systemFinalizers.foreground);
    }
    const grace = podGracePeriod(ri, obj, opts.gracePeriodSeconds);
    const pending = finalizers.length > 0 || (ri.kind === "Namespace" && ri.group === "") || grace > 0;
    if (opts.dryRun) return { code: 200, body: this.present(ri, obj) };
    if (pending) {
      const next = structuredClone(obj);
      if (finalizers.length) next.metadata.finalizers = finalizers;
      else delete next.metadata.finalizers;
      const shorter =
        grace > 0 && grace < (next.metadata.deletionGracePeriodSeconds ?? Number.POSITIVE_INFINITY);
      const bumpGeneration = () => {
        // as the API server's BeforeDelete does when it sets or shortens the deletion
        if (next.metadata.generation) next.metadata.generation++;
      };
      if (shorter) {
        // graceful deletion of a running pod: its node stops it, then deletes it with grace 0
        next.metadata.deletionTimestamp = timestamp(grace * 1000);
        next.metadata.deletionGracePeriodSeconds = grace;
        bumpGeneration();
      } else if (!next.metadata.deletionTimestamp) {
        next.metadata.deletionTimestamp = timestamp();
        next.metadata.deletionGracePeriodSeconds = 0;
        bumpGeneration();
      }
      if (ri.kind === "Namespace" && ri.group === "")
        next.status = { ...(isObject(next.status) ? next.status : {}), phase: "Terminating" };
      if (ri.kind === "CustomResourceDefinition" && ri.group === "apiextensions.k8s.io") crdTerminating(next);
      const stored = deepEqual(next, obj) ? obj : this.store.put(storageKey(ri), next);
      this.onChange();
      return { code: opts.acceptedStatus ? 202 : 200, body: this.#served(ri, stored) };
    }
    const gone = this.store.remove(storageKey(ri), obj) ?? obj;
    this.#afterWrite(ri, gone, true);
    if (ri.crd || returnsDeletedObject.has(storageKey(ri)))
      return { code: 200, body: this.present(ri, gone) };
    return {
      code: 200,
      body: {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Success",
        details: { name, group: ri.group, kind: ri.plural, uid: obj.metadata.uid },
      },
    };
  }

  deleteCollection(
    ri: ResourceInfo,
    namespace: string | undefined,
    list: ListOptions,
    opts: DeleteOptions,
  ): KubeObject {
    const items = (this.list(ri, namespace, list) as unknown as { items: KubeObject[] }).items;
    const deleted: unknown[] = [];
    for (const item of items) {
      try {
        const r = this.delete(ri, item.metadata.namespace, item.metadata.name ?? "", opts);
        deleted.push(isObject(r.body) && r.body.kind === "Status" ? item : r.body);
      } catch (err) {
        if (!(err instanceof ApiError && err.reason === "NotFound")) throw err;
      }
    }
    return {
      apiVersion: apiVersionOf(ri),
      kind: ri.listKind,
      metadata: { resourceVersion: String(this.store.resourceVersion) },
      items: deleted,
    } as unknown as KubeObject;
  }

  /** A write made by the server itself (garbage collector, controllers): an update with a manager name. */
  systemUpdate(ri: ResourceInfo, obj: KubeObject, manager: string): KubeObject {
    const old = this.#peek(ri, obj.metadata.namespace, obj.metadata.name ?? "");
    if (!old) throw notFound(ri, obj.metadata.name ?? "");
    const next = structuredClone(obj);
    const written = this.#commit(
      ri,
      old,
      next,
      { manager, fieldValidation: "Ignore" },
      { name: manager, apiVersion: apiVersionOf(ri) },
    );
    return this.#served(ri, written);
  }
}

/** A uid in a write is a precondition: it must be the stored object's. */
function checkUid(ri: ResourceInfo, name: string, given: KubeObject, old: KubeObject): void {
  const uid = given.metadata.uid;
  if (uid && uid !== old.metadata.uid)
    throw conflict(
      ri,
      name,
      `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${old.metadata.uid}`,
    );
}

/** Everything but metadata and status: what bumps metadata.generation. */
function specChanged(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) => {
    const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
    return rest;
  };
  return !deepEqual(strip(a), strip(b));
}

/** Equal but for apiVersion, metadata.resourceVersion and metadata.managedFields: a write that changes nothing. */
function sameObject(a: KubeObject, b: KubeObject): boolean {
  return (
    equalExcept(a, b, ["apiVersion"], "metadata") &&
    equalExcept(a.metadata, b.metadata, ["resourceVersion", "managedFields"])
  );
}

/** deepEqual of two objects with some top-level keys left out; `nested` is compared by the caller. */
function equalExcept(a: object, b: object, skip: string[], nested?: string): boolean {
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = (o: Record<string, unknown>) => Object.keys(o).filter((k) => !skip.includes(k));
  const ka = keys(ra);
  if (ka.length !== keys(rb).length) return false;
  return ka.every((k) => Object.hasOwn(rb, k) && (k === nested || deepEqual(ra[k], rb[k])));
}

/**
 * A copy of an object to write its status into: the status and metadata.managedFields are shared, not
 * copied (the caller puts new ones in their place), everything else is copied. Keys keep their order.
 */
function copyExceptStatus(obj: KubeObject): KubeObject {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === "status") out[k] = v;
    else if (k === "metadata" && isObject(v)) {
      const meta: Record<string, unknown> = {};
      for (const [mk, mv] of Object.entries(v)) meta[mk] = mk === "managedFields" ? mv : structuredClone(mv);
      out[k] = meta;
    } else out[k] = structuredClone(v);
  }
  return out as unknown as KubeObject;
}

function initBuiltin(ri: ResourceInfo, obj: KubeObject): void {
  if (ri.group !== "") return;
  if (ri.kind === "Namespace") {
    const name = obj.metadata.name ?? "";
    obj.metadata.labels = { ...(obj.metadata.labels ?? {}), "kubernetes.io/metadata.name": name };
    if (!isObject(obj.spec)) obj.spec = { finalizers: ["kubernetes"] };
    if (!isObject(obj.status)) obj.status = { phase: "Active" };
  }
  if (ri.kind === "Pod" && !isObject(obj.status)) obj.status = { phase: "Pending" };
  if (ri.kind === "Secret" && !obj.type) obj.type = "Opaque";
}
