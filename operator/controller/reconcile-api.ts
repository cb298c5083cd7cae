// What reconcile reads (from the informers' caches) and writes (through the API server): few calls, so unit
// tests can fake them in memory.
import type { DaemonSet } from "../daemonset/index.ts";
import type { AgentPod, JsonObject } from "../status/index.ts";
import type { KubeClient, KubeObject } from "./kube-types.ts";
import { daemonSetsPath, xdpCountersPath } from "./resources.ts";

export const FIELD_MANAGER = "xdp-counter-operator";

export type ReconcileReader = {
  getXdpCounter(name: string): KubeObject | undefined;
  getDaemonSet(name: string): KubeObject | undefined;
  listNodes(): KubeObject[];
  /** The pods of an agent DaemonSet (in the operator's namespace), as the pod cache holds them. */
  listAgentPods(daemonSetName: string): AgentPod[];
};

export type ReconcileWriter = {
  /** JSON merge patch on the XdpCounter itself (finalizers, with a resourceVersion precondition). */
  patchXdpCounter(name: string, patch: JsonObject): Promise<KubeObject>;
  /** JSON merge patch on the status subresource. */
  patchXdpCounterStatus(name: string, patch: JsonObject): Promise<KubeObject>;
  /** Server-side apply of the whole desired DaemonSet (creates it when missing). */
  applyDaemonSet(ds: DaemonSet): Promise<KubeObject>;
  /**
   * Deletes a DaemonSet in the operator's namespace, only if it is still the one with `uid` (a precondition:
   * never one someone else created meanwhile under that name); its pods follow by garbage collection.
   */
  deleteDaemonSet(name: string, uid: string): Promise<void>;
};

export function kubeWriter(client: KubeClient, namespace: string): ReconcileWriter {
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
    deleteDaemonSet: (name, uid) =>
      client.delete(daemonSetsPath(namespace, name), {
        propagationPolicy: "Background",
        preconditions: { uid },
      }),
  };
}
