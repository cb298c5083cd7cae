// Clean removal: an XdpCounter keeps the finalizer until no selected node still holds its program or pins.
// Pinned links outlive the agent process, so only an agent in clean mode removes them (docs/adr/0004).
import type { XdpCounter } from "../../api/v1alpha1/index.ts";
import { isTolerated, type NodeInfo } from "../status/node-selection.ts";

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
 * Whether the finalizer can go: every node that ever reported is Clean, or its Node is gone. A node that is
 * no longer selected by labels still gets a clean-mode agent (from the cleanup DaemonSet, while its entry is
 * not Clean, docs/adr/0012), so it is waited for; a node whose taints are not tolerated can run no
 * agent, so waiting would be forever: it is not waited for.
 */
export function canRemoveFinalizer(xdpc: XdpCounter, nodes: readonly NodeInfo[]): FinalizerDecision {
  const runnable = new Set(nodes.filter((node) => isTolerated(xdpc.spec, node)).map((node) => node.name));
  const waitingFor = Object.entries(xdpc.status?.nodes ?? {})
    .filter(([node, entry]) => entry.phase !== "Clean" && runnable.has(node))
    .map(([node]) => node)
    .sort();
  return { removable: waitingFor.length === 0, waitingFor };
}
