// Which resources are served at which group/version: the built-ins plus those registered by CRDs.
import { builtinResources } from "./builtins.ts";
import type { KubeObject, PrinterColumn, ResourceInfo, Schema } from "./types.ts";

export interface GroupVersions {
  group: string;
  versions: string[];
  preferred: string;
}

export class Registry {
  #resources = new Map<string, ResourceInfo>();

  constructor() {
    for (const r of builtinResources()) this.add(r);
  }

  add(r: ResourceInfo): void {
    this.#resources.set(`${r.group}/${r.version}/${r.plural}`, r);
  }

  get(group: string, version: string, plural: string): ResourceInfo | undefined {
    return this.#resources.get(`${group}/${version}/${plural}`);
  }

  all(): ResourceInfo[] {
    return [...this.#resources.values()];
  }

  inGroupVersion(group: string, version: string): ResourceInfo[] {
    return this.all().filter((r) => r.group === group && r.version === version);
  }

  hasGroupVersion(group: string, version: string): boolean {
    return this.all().some((r) => r.group === group && r.version === version);
  }

  /** Groups in a stable order: core first, then built-in groups, then CRD groups in registration order. */
  groups(): GroupVersions[] {
    const byGroup = new Map<string, GroupVersions>();
    for (const r of this.all()) {
      let g = byGroup.get(r.group);
      if (!g) {
        g = { group: r.group, versions: [], preferred: r.version };
        byGroup.set(r.group, g);
      }
      if (!g.versions.includes(r.version)) g.versions.push(r.version);
    }
    for (const g of byGroup.values()) {
      g.versions.sort(compareVersions);
      g.preferred = g.versions[0] ?? g.preferred;
    }
    return [...byGroup.values()];
  }

  /** Finds a resource by group and kind, at the version given or the group's preferred one. */
  byKind(group: string, kind: string, version?: string): ResourceInfo | undefined {
    const candidates = this.all().filter((r) => r.group === group && r.kind === kind);
    if (version) return candidates.find((r) => r.version === version);
    return candidates.sort((a, b) => compareVersions(a.version, b.version))[0];
  }

  /** Any version of a group/plural, the preferred first. */
  byPlural(group: string, plural: string): ResourceInfo | undefined {
    return this.all()
      .filter((r) => r.group === group && r.plural === plural)
      .sort((a, b) => compareVersions(a.version, b.version))[0];
  }

  removeCrd(crdName: string): void {
    for (const [key, r] of this.#resources) if (r.crd === crdName) this.#resources.delete(key);
  }

  /** Registers the served versions of a CRD, replacing what the same CRD registered before. */
  addCrd(crd: KubeObject): ResourceInfo[] {
    const name = crd.metadata.name ?? "";
    this.removeCrd(name);
    const spec = crd.spec as CrdSpec;
    const added: ResourceInfo[] = [];
    for (const v of spec.versions ?? []) {
      if (v.served === false) continue;
      const info: ResourceInfo = {
        group: spec.group,
        version: v.name,
        plural: spec.names.plural,
        singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
        kind: spec.names.kind,
        listKind: spec.names.listKind ?? `${spec.names.kind}List`,
        namespaced: spec.scope !== "Cluster",
        shortNames: spec.names.shortNames ?? [],
        categories: spec.names.categories ?? [],
        status: v.subresources?.status !== undefined,
        printerColumns: v.additionalPrinterColumns ?? [],
        crd: name,
      };
      if (v.schema?.openAPIV3Schema) info.schema = v.schema.openAPIV3Schema;
      this.add(info);
      added.push(info);
    }
    return added;
  }
}

export interface CrdSpec {
  group: string;
  scope: "Namespaced" | "Cluster";
  names: {
    plural: string;
    singular?: string;
    kind: string;
    listKind?: string;
    shortNames?: string[];
    categories?: string[];
  };
  versions: {
    name: string;
    served?: boolean;
    storage?: boolean;
    schema?: { openAPIV3Schema?: Schema };
    subresources?: { status?: object; scale?: object };
    additionalPrinterColumns?: PrinterColumn[];
  }[];
}

/** Kubernetes version priority: GA > beta > alpha, higher numbers first (v1 > v1beta2 > v1beta1 > v1alpha1). */
export function compareVersions(a: string, b: string): number {
  const rank = (v: string): [number, number, number] => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [0, 0, 0];
    const stage = m[2] === undefined ? 3 : m[2] === "beta" ? 2 : 1;
    return [stage, Number(m[1]), Number(m[3] ?? 0)];
  };
  const [sa, ma, na] = rank(a);
  const [sb, mb, nb] = rank(b);
  return sb - sa || mb - ma || nb - na || a.localeCompare(b);
}
