// The chart's Grafana dashboard as the tests read it: its panels' PromQL with the dashboard's variables
// substituted as Grafana substitutes them with "All" selected.

/** The dashboard's JSON, as far as the tests read it. */
export interface DashboardJson {
  uid: string;
  panels: { type: string; title: string; targets?: { expr: string }[] }[];
  templating: { list: { name: string }[] };
}

/** `expr` as Grafana sends it with every variable at "All" (`.*`) and `$__rate_interval` as given. */
export function withVariables(expr: string, rateInterval: string): string {
  return expr
    .replaceAll("$__rate_interval", rateInterval)
    .replaceAll(/\$(xdpcounter|node|interface|agent_job|operator_job)\b/g, ".*");
}
