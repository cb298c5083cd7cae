// The Ready and Degraded conditions, from what the operator observed. Reasons are CamelCase words a person
// can act on; lastTransitionTime moves only when a condition's status flips.
import type { Condition, ConditionStatus, ConditionType } from "../../api/v1alpha1/index.ts";
import type { InterfaceProblem, NodeProblem } from "./aggregate-reports.ts";

export const ConditionReason = {
  AllNodesCounting: "AllNodesCounting",
  NodesNotReady: "NodesNotReady",
  NoNodesSelected: "NoNodesSelected",
  DaemonSetMissing: "DaemonSetMissing",
  DaemonSetConflict: "DaemonSetConflict",
  InvalidSpec: "InvalidSpec",
  Deleting: "Deleting",
  ForeignXdpProgram: "ForeignXdpProgram",
  InterfaceErrors: "InterfaceErrors",
  NodeErrors: "NodeErrors",
  NoErrors: "NoErrors",
} as const;
export type ConditionReason = (typeof ConditionReason)[keyof typeof ConditionReason];

export type Observations = {
  /** Why the spec could not be used, when it could not. */
  specError?: string;
  deleting?: boolean;
  daemonSetFound: boolean;
  /** Why the operator cannot take the DaemonSet's name (another owner holds it), when it cannot. */
  daemonSetConflict?: string;
  desiredNodes: number;
  readyNodes: number;
  notReadyNodes: readonly string[];
  nodeErrors: readonly NodeProblem[];
  interfaceErrors: readonly InterfaceProblem[];
};

const MAX_LISTED = 5;

/** `a, b, c, d, e (+3 more)` */
export function listSome(items: readonly string[]): string {
  const shown = items.slice(0, MAX_LISTED).join(", ");
  return items.length > MAX_LISTED ? `${shown} (+${items.length - MAX_LISTED} more)` : shown;
}

type Verdict = { status: ConditionStatus; reason: ConditionReason; message: string };

function ready(o: Observations): Verdict {
  if (o.specError) return { status: "False", reason: "InvalidSpec", message: `Fix the spec: ${o.specError}` };
  if (o.deleting) {
    return {
      status: "False",
      reason: "Deleting",
      message: "The agents are detaching and unpinning before removal.",
    };
  }
  if (o.daemonSetConflict) {
    return { status: "False", reason: "DaemonSetConflict", message: o.daemonSetConflict };
  }
  if (!o.daemonSetFound) {
    return {
      status: "False",
      reason: "DaemonSetMissing",
      message:
        "The agent DaemonSet does not exist; the operator recreates it. Check the operator's logs if this stays.",
    };
  }
  if (o.desiredNodes === 0) {
    return {
      status: "False",
      reason: "NoNodesSelected",
      message:
        "No node matches spec.nodeSelector with the given tolerations; check the labels and taints of the nodes.",
    };
  }
  if (o.readyNodes < o.desiredNodes) {
    return {
      status: "False",
      reason: "NodesNotReady",
      message: `${o.readyNodes} of ${o.desiredNodes} nodes counting; not ready: ${listSome(o.notReadyNodes)}. Check the agent pods on these nodes.`,
    };
  }
  return {
    status: "True",
    reason: "AllNodesCounting",
    message: `All ${o.desiredNodes} selected nodes are counting.`,
  };
}

function degraded(o: Observations): Verdict {
  if (o.specError) return { status: "True", reason: "InvalidSpec", message: `Fix the spec: ${o.specError}` };
  if (o.daemonSetConflict) {
    return { status: "True", reason: "DaemonSetConflict", message: o.daemonSetConflict };
  }
  if (!o.daemonSetFound) {
    return { status: "True", reason: "DaemonSetMissing", message: "The agent DaemonSet does not exist." };
  }
  const where = (problems: readonly InterfaceProblem[]) =>
    listSome(problems.map((p) => `${p.node}/${p.interface}`));
  const foreign = o.interfaceErrors.filter((p) => p.reason === "ForeignXdpProgram");
  if (foreign.length > 0) {
    return {
      status: "True",
      reason: "ForeignXdpProgram",
      message: `Another XDP program is attached and is left alone on ${where(foreign)}; remove it or exclude these interfaces from spec.interfaces.`,
    };
  }
  if (o.interfaceErrors.length > 0) {
    const first = o.interfaceErrors[0] as InterfaceProblem;
    return {
      status: "True",
      reason: "InterfaceErrors",
      message: `Not counting on ${where(o.interfaceErrors)}: ${first.message}`,
    };
  }
  if (o.nodeErrors.length > 0) {
    const first = o.nodeErrors[0] as NodeProblem;
    return {
      status: "True",
      reason: "NodeErrors",
      message: `Agents report errors on ${listSome(o.nodeErrors.map((p) => p.node))}: ${first.message}`,
    };
  }
  return { status: "False", reason: "NoErrors", message: "No agent reports an error." };
}

/** Conditions to write: Ready then Degraded, other condition types in `previous` dropped. */
export function computeConditions(
  previous: readonly Condition[] | undefined,
  observations: Observations,
  generation: number,
  now: Date,
): Condition[] {
  const verdicts: [ConditionType, Verdict][] = [
    ["Ready", ready(observations)],
    ["Degraded", degraded(observations)],
  ];
  // metav1.Time has whole seconds.
  const nowText = new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString().replace(".000Z", "Z");
  return verdicts.map(([type, verdict]) => {
    const before = previous?.find((c) => c.type === type);
    const lastTransitionTime =
      before && before.status === verdict.status ? before.lastTransitionTime : nowText;
    return { type, ...verdict, observedGeneration: generation, lastTransitionTime };
  });
}
