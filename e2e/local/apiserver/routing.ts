// Which resource or document a request path names: `/api/v1/...` and `/apis/{group}/{version}/...` with
// namespaces, names, the status subresource and the legacy `/watch/` prefix; discovery and OpenAPI paths.
import { apiGroup, apiGroupList, apiResourceList, apiVersions, kubernetesVersion } from "./discovery.ts";
import { openApiV2, openApiV3Document, openApiV3Index } from "./openapi.ts";
import type { Registry } from "./registry.ts";
import type { ResourceInfo } from "./types.ts";

export interface Route {
  kind: "resource";
  ri: ResourceInfo;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
  watch: boolean;
}

export function route(registry: Registry, path: string): Route | undefined {
  const parts = path.split("/").filter((p) => p !== "");
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === "api" && parts.length >= 3) {
    group = "";
    version = parts[1] ?? "";
    rest = parts.slice(2);
  } else if (parts[0] === "apis" && parts.length >= 4) {
    group = parts[1] ?? "";
    version = parts[2] ?? "";
    rest = parts.slice(3);
  } else return undefined;
  let watch = false;
  if (rest[0] === "watch") {
    watch = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length >= 3) {
    const inner = registry.get(group, version, rest[2] ?? "");
    if (inner?.namespaced) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
  }
  const ri = registry.get(group, version, rest[0] ?? "");
  if (!ri || rest.length > 3) return undefined;
  if (ri.namespaced !== (namespace !== undefined) && !(ri.namespaced && rest.length === 1)) return undefined;
  const subresource = rest[2];
  if (subresource !== undefined && !(subresource === "status" && ri.status)) return undefined;
  return { kind: "resource", ri, namespace, name: rest[1], subresource, watch };
}

/** The document a non-resource path names (address: host:port the client reached), or undefined. */
export function nonResource(registry: Registry, path: string, address: string): unknown {
  if (path === "/version") return kubernetesVersion;
  if (path === "/api") return apiVersions(address);
  if (path === "/apis") return apiGroupList(registry);
  if (path === "/openapi/v2") return openApiV2(registry);
  if (path === "/openapi/v3") return openApiV3Index(registry);
  let m = /^\/api\/([^/]+)$/.exec(path);
  if (m) return m[1] === "v1" ? apiResourceList(registry, "", "v1") : undefined;
  m = /^\/apis\/([^/]+)$/.exec(path);
  if (m) return apiGroup(registry, m[1] ?? "");
  m = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
  if (m)
    return registry.hasGroupVersion(m[1] ?? "", m[2] ?? "")
      ? apiResourceList(registry, m[1] ?? "", m[2] ?? "")
      : undefined;
  m = /^\/openapi\/v3\/api\/(v1)$/.exec(path);
  if (m) return openApiV3Document(registry, "", "v1");
  m = /^\/openapi\/v3\/apis\/([^/]+)\/([^/]+)$/.exec(path);
  if (m && registry.hasGroupVersion(m[1] ?? "", m[2] ?? ""))
    return openApiV3Document(registry, m[1] ?? "", m[2] ?? "");
  return undefined;
}
