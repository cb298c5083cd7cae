// The RBAC objects a new cluster starts with that tests are likely to name: the cluster-admin ClusterRole and
// its binding to system:masters. (The discovery roles are built into the authorizer; the aggregated view, edit
// and admin roles are not provided.)
import type { Api, WriteOptions } from "./api.ts";
import type { ResourceInfo } from "./types.ts";

const bootstrapMeta = (name: string) => ({
  name,
  labels: { "kubernetes.io/bootstrapping": "rbac-defaults" },
  annotations: { "rbac.authorization.kubernetes.io/autoupdate": "true" },
});

export function bootstrapRbac(api: Api, opts: WriteOptions): void {
  const roles = api.registry.get("rbac.authorization.k8s.io", "v1", "clusterroles") as ResourceInfo;
  const bindings = api.registry.get("rbac.authorization.k8s.io", "v1", "clusterrolebindings") as ResourceInfo;
  api.create(
    roles,
    undefined,
    {
      metadata: bootstrapMeta("cluster-admin"),
      rules: [
        { apiGroups: ["*"], resources: ["*"], verbs: ["*"] },
        { nonResourceURLs: ["*"], verbs: ["*"] },
      ],
    },
    opts,
  );
  api.create(
    bindings,
    undefined,
    {
      metadata: bootstrapMeta("cluster-admin"),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "system:masters" }],
    },
    opts,
  );
}
