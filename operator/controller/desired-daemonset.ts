// The desired DaemonSet with a hash of itself in an annotation, and whether a live DaemonSet matches it.
// Comparing the hash rather than the fields keeps the controller from rewriting a DaemonSet whose fields the
// API server defaulted or normalised (quantities, probe defaults), while any change of what the operator
// renders (an operator setting, the owner, a field removed) changes the hash and is applied.
import { createHash } from "node:crypto";
import type { KubeObject } from "../../runtime/kube/kube-types.ts";
import type { DaemonSet } from "../daemonset/index.ts";

export const DESIRED_HASH_ANNOTATION = "xdpcounter.dev/desired-hash";

export type DesiredDaemonSet = DaemonSet & {
  metadata: DaemonSet["metadata"] & { annotations: Record<string, string> };
};

export function desiredHash(ds: DaemonSet): string {
  return createHash("sha256").update(JSON.stringify(ds)).digest("hex").slice(0, 16);
}

export function withDesiredHash(ds: DaemonSet): DesiredDaemonSet {
  return { ...ds, metadata: { ...ds.metadata, annotations: { [DESIRED_HASH_ANNOTATION]: desiredHash(ds) } } };
}

/** True when `live` carries the desired hash (which covers the owner reference too). */
export function isUpToDate(live: KubeObject, desired: DesiredDaemonSet): boolean {
  return (
    live.metadata.annotations?.[DESIRED_HASH_ANNOTATION] ===
    desired.metadata.annotations[DESIRED_HASH_ANNOTATION]
  );
}
