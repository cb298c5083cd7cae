// Clean removal: an XdpCounter keeps the finalizer until no node still holds its program or pins. Pinned links
// outlive the agent process, so only an agent removes them; it deletes its node's report once it has, so the
// reports left are the nodes still to clean (docs/adr/0022).
import type { XdpCounter } from "../../api/v1alpha1/index.ts";

export const FINALIZER = "xdpcounter.dev/cleanup";

export function hasFinalizer(xdpc: Pick<XdpCounter, "metadata">): boolean {
  return xdpc.metadata.finalizers?.includes(FINALIZER) ?? false;
}

/** The finalizers with ours added (once). */
export function withFinalizer(finalizers: readonly string[] | undefined): string[] {
  const list = [...(finalizers ?? [])];
  return list.includes(FINALIZER) ? list : [...list, FINALIZER];
}

/** The finalizers with ours removed, others kept in order. */
export function withoutFinalizer(finalizers: readonly string[] | undefined): string[] {
  return (finalizers ?? []).filter((f) => f !== FINALIZER);
}

export type FinalizerDecision = { removable: boolean; waitingFor: string[] };

/**
 * Whether the finalizer can go: no report of the XdpCounter is left on a node that exists (the reports of a
 * deleted Node go with it; stale ones, of an earlier XdpCounter of the same name, do not count).
 */
export function canRemoveFinalizer(reportingNodes: readonly string[]): FinalizerDecision {
  const waitingFor = [...new Set(reportingNodes)].sort();
  return { removable: waitingFor.length === 0, waitingFor };
}
