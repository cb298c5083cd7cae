// Discovery documents: /version, /api, /apis, /apis/{group}, /api/v1 and /apis/{group}/{version}.
import type { Registry } from "./registry.ts";
import { apiVersionOf } from "./types.ts";

export const kubernetesVersion = {
  major: "1",
  minor: "34",
  gitVersion: "v1.34.0",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2025-08-27T00:00:00Z",
  goVersion: "go1.24.6",
  compiler: "gc",
  platform: "linux/amd64",
};

const allVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

export function apiVersions(serverAddress: string): object {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

function groupEntry(g: { group: string; versions: string[]; preferred: string }): object {
  return {
    name: g.group,
    versions: g.versions.map((v) => ({ groupVersion: `${g.group}/${v}`, version: v })),
    preferredVersion: { groupVersion: `${g.group}/${g.preferred}`, version: g.preferred },
  };
}

export function apiGroupList(registry: Registry): object {
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: registry
      .groups()
      .filter((g) => g.group !== "")
      .map(groupEntry),
  };
}

export function apiGroup(registry: Registry, group: string): object | undefined {
  const g = registry.groups().find((x) => x.group === group);
  return g ? { kind: "APIGroup", apiVersion: "v1", ...groupEntry(g) } : undefined;
}

export function apiResourceList(registry: Registry, group: string, version: string): object {
  const resources: object[] = [];
  for (const r of registry.inGroupVersion(group, version).sort((a, b) => a.plural.localeCompare(b.plural))) {
    resources.push({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs ?? allVerbs,
      ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
      ...(r.categories.length ? { categories: r.categories } : {}),
    });
    if (r.status)
      resources.push({
        name: `${r.plural}/status`,
        singularName: "",
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: ["get", "patch", "update"],
      });
  }
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: apiVersionOf({ group, version }),
    resources,
  };
}

export const aggregatedDiscoveryType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/** Whether the client asks for aggregated discovery (apidiscovery.k8s.io/v2) before the plain documents. */
export function wantsAggregated(accept: string): boolean {
  const first = accept.split(",")[0] ?? "";
  return (
    /as=APIGroupDiscoveryList/.test(first) && /v=v2(;|$)/.test(first) && /g=apidiscovery\.k8s\.io/.test(first)
  );
}

/** The aggregated discovery document of /api (core group only) or /apis (all other groups). */
export function aggregatedDiscovery(registry: Registry, core: boolean): object {
  const items = registry
    .groups()
    .filter((g) => (g.group === "") === core)
    .map((g) => ({
      metadata: core ? {} : { name: g.group },
      versions: g.versions.map((v) => ({
        version: v,
        freshness: "Current",
        resources: registry
          .inGroupVersion(g.group, v)
          .sort((a, b) => a.plural.localeCompare(b.plural))
          .map((r) => {
            const responseKind = { group: r.group, version: r.version, kind: r.kind };
            return {
              resource: r.plural,
              responseKind,
              scope: r.namespaced ? "Namespaced" : "Cluster",
              singularResource: r.singular,
              verbs: r.verbs ?? allVerbs,
              ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
              ...(r.categories.length ? { categories: r.categories } : {}),
              ...(r.status
                ? {
                    subresources: [
                      { subresource: "status", responseKind, verbs: ["get", "patch", "update"] },
                    ],
                  }
                : {}),
            };
          }),
      })),
    }));
  return { kind: "APIGroupDiscoveryList", apiVersion: "apidiscovery.k8s.io/v2", metadata: {}, items };
}
