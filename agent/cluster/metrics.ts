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

export function renderMetrics(opts: {
  xdpCounter: string;
  node: string;
  states: readonly InterfaceState[];
  health: AgentHealth;
}): string {
  const lines: string[] = [];
  const base = { xdpcounter: opts.xdpCounter, node: opts.node };
  for (const [metric, field, help] of [
    [
      "xdp_counter_packets_total",
      "packets",
      "Packets seen by the XDP counter on an interface, by XDP action.",
    ],
    [
      "xdp_counter_bytes_total",
      "bytes",
      "Bytes of packets seen by the XDP counter on an interface, by XDP action.",
    ],
  ] as const) {
    lines.push(`# HELP ${metric} ${help}`, `# TYPE ${metric} counter`);
    for (const s of opts.states) {
      if (!s.counters) continue;
      for (const action of XDP_ACTIONS) {
        const value = s.counters[action][field];
        lines.push(`${metric}${labels({ ...base, interface: s.name, action })} ${value.toString()}`);
      }
    }
  }
  const h = opts.health;
  const gauge = (name: string, type: "counter" | "gauge", help: string, value: number): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name}${labels(base)} ${value}`);
  };
  gauge(
    "xdp_counter_interfaces_attached",
    "gauge",
    "Interfaces the counter is attached to on this node.",
    opts.states.filter((s) => s.attached && !s.problem).length,
  );
  gauge(
    "xdp_counter_interfaces_failing",
    "gauge",
    "Selected interfaces the counter cannot count on (see the XdpCounter's status for why).",
    opts.states.filter((s) => s.problem).length,
  );
  gauge("xdp_counter_agent_reports_total", "counter", "Status reports written.", h.reportsTotal);
  gauge(
    "xdp_counter_agent_report_errors_total",
    "counter",
    "Status reports that failed (API errors, outages).",
    h.reportErrorsTotal,
  );
  gauge(
    "xdp_counter_agent_last_report_timestamp_seconds",
    "gauge",
    "When the last status report succeeded, in seconds since the epoch; 0 before the first.",
    h.lastReportSeconds,
  );
  gauge(
    "xdp_counter_agent_reconcile_errors_total",
    "counter",
    "Interface listings or reconciles that failed.",
    h.reconcileErrorsTotal,
  );
  gauge("xdp_counter_agent_ready", "gauge", "1 once the agent's interfaces are attached.", h.ready ? 1 : 0);
  return `${lines.join("\n")}\n`;
}
