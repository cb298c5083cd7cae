// The built-in resources this server serves, with their kinds, plurals, short names, scope and subresources.
import type { ResourceInfo } from "./types.ts";

interface Entry {
  verbs?: string[];
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  status?: boolean;
  shortNames?: string[];
  categories?: string[];
}

const entries: Entry[] = [
  {
    group: "",
    version: "v1",
    kind: "Namespace",
    plural: "namespaces",
    namespaced: false,
    status: true,
    shortNames: ["ns"],
  },
  {
    group: "",
    version: "v1",
    kind: "Node",
    plural: "nodes",
    namespaced: false,
    status: true,
    shortNames: ["no"],
  },
  {
    group: "",
    version: "v1",
    kind: "Pod",
    plural: "pods",
    namespaced: true,
    status: true,
    shortNames: ["po"],
    categories: ["all"],
  },
  {
    group: "",
    version: "v1",
    kind: "ServiceAccount",
    plural: "serviceaccounts",
    namespaced: true,
    shortNames: ["sa"],
  },
  { group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true },
  { group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true, shortNames: ["cm"] },
  { group: "", version: "v1", kind: "Event", plural: "events", namespaced: true, shortNames: ["ev"] },
  {
    group: "",
    version: "v1",
    kind: "Service",
    plural: "services",
    namespaced: true,
    status: true,
    shortNames: ["svc"],
    categories: ["all"],
  },
  { group: "", version: "v1", kind: "Endpoints", plural: "endpoints", namespaced: true, shortNames: ["ep"] },
  {
    group: "apps",
    version: "v1",
    kind: "DaemonSet",
    plural: "daemonsets",
    namespaced: true,
    status: true,
    shortNames: ["ds"],
    categories: ["all"],
  },
  {
    group: "apps",
    version: "v1",
    kind: "Deployment",
    plural: "deployments",
    namespaced: true,
    status: true,
    shortNames: ["deploy"],
    categories: ["all"],
  },
  {
    group: "apps",
    version: "v1",
    kind: "ReplicaSet",
    plural: "replicasets",
    namespaced: true,
    status: true,
    shortNames: ["rs"],
    categories: ["all"],
  },
  { group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases", namespaced: true },
  { group: "rbac.authorization.k8s.io", version: "v1", kind: "Role", plural: "roles", namespaced: true },
  {
    group: "rbac.authorization.k8s.io",
    version: "v1",
    kind: "ClusterRole",
    plural: "clusterroles",
    namespaced: false,
  },
  {
    group: "rbac.authorization.k8s.io",
    version: "v1",
    kind: "RoleBinding",
    plural: "rolebindings",
    namespaced: true,
  },
  {
    group: "rbac.authorization.k8s.io",
    version: "v1",
    kind: "ClusterRoleBinding",
    plural: "clusterrolebindings",
    namespaced: false,
  },
  {
    group: "apiextensions.k8s.io",
    version: "v1",
    kind: "CustomResourceDefinition",
    plural: "customresourcedefinitions",
    namespaced: false,
    status: true,
    shortNames: ["crd", "crds"],
    categories: ["api-extensions"],
  },
  {
    group: "events.k8s.io",
    version: "v1",
    kind: "Event",
    plural: "events",
    namespaced: true,
    shortNames: ["ev"],
  },
  {
    group: "authorization.k8s.io",
    version: "v1",
    kind: "SelfSubjectAccessReview",
    plural: "selfsubjectaccessreviews",
    namespaced: false,
    verbs: ["create"],
  },
  {
    group: "authorization.k8s.io",
    version: "v1",
    kind: "SelfSubjectRulesReview",
    plural: "selfsubjectrulesreviews",
    namespaced: false,
    verbs: ["create"],
  },
  {
    group: "authorization.k8s.io",
    version: "v1",
    kind: "SubjectAccessReview",
    plural: "subjectaccessreviews",
    namespaced: false,
    verbs: ["create"],
  },
];

export function builtinResources(): ResourceInfo[] {
  return entries.map((e) => ({
    group: e.group,
    version: e.version,
    kind: e.kind,
    listKind: `${e.kind}List`,
    plural: e.plural,
    singular: e.kind.toLowerCase(),
    namespaced: e.namespaced,
    status: e.status ?? false,
    shortNames: e.shortNames ?? [],
    categories: e.categories ?? [],
    ...(e.verbs ? { verbs: e.verbs } : {}),
    ...(e.group === "events.k8s.io" ? { storage: { group: "", plural: "events" } } : {}),
  }));
}

/** Fields a field selector may name, beyond metadata.name and metadata.namespace, per built-in resource. */
export const extraSelectableFields: Record<string, string[]> = {
  "/pods": [
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
  ],
  "/events": [
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
  ],
  "events.k8s.io/events": [
    "regarding.kind",
    "regarding.namespace",
    "regarding.name",
    "regarding.uid",
    "reason",
    "reportingController",
    "type",
  ],
  "/secrets": ["type"],
  "/namespaces": ["status.phase"],
  "/nodes": ["spec.unschedulable"],
  "apps/replicasets": ["status.replicas"],
};

const objectMetaFields = new Set([
  "name",
  "generateName",
  "namespace",
  "selfLink",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "labels",
  "annotations",
  "ownerReferences",
  "finalizers",
  "managedFields",
]);

const specAndStatus = ["spec", "status"];
/** Top-level fields of the built-in kinds (besides apiVersion, kind, metadata). Deeper fields are not checked. */
const topLevelFields: Record<string, string[]> = {
  Namespace: specAndStatus,
  Node: specAndStatus,
  Pod: specAndStatus,
  Service: specAndStatus,
  DaemonSet: specAndStatus,
  Deployment: specAndStatus,
  ReplicaSet: specAndStatus,
  CustomResourceDefinition: specAndStatus,
  Lease: ["spec"],
  ServiceAccount: ["secrets", "imagePullSecrets", "automountServiceAccountToken"],
  Secret: ["data", "stringData", "type", "immutable"],
  ConfigMap: ["data", "binaryData", "immutable"],
  Event: [
    "involvedObject",
    "reason",
    "message",
    "source",
    "firstTimestamp",
    "lastTimestamp",
    "count",
    "type",
    "eventTime",
    "series",
    "action",
    "related",
    "reportingComponent",
    "reportingInstance",
  ],
  Endpoints: ["subsets"],
  Role: ["rules"],
  ClusterRole: ["rules", "aggregationRule"],
  RoleBinding: ["subjects", "roleRef"],
  ClusterRoleBinding: ["subjects", "roleRef"],
};

/**
 * Drops the fields a typed decoder would not know: unknown metadata fields on every kind, unknown top-level
 * fields on built-in kinds. Returns their paths, for strict field validation.
 */
export function pruneUnknownTopLevel(
  obj: Record<string, unknown>,
  builtinKind: string | undefined,
): string[] {
  const removed: string[] = [];
  const meta = obj.metadata;
  if (meta && typeof meta === "object" && !Array.isArray(meta)) {
    for (const key of Object.keys(meta)) {
      if (!objectMetaFields.has(key)) {
        removed.push(`metadata.${key}`);
        delete (meta as Record<string, unknown>)[key];
      }
    }
  }
  const known = builtinKind ? topLevelFields[builtinKind] : undefined;
  if (known) {
    for (const key of Object.keys(obj)) {
      if (key === "apiVersion" || key === "kind" || key === "metadata" || known.includes(key)) continue;
      removed.push(key);
      delete obj[key];
    }
  }
  return removed;
}
