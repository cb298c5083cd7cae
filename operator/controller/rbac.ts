// The permissions the operator needs, and no more: what the Helm chart's ClusterRole and Role must grant.
// An integration test runs the operator with exactly these (e2e/operator/rbac.test.ts).
import { GROUP, PLURAL } from "../../api/v1alpha1/index.ts";
import { EVENTS_NAMESPACE } from "./events.ts";

export type PolicyRule = { apiGroups: string[]; resources: string[]; verbs: string[] };

/** Cluster-wide: XdpCounters (cluster-scoped) and Nodes. */
export const OPERATOR_CLUSTER_RULES: readonly PolicyRule[] = [
  // watch and read; patch for the finalizer.
  { apiGroups: [GROUP], resources: [PLURAL], verbs: ["get", "list", "watch", "patch"] },
  { apiGroups: [GROUP], resources: [`${PLURAL}/status`], verbs: ["patch"] },
  // the DaemonSets' ownerReference to their XdpCounter sets blockOwnerDeletion, which the API server's
  // OwnerReferencesPermissionEnforcement admission allows only to those who may update the owner's finalizers
  { apiGroups: [GROUP], resources: [`${PLURAL}/finalizers`], verbs: ["update"] },
  { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] },
];

/**
 * In the operator's namespace: the agent DaemonSets (server-side apply creates them; delete for the cleanup
 * DaemonSet once no node needs it, docs/adr/0012), their pods (read only:
 * a node's agent is ready when its pod is), and the Lease.
 */
export const OPERATOR_NAMESPACE_RULES: readonly PolicyRule[] = [
  {
    apiGroups: ["apps"],
    resources: ["daemonsets"],
    verbs: ["get", "list", "watch", "create", "patch", "delete"],
  },
  { apiGroups: [""], resources: ["pods"], verbs: ["list", "watch"] },
  { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"] },
];

/** Where the operator writes Events: XdpCounters are cluster-scoped, so their Events go to `default`. */
export const OPERATOR_EVENTS_NAMESPACE = EVENTS_NAMESPACE;

/** In OPERATOR_EVENTS_NAMESPACE only: create an Event, patch its series. */
export const OPERATOR_EVENTS_RULES: readonly PolicyRule[] = [
  { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["create", "patch"] },
];
