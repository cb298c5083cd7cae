// The Prometheus text exposition (version 0.0.4), written by hand: prom-client holds values as float64, which
// rounds a u64 above 2^53; here counters are printed from bigint, exactly. (Prometheus itself stores
// float64, so precision above 2^53 ends at ingestion; the exposition does not add its own rounding.)
import { XDP_ACTIONS } from "../../api/v1alpha1/index.ts";
import type { InterfaceState } from "./reconciler.ts";

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export interface AgentHealth {
  reportsTotal: number;
  reportErrorsTotal: number;
  /** seconds since the epoch of the last successful report, 0 before the first */
  lastReportSeconds: number;
  reconcileErrorsTotal: number;
  ready: boolean;
}

const escapeLabel = (value: string): string =>
  value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

const labels = (pairs: Record<string, string>): string =>
  `{${Object.entries(pairs)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(",")}}`;

export function emptyHealth(): AgentHealth {
  return {
    reportsTotal: 0,
    reportErrorsTotal: 0,
    lastReportSeconds: 0,
    reconcileErrorsTotal: 0,
    ready: false,
  };
}

/** One XdpCounter's part of the node's metrics. */
export interface UnitMetrics {
  xdpCounter: string;
  states: readonly InterfaceState[];
  health: AgentHealth;
}

/** The node agent's metrics: each XdpCounter's counters and health, labelled with it, and the agent's own. */
export function renderMetrics(opts: { node: string; units: readonly UnitMetrics[]; ready: boolean }): string {
  const lines: string[] = [];
  const family = (name: string, type: "counter" | "gauge", help: string): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  };
  for (const [metric, field, help] of [
    [
      "xdpcounter_packets_total",
      "packets",
      "Packets seen by the XDP counter on an interface, by XDP action.",
    ],
    [
      "xdpcounter_bytes_total",
      "bytes",
      "Bytes of packets seen by the XDP counter on an interface, by XDP action.",
    ],
  ] as const) {
    family(metric, "counter", help);
    for (const unit of opts.units) {
      for (const s of unit.states) {
        if (!s.counters) continue;
        for (const action of XDP_ACTIONS) {
          const l = labels({ xdpcounter: unit.xdpCounter, node: opts.node, interface: s.name, action });
          lines.push(`${metric}${l} ${s.counters[action][field].toString()}`);
        }
      }
    }
  }
  family(
    "xdpcounter_interface_info",
    "gauge",
    "1 for each interface an XdpCounter selects on this node: state counting or failing, the reason it fails " +
      "(as in the node's XdpCounterReport), and the XDP attach mode (native, generic; empty when not attached).",
  );
  for (const unit of opts.units) {
    for (const s of unit.states) {
      const counting = s.attached && !s.problem;
      const l = labels({
        xdpcounter: unit.xdpCounter,
        node: opts.node,
        interface: s.name,
        state: counting ? "counting" : "failing",
        reason: s.problem?.reason ?? "",
        mode: s.attached ? s.mode : "",
      });
      lines.push(`xdpcounter_interface_info${l} 1`);
    }
  }
  const perUnit = (
    name: string,
    type: "counter" | "gauge",
    help: string,
    value: (unit: UnitMetrics) => number,
  ): void => {
    family(name, type, help);
    for (const unit of opts.units)
      lines.push(`${name}${labels({ xdpcounter: unit.xdpCounter, node: opts.node })} ${value(unit)}`);
  };
  perUnit(
    "xdpcounter_interfaces_attached",
    "gauge",
    "Interfaces the counter is attached to on this node.",
    (u) => u.states.filter((s) => s.attached && !s.problem).length,
  );
  perUnit(
    "xdpcounter_interfaces_failing",
    "gauge",
    "Selected interfaces the counter cannot count on (see the node's XdpCounterReport for why).",
    (u) => u.states.filter((s) => s.problem).length,
  );
  perUnit("xdpcounter_agent_reports_total", "counter", "Reports written.", (u) => u.health.reportsTotal);
  perUnit(
    "xdpcounter_agent_report_errors_total",
    "counter",
    "Report writes that failed (API errors, outages).",
    (u) => u.health.reportErrorsTotal,
  );
  perUnit(
    "xdpcounter_agent_last_report_timestamp_seconds",
    "gauge",
    "When the last report succeeded, in seconds since the epoch; 0 before the first.",
    (u) => u.health.lastReportSeconds,
  );
  perUnit(
    "xdpcounter_agent_reconcile_errors_total",
    "counter",
    "Interface reconciles that failed.",
    (u) => u.health.reconcileErrorsTotal,
  );
  family("xdpcounter_agent_ready", "gauge", "1 once the agent's XdpCounters are attached where they can be.");
  lines.push(`xdpcounter_agent_ready${labels({ node: opts.node })} ${opts.ready ? 1 : 0}`);
  return `${lines.join("\n")}\n`;
}
