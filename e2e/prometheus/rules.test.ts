// The chart's PrometheusRule, as `helm template` renders it, checked by the real promtool: `promtool check
// rules` on its groups, then `promtool test rules` with alerts.promtool.yaml, which shows each alert firing
// after its `for:` and not before, with its labels and annotations. A rule that does not parse, or an alert
// that fires early, late, with other labels or another text, fails the test.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parse, stringify } from "yaml";
import { ensureTools } from "../local/tools.ts";
import { prometheusBinary } from "./binaries.ts";

const repo = join(import.meta.dirname, "..", "..");
const chart = join(repo, "charts", "xdp-counter");
const dir = mkdtempSync(join(tmpdir(), "xdp-counter-rules-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: string[]): { code: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd: dir });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

function render(extra: string[] = []): { kind: string; spec: { groups: unknown[] } } | undefined {
  const r = run(ensureTools().helm, [
    "template",
    "xdp-counter",
    chart,
    "--show-only",
    "templates/prometheusrule.yaml",
    ...extra,
  ]);
  if (r.code !== 0) return undefined;
  return parse(r.out) as { kind: string; spec: { groups: unknown[] } };
}

test("the PrometheusRule is off by default", () => {
  const r = run(ensureTools().helm, ["template", "xdp-counter", chart]);
  assert.equal(r.code, 0, r.out);
  assert.ok(!r.out.includes("kind: PrometheusRule"));
});

test("its rules pass promtool check rules, and every alert fires as alerts.promtool.yaml says", () => {
  const rule = render([
    "--set",
    "prometheusRule.enabled=true",
    "--set",
    "prometheusRule.additionalLabels.team=network",
  ]);
  assert.equal(rule?.kind, "PrometheusRule");
  writeFileSync(join(dir, "rules.yaml"), stringify({ groups: rule.spec.groups }));
  copyFileSync(join(import.meta.dirname, "alerts.promtool.yaml"), join(dir, "alerts.promtool.yaml"));
  const promtool = prometheusBinary("promtool");
  const check = run(promtool, ["check", "rules", "rules.yaml"]);
  assert.equal(check.code, 0, check.out);
  assert.match(check.out, /SUCCESS: 8 rules found/);
  const tested = run(promtool, ["test", "rules", "alerts.promtool.yaml"]);
  assert.equal(tested.code, 0, tested.out);
  assert.match(tested.out, /SUCCESS/);
});

test("the alerts' for: and the scrape jobs follow the values", () => {
  const rule = render([
    "--set",
    "prometheusRule.enabled=true",
    "--set",
    "prometheusRule.for.agentDown=2m",
    "--set",
    "prometheusRule.agentJob=node-agents",
  ]);
  assert.ok(rule, "rendered");
  const rules = (rule.spec.groups as { rules: { alert: string; expr: string; for?: string }[] }[]).flatMap(
    (g) => g.rules,
  );
  const down = rules.find((r) => r.alert === "XdpCounterAgentDown");
  assert.equal(down?.for, "2m");
  assert.equal(down?.expr, 'up{job="node-agents"} == 0');
  const operatorDown = rules.find((r) => r.alert === "XdpCounterOperatorDown");
  assert.equal(operatorDown?.expr, 'absent(up{job="xdp-counter-operator-metrics"} == 1)');
});

test("a for: that is not a duration is refused by the chart's schema, naming it", () => {
  const r = run(ensureTools().helm, [
    "template",
    "xdp-counter",
    chart,
    "--set",
    "prometheusRule.enabled=true",
    "--set",
    "prometheusRule.for.notCounting=ten minutes",
  ]);
  assert.notEqual(r.code, 0);
  assert.match(r.out, /prometheusRule\.for\.notCounting|notCounting/);
});
