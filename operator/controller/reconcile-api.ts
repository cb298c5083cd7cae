// What reconcile reads (from the informers' caches) and writes (through the API server): few calls, so unit
// tests can fake them in memory.
import type { XdpCounterReport } from "../../api/v1alpha1/index.ts";
import type { KubeClient, KubeObject } from "../../runtime/kube/kube-types.ts";
import {
  configMapsPath,
  daemonSetsPath,
  nodesPath,
  reportsPath,
  xdpCountersPath,
} from "../../runtime/kube/paths.ts";
import type { DaemonSet } from "../daemonset/index.ts";
import { AGENT_NODE_LABEL } from "../daemonset/index.ts";
import type { AgentPod, JsonObject } from "../status/index.ts";

export const FIELD_MANAGER = "xdp-counter-operator";

export type ReconcileReader = {
  getXdpCounter(name: string): KubeObject | undefined;
  listXdpCounters(): KubeObject[];
  /** The agent DaemonSet. */
  getDaemonSet(): KubeObject | undefined;
  /** The agents' ConfigMap of specs. */
  getConfigMap(): KubeObject | undefined;
  listNodes(): KubeObject[];
  /** The agent pods (in the operator's namespace), as the pod cache holds them. */
  listAgentPods(): AgentPod[];
  /** Reports of one XdpCounter (by its label), or of all. */
  listReports(xdpCounter?: string): XdpCounterReport[];
};

/** The agents' ConfigMap as the operator applies it. */
export type SpecsConfigMap = {
  apiVersion: "v1";
  kind: "ConfigMap";
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller: true }[];
  };
  data: Record<string, string>;
};

export type ReconcileWriter = {
  /** JSON merge patch on the XdpCounter itself (finalizers, with a resourceVersion precondition). */
  patchXdpCounter(name: string, patch: JsonObject): Promise<KubeObject>;
  /** JSON merge patch on the status subresource. */
  patchXdpCounterStatus(name: string, patch: JsonObject): Promise<KubeObject>;
  /** Server-side apply of the whole desired DaemonSet (creates it when missing). */
  applyDaemonSet(ds: DaemonSet): Promise<KubeObject>;
  /** Server-side apply of the agents' ConfigMap (creates it when missing). */
  applyConfigMap(cm: SpecsConfigMap): Promise<KubeObject>;
  /** Sets (a value) or removes (null) the agent node label, and nothing else of the Node. */
  labelNode(node: string, value: string | null): Promise<void>;
  /** Deletes a report, only if it is still the one with `uid` when one is given; a missing one is fine. */
  deleteReport(name: string, uid?: string): Promise<void>;
};

export function kubeWriter(client: KubeClient): ReconcileWriter {
  return {
    patchXdpCounter: (name, patch) =>
      client.patch(xdpCountersPath(name), patch, "merge", { fieldManager: FIELD_MANAGER }),
    patchXdpCounterStatus: (name, patch) =>
      client.patch(xdpCountersPath(name, "status"), patch, "merge", { fieldManager: FIELD_MANAGER }),
    applyDaemonSet: (ds) =>
      client.patch(daemonSetsPath(ds.metadata.namespace, ds.metadata.name), ds, "apply", {
        fieldManager: FIELD_MANAGER,
        force: true,
      }),
    applyConfigMap: (cm) =>
      client.patch(configMapsPath(cm.metadata.namespace, cm.metadata.name), cm, "apply", {
        fieldManager: FIELD_MANAGER,
        force: true,
      }),
    labelNode: async (node, value) => {
      await client.patch(nodesPath(node), { metadata: { labels: { [AGENT_NODE_LABEL]: value } } }, "merge", {
        fieldManager: FIELD_MANAGER,
      });
    },
    deleteReport: (name, uid) => client.delete(reportsPath(name), uid ? { preconditions: { uid } } : {}),
  };
}
