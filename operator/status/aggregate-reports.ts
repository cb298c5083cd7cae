// What the operator concludes from an XdpCounter's XdpCounterReports (docs/adr/0022): exact cluster totals,
// rates, how many nodes should, do report and do count, a one-line interface summary, the problems to show as
// conditions, which nodes still clean up, and which reports are stale (of an earlier XdpCounter of the same
// name, or of a node that is gone) for the operator to delete.
import {
  addCounters,
  type ClusterRates,
  formatCounters,
  type Totals,
  U64_MAX,
  XDP_ACTIONS,
  type XdpAction,
  type XdpCounter,
  type XdpCounterReport,
  zeroTotals,
} from "../../api/v1alpha1/index.ts";
import { countsOn, type NodeInfo } from "../../api/v1alpha1/node-selection.ts";

export const MAX_INTERFACES_SUMMARY = 256;
export type NodeProblem = { node: string; message: string };
export type InterfaceProblem = { node: string; interface: string; reason: string; message: string };

export type ReportsInfo = {
  nodes: readonly NodeInfo[];
  /** Nodes whose agent pod is Ready and not being deleted. */
  readyAgents: ReadonlySet<string>;
};

export type AggregatedReports = {
  totals: Totals;
  rates: ClusterRates;
  desiredNodes: number;
  reportingNodes: number;
  readyNodes: number;
  interfaces?: string;
  /** Nodes no longer selected whose agent still cleans up (their reports exist), sorted. */
  cleaningNodes: string[];
  /** Selected nodes that are not ready (no Counting report, or no Ready agent pod), sorted. */
  notReadyNodes: string[];
  nodeErrors: NodeProblem[];
  interfaceErrors: InterfaceProblem[];
  /** Names of reports to delete: of another XdpCounter of the same name (uid), or of a node that is gone. */
  staleReports: string[];
};

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function aggregateReports(
  xdpc: XdpCounter,
  reports: readonly XdpCounterReport[],
  info: ReportsInfo,
): AggregatedReports {
  const existing = new Set(info.nodes.map((node) => node.name));
  // A node with a report counts already: it stays selected while its labels match and its NoExecute taints
  // are tolerated (a NoSchedule taint, e.g. NotReady's, never stops counting that has begun).
  const reporting = new Set(
    reports.filter((r) => r.xdpCounter.uid === xdpc.metadata.uid).map((r) => r.nodeName),
  );
  const selected = new Set(
    info.nodes.filter((node) => countsOn(xdpc.spec, node, reporting.has(node.name))).map((node) => node.name),
  );
  const deleting = Boolean(xdpc.metadata.deletionTimestamp);
  const packets = zeroTotals();
  const bytes = zeroTotals();
  const pps = zeroRates();
  const bps = zeroRates();
  const staleReports: string[] = [];
  const cleaningNodes: string[] = [];
  const nodeErrors: NodeProblem[] = [];
  const interfaceErrors: InterfaceProblem[] = [];
  const attached = new Map<string, number>();
  const counting = new Set<string>();
  let reportingNodes = 0;

  for (const report of [...reports].sort((a, b) => byName(a.nodeName, b.nodeName))) {
    const node = report.nodeName;
    if (report.xdpCounter.uid !== xdpc.metadata.uid || !existing.has(node)) {
      staleReports.push(report.metadata.name);
      continue;
    }
    // A node no longer selected counts no more: its agent detaches and then deletes the report. While the
    // XdpCounter is being deleted every report is still its nodes' count.
    if (!deleting && !selected.has(node)) {
      cleaningNodes.push(node);
      continue;
    }
    reportingNodes++;
    addCounters(packets, report.packets);
    addCounters(bytes, report.bytes);
    if (report.phase === "Counting") {
      counting.add(node);
      addRates(pps, report.rates?.packetsPerSecond);
      addRates(bps, report.rates?.bitsPerSecond);
    }
    if (report.phase === "Error")
      nodeErrors.push({ node, message: report.error ?? "the agent reports an error" });
    for (const iface of report.interfaces) {
      if (iface.attached) {
        const why = iface.fallback ? `(${iface.fallback.reason})` : "";
        const key = `${iface.name}/${iface.mode || "unknown"}${why}`;
        attached.set(key, (attached.get(key) ?? 0) + 1);
      }
      if (iface.error || iface.reason) {
        interfaceErrors.push({
          node,
          interface: iface.name,
          reason: iface.reason ?? "InterfaceError",
          message: iface.error ?? iface.reason ?? "",
        });
      }
    }
  }

  const isReady = (node: string) => counting.has(node) && info.readyAgents.has(node);
  const result: AggregatedReports = {
    totals: { packets: formatCounters(saturate(packets)), bytes: formatCounters(saturate(bytes)) },
    rates: {
      packetsPerSecond: roundRates(pps),
      bitsPerSecond: roundRates(bps),
      totalPacketsPerSecond: round(sum(pps)),
      totalBitsPerSecond: round(sum(bps)),
    },
    desiredNodes: selected.size,
    reportingNodes,
    readyNodes: [...selected].filter(isReady).length,
    cleaningNodes: cleaningNodes.sort(byName),
    notReadyNodes: [...selected].filter((node) => !isReady(node)).sort(byName),
    nodeErrors,
    interfaceErrors,
    staleReports: staleReports.sort(byName),
  };
  const summary = summarizeInterfaces(attached);
  if (summary) result.interfaces = summary;
  return result;
}

type Rates = Record<XdpAction, number>;

function zeroRates(): Rates {
  return { aborted: 0, drop: 0, pass: 0, tx: 0, redirect: 0 };
}

function addRates(into: Rates, rates: Partial<Record<XdpAction, number>> | undefined): void {
  for (const action of XDP_ACTIONS) into[action] += rates?.[action] ?? 0;
}

function sum(rates: Rates): number {
  return XDP_ACTIONS.reduce((total, action) => total + rates[action], 0);
}

/** Rates are estimates over an interval: three decimals are more than the measurement holds. */
function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function roundRates(rates: Rates): Rates {
  const out = zeroRates();
  for (const action of XDP_ACTIONS) out[action] = round(rates[action]);
  return out;
}

/** Cluster sums can exceed what one u64 holds only with thousands of nodes near 2^64; they stop there. */
function saturate(totals: ReturnType<typeof zeroTotals>): ReturnType<typeof zeroTotals> {
  for (const action of XDP_ACTIONS) if (totals[action] > U64_MAX) totals[action] = U64_MAX;
  return totals;
}

/**
 * `eth0/native=12, ens5/generic(NativeMtuTooLarge)=3`: most common first, cut to fit the wide column's
 * bound. The reason after a generic mode is why `auto` fell back there.
 */
export function summarizeInterfaces(attached: ReadonlyMap<string, number>): string | undefined {
  const parts = [...attached]
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, count]) => `${key}=${count}`);
  if (parts.length === 0) return undefined;
  let text = "";
  for (let i = 0; i < parts.length; i++) {
    const next = text ? `${text}, ${parts[i]}` : (parts[i] as string);
    const more = parts.length - i - 1;
    const reserve = more > 0 ? `, +${more} more`.length : 0;
    if (next.length + reserve > MAX_INTERFACES_SUMMARY) {
      return text ? `${text}, +${parts.length - i} more` : `+${parts.length} interfaces`;
    }
    text = next;
  }
  return text;
}
