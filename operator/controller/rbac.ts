// The permissions the operator needs, and no more: what the Helm chart's ClusterRole and Role must grant.
// An integration test runs the operator with exactly these (e2e/operator/rbac.test.ts).
import { GROUP, PLURAL, REPORT_PLURAL } from "../../api/v1alpha1/index.ts";
import { EVENTS_NAMESPACE } from "./events.ts";

export type PolicyRule = {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
};

/** Cluster-wide: XdpCounters (cluster-scoped) and Nodes. */
export const OPERATOR_CLUSTER_RULES: readonly PolicyRule[] = [
  // watch and read; patch for the finalizer.
  { apiGroups: [GROUP], resources: [PLURAL], verbs: ["get", "list", "watch", "patch"] },
  { apiGroups: [GROUP], resources: [`${PLURAL}/status`], verbs: ["patch"] },
  // the nodes' reports: read to sum them, delete the stale ones (of an earlier XdpCounter of the same name)
  { apiGroups: [GROUP], resources: [REPORT_PLURAL], verbs: ["get", "list", "watch", "delete"] },
  // patch: the agent placement label only (docs/adr/0021)
  { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch", "patch"] },
];

/**
 * In the operator's namespace: the agent DaemonSet and the agents' ConfigMap (server-side apply creates them),
 * the agent pods (read only: a node's agent is ready when its pod is), the Lease, and its own Deployment (read:
 * it owns the other two).
 */
export const OPERATOR_NAMESPACE_RULES: readonly PolicyRule[] = [
  { apiGroups: ["apps"], resources: ["daemonsets"], verbs: ["get", "list", "watch", "create", "patch"] },
  { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch", "create", "patch"] },
  { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get"] },
  { apiGroups: [""], resources: ["pods"], verbs: ["list", "watch"] },
  { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"] },
];

/** Where the operator writes Events: XdpCounters are cluster-scoped, so their Events go to `default`. */
export const OPERATOR_EVENTS_NAMESPACE = EVENTS_NAMESPACE;

/** In OPERATOR_EVENTS_NAMESPACE only: create an Event, patch its series. */
export const OPERATOR_EVENTS_RULES: readonly PolicyRule[] = [
  { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["create", "patch"] },
];
