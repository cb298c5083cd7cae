// The desired DaemonSet with a hash of itself in an annotation, and whether a live DaemonSet matches it.
// Comparing the hash rather than the fields keeps the controller from rewriting a DaemonSet whose fields the
// API server defaulted or normalised (quantities, probe defaults), while any change of what the operator
// renders (a spec change, clean mode, an operator setting, a field removed) changes the hash and is applied.
import { createHash } from "node:crypto";
import type { DaemonSet } from "../daemonset/index.ts";
import type { KubeObject } from "./kube-types.ts";

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

/** True when `live` carries the desired hash and is owned by the same XdpCounter (uid). */
export function isUpToDate(live: KubeObject, desired: DesiredDaemonSet): boolean {
  if (
    live.metadata.annotations?.[DESIRED_HASH_ANNOTATION] !==
    desired.metadata.annotations[DESIRED_HASH_ANNOTATION]
  )
    return false;
  const owner = desired.metadata.ownerReferences[0];
  return (
    live.metadata.ownerReferences?.some((ref) => ref.uid === owner?.uid && ref.controller === true) ?? false
  );
}
