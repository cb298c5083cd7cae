// The controllers the server runs itself, as kube-controller-manager and apiextensions would: the garbage
// collector (ownerReferences, foregroundDeletion and orphan finalizers), namespace termination, CRD
// instance cleanup, and the `default` ServiceAccount of every namespace. A sweep runs shortly after each change until nothing is left to do.
import type { Api } from "./api.ts";
import { ApiError } from "./errors.ts";
import { systemFinalizers } from "./finalizers.ts";
import { type KubeObject, type ResourceInfo, storageKey } from "./types.ts";

const gcManager = "generic-garbage-collector";

export class Controllers {
  #api: Api;
  #scheduled = false;
  #stopped = false;

  constructor(api: Api) {
    this.#api = api;
  }

  schedule(): void {
    if (this.#scheduled || this.#stopped) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#stopped) return;
      try {
        for (let i = 0; i < 20 && this.sweep(); i++);
      } catch (err) {
        console.error("apiserver controllers:", err);
      }
    });
  }

  stop(): void {
    this.#stopped = true;
  }

  /** Every stored object with the resource it belongs to. */
  #objects(): { ri: ResourceInfo; obj: KubeObject }[] {
    const out: { ri: ResourceInfo; obj: KubeObject }[] = [];
    for (const key of this.#api.store.keys()) {
      const [group = "", plural = ""] = key.split("/");
      const ri = this.#api.registry.byPlural(group, plural);
      if (!ri) continue;
      for (const obj of this.#api.store.peek(key)) out.push({ ri, obj });
    }
    return out;
  }

  #delete(ri: ResourceInfo, obj: KubeObject, policy?: "Background" | "Foreground"): void {
    try {
      this.#api.delete(ri, obj.metadata.namespace, obj.metadata.name ?? "", {
        ...(policy ? { propagationPolicy: policy } : {}),
        preconditions: { uid: obj.metadata.uid ?? "" },
      });
    } catch (err) {
      if (!(err instanceof ApiError && (err.reason === "NotFound" || err.reason === "Conflict"))) throw err;
    }
  }

  #dropFinalizer(ri: ResourceInfo, obj: KubeObject, finalizer: string): void {
    const next = structuredClone(obj);
    next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    this.#api.systemUpdate(ri, next, gcManager);
  }

  /** The ServiceAccount controller's part: every active namespace has a `default` ServiceAccount. */
  #defaultServiceAccounts(): boolean {
    const sa = this.#api.registry.get("", "v1", "serviceaccounts") as ResourceInfo;
    let changed = false;
    for (const ns of this.#api.store.peek("/namespaces")) {
      const name = ns.metadata.name ?? "";
      if (ns.metadata.deletionTimestamp || this.#api.store.get("/serviceaccounts", name, "default")) continue;
      this.#api.create(
        sa,
        name,
        { metadata: { name: "default" } },
        { manager: "kube-controller-manager", fieldValidation: "Ignore" },
      );
      changed = true;
    }
    return changed;
  }

  /** One pass; returns whether it changed anything. */
  sweep(): boolean {
    let changed = this.#defaultServiceAccounts();
    const all = this.#objects();
    const byUid = new Map(all.map((o) => [o.obj.metadata.uid ?? "", o]));
    const dependentsOf = (uid: string) =>
      all.filter((o) => (o.obj.metadata.ownerReferences ?? []).some((r) => r.uid === uid));

    for (const { ri, obj } of all) {
      // only objects being deleted or with owners concern the collector (changes made during this pass are
      // seen by the next one)
      if (!obj.metadata.deletionTimestamp && !obj.metadata.ownerReferences?.length) continue;
      const current = this.#api.store.get(storageKey(ri), obj.metadata.namespace, obj.metadata.name ?? "");
      if (!current || current.metadata.uid !== obj.metadata.uid) continue;
      const meta = current.metadata;
      if (meta.deletionTimestamp) {
        const finalizers = meta.finalizers ?? [];
        if (finalizers.includes(systemFinalizers.orphan)) {
          for (const dep of dependentsOf(meta.uid ?? "")) {
            const fresh = this.#api.store.get(
              storageKey(dep.ri),
              dep.obj.metadata.namespace,
              dep.obj.metadata.name ?? "",
            );
            if (!fresh) continue;
            const next = fresh;
            next.metadata.ownerReferences = (next.metadata.ownerReferences ?? []).filter(
              (r) => r.uid !== meta.uid,
            );
            if (!next.metadata.ownerReferences.length) delete next.metadata.ownerReferences;
            this.#api.systemUpdate(dep.ri, next, gcManager);
          }
          this.#dropFinalizer(ri, current, systemFinalizers.orphan);
          changed = true;
          continue;
        }
        if (finalizers.includes(systemFinalizers.foreground)) {
          const deps = dependentsOf(meta.uid ?? "");
          for (const dep of deps)
            if (!dep.obj.metadata.deletionTimestamp) this.#delete(dep.ri, dep.obj, "Foreground");
          if (deps.length === 0) this.#dropFinalizer(ri, current, systemFinalizers.foreground);
          if (deps.some((d) => !d.obj.metadata.deletionTimestamp) || deps.length === 0) changed = true;
          continue;
        }
        if (finalizers.includes(systemFinalizers.crdCleanup) && ri.kind === "CustomResourceDefinition") {
          const spec = current.spec as { group: string; names: { plural: string } };
          const crRi = this.#api.registry.byPlural(spec.group, spec.names.plural);
          const instances = crRi ? this.#api.store.list(storageKey(crRi)) : [];
          for (const cr of instances) if (!cr.metadata.deletionTimestamp && crRi) this.#delete(crRi, cr);
          if (instances.length === 0) this.#dropFinalizer(ri, current, systemFinalizers.crdCleanup);
          if (instances.some((c) => !c.metadata.deletionTimestamp) || instances.length === 0) changed = true;
          continue;
        }
        if (ri.kind === "Namespace" && ri.group === "") {
          const contents = all.filter((o) => o.ri.namespaced && o.obj.metadata.namespace === meta.name);
          for (const c of contents) if (!c.obj.metadata.deletionTimestamp) this.#delete(c.ri, c.obj);
          if (contents.length === 0 && !finalizers.length) {
            this.#api.store.remove(storageKey(ri), current);
            changed = true;
          } else if (contents.some((c) => !c.obj.metadata.deletionTimestamp)) changed = true;
        }
        continue;
      }
      // background collection: every owner is gone (or is being deleted in the foreground) → delete
      const refs = meta.ownerReferences ?? [];
      if (refs.length === 0) continue;
      const ownersLeft = refs.filter((r) => {
        const owner = byUid.get(r.uid);
        if (!owner) {
          const [group, version] = r.apiVersion.includes("/") ? r.apiVersion.split("/") : ["", r.apiVersion];
          // an owner of an unknown kind cannot be resolved; keep the dependent, as the real collector does
          return !this.#api.registry.byKind(group ?? "", r.kind, version);
        }
        const still = this.#api.store.get(
          storageKey(owner.ri),
          owner.obj.metadata.namespace,
          owner.obj.metadata.name ?? "",
        );
        return still?.metadata.uid === r.uid;
      });
      if (ownersLeft.length === 0) {
        this.#delete(ri, current);
        changed = true;
      }
    }
    return changed;
  }
}
