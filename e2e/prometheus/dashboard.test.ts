// The chart's Grafana dashboard, as `helm template` renders its ConfigMap: valid JSON with the sidecar's label,
// every panel's PromQL (the dashboard's own variables substituted as Grafana would, "All" selected) parsed by
// the real promtool, and every metric it names one that the agents or the operator expose, so a renamed
// metric breaks this test and not the dashboard. That each panel returns data and agrees with the traffic
// sent is for a Prometheus scraping the local cluster.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parse, stringify } from "yaml";
import { zeroCounters } from "../../agent/bpf/index.ts";
import { renderMetrics } from "../../agent/cluster/metrics.ts";
import { createMetrics } from "../../operator/controller/metrics.ts";
import { ensureTools } from "../local/tools.ts";
import { prometheusBinary } from "./binaries.ts";
import { type DashboardJson, withVariables } from "./dashboard.ts";

const chart = join(import.meta.dirname, "..", "..", "charts", "xdp-counter");
const dir = mkdtempSync(join(tmpdir(), "xdp-counter-dashboard-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function dashboard(): { labels: Record<string, string>; json: DashboardJson } {
  const r = spawnSync(
    ensureTools().helm,
    [
      "template",
      "xdp-counter",
      chart,
      "--set",
      "grafanaDashboard.enabled=true",
      "--show-only",
      "templates/dashboard.yaml",
    ],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  const cm = parse(r.stdout) as {
    metadata: { labels: Record<string, string> };
    data: Record<string, string>;
  };
  return { labels: cm.metadata.labels, json: JSON.parse(cm.data["xdp-counter.json"] ?? "") as DashboardJson };
}

/** The metric names the product exposes: the agent's families and the operator's registry, and `up`. */
async function exposed(): Promise<Set<string>> {
  const agent = renderMetrics({
    node: "n",
    ready: true,
    units: [
      {
        xdpCounter: "x",
        states: [
          { name: "eth0", attached: true, mode: "native", counters: zeroCounters(), problem: undefined },
        ],
        health: {
          reportsTotal: 0,
          reportErrorsTotal: 0,
          lastReportSeconds: 0,
          reconcileErrorsTotal: 0,
          ready: true,
        },
      },
    ],
  });
  const operator = await createMetrics().registry.metrics();
  const names = new Set(["up"]);
  for (const text of [agent, operator])
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      names.add(m[1] as string);
      if (m[2] === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(`${m[1]}${s}`);
    }
  return names;
}

test("the dashboard's ConfigMap is off by default, and carries the Grafana sidecar's label when on", () => {
  const off = spawnSync(ensureTools().helm, ["template", "xdp-counter", chart], { encoding: "utf8" });
  assert.equal(off.status, 0, off.stderr);
  assert.ok(!off.stdout.includes("grafana_dashboard"));
  const { labels, json } = dashboard();
  assert.equal(labels.grafana_dashboard, "1");
  assert.equal(json.uid, "xdp-counter");
  assert.deepEqual(
    json.panels.filter((p) => p.type === "row").map((p) => p.title),
    ["Traffic", "Top talkers", "Drops and errors", "Agents", "Operator"],
  );
});

test("every panel's PromQL parses in promtool and names only metrics the agents and the operator expose", async () => {
  const { json } = dashboard();
  const exprs = json.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
  assert.ok(exprs.length >= 18, `${exprs.length} expressions`);
  const names = await exposed();
  for (const { panel, expr } of exprs) {
    const metrics = [...withVariables(expr, "1m").matchAll(/\b([a-z_]+)\s*\{/g)].map((m) => m[1] as string);
    assert.ok(metrics.length > 0, `${panel}: ${expr} names a metric`);
    for (const metric of metrics) assert.ok(names.has(metric), `${panel}: ${metric} is not exposed`);
  }
  // promtool parses each expression as the rule engine would: as a recording rule
  const rules = {
    groups: [
      {
        name: "dashboard",
        rules: exprs.map((e, i) => ({ record: `dashboard:panel_${i}`, expr: withVariables(e.expr, "1m") })),
      },
    ],
  };
  writeFileSync(join(dir, "dashboard-rules.yaml"), stringify(rules));
  const r = spawnSync(prometheusBinary("promtool"), ["check", "rules", join(dir, "dashboard-rules.yaml")], {
    encoding: "utf8",
  });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, new RegExp(`SUCCESS: ${exprs.length} rules found`));
});
