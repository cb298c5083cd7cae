// Observability as users run it: the chart installed with its metrics Services, a real Prometheus scraping the
// local cluster through the jobs the chart's ServiceMonitor describes (Kubernetes discovery against the real
// API server, as a ServiceAccount of its own), evaluating the chart's PrometheusRule. Traffic into both nodes
// shows in Prometheus exactly; every panel of the chart's dashboard returns data; an agent frozen stops being
// scraped and XdpCounterAgentDown fires within its `for:` (shortened through the chart's values), and clears
// when the agent runs again. Needs root; about 3 minutes.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, test } from "node:test";
import { parse } from "yaml";
import { prometheusBinary } from "../../prometheus/binaries.ts";
import { withVariables } from "../../prometheus/dashboard.ts";
import { exampleManifest, exampleName, expectExactCounts, kubectlOk } from "../../scenario/index.ts";
import { type Prometheus, type ServiceMonitor, startPrometheus } from "../prometheus.ts";
import {
  type Cluster,
  chart,
  createReleaseNamespace,
  helmInstall,
  type LocalCluster,
  NAMESPACE,
  podsOf,
  RELEASE,
  startLocalCluster,
  until,
} from "./setup.ts";

let l: LocalCluster;
let c: Cluster;
let prom: Prometheus | undefined;
const name = exampleName();
const nodes = ["node-1", "node-2"] as const;
const sent: Record<(typeof nodes)[number], bigint> = { "node-1": 0n, "node-2": 0n };
const AGENT_JOB = `${RELEASE}-agent-metrics`;
const OPERATOR_JOB = `${RELEASE}-operator-metrics`;
/** The release's values: its metrics Services. */
const installed = ["--set", "metrics.service.enabled=true"];
/** The monitoring objects' values, rendered with the release's. */
const monitoring = [
  ...installed,
  "--set",
  "serviceMonitor.interval=2s",
  "--set",
  "serviceMonitor.scrapeTimeout=1s",
  "--set",
  "prometheusRule.enabled=true",
  "--set",
  "prometheusRule.for.agentDown=10s",
];

/** A template of the chart with the release's values, as helm renders it, one document. */
async function rendered<T>(template: string, extra: string[]): Promise<T> {
  const r = await c.helm([
    "template",
    RELEASE,
    chart,
    "--namespace",
    NAMESPACE,
    "--show-only",
    template,
    ...extra,
  ]);
  assert.equal(r.code, 0, r.stderr);
  return parse(r.stdout) as T;
}

before(
  async () => {
    l = await startLocalCluster(2, (line) => console.log(`# ${line}`));
    c = l.cluster;
    await createReleaseNamespace(c);
    // The ServiceMonitor and PrometheusRule kinds are the Prometheus Operator's, not installed here: the
    // release gets the Services, and this Prometheus takes its jobs and rules from the rendered objects.
    const r = await helmInstall(l, installed);
    assert.equal(r.code, 0, `helm install: ${r.stderr}`);
    const serviceMonitor = await rendered<ServiceMonitor>("templates/servicemonitor.yaml", [
      ...monitoring,
      "--set",
      "serviceMonitor.enabled=true",
    ]);
    const rule = await rendered<{ spec: { groups: unknown[] } }>("templates/prometheusrule.yaml", monitoring);
    prom = await startPrometheus(c, { serviceMonitor, rules: rule.spec.groups, scrapeInterval: "2s" });
    await kubectlOk(c, ["apply", "-f", "-"], exampleManifest({ interfaces: ["eth1"], reportInterval: "1s" }));
    await kubectlOk(c, ["wait", "--for=condition=Ready", `xdpcounter/${name}`, "--timeout=120s"]);
  },
  { timeout: 600_000 },
);

after(async () => {
  await prom?.stop();
  await c?.stop();
});

function p(): Prometheus {
  assert.ok(prom, "Prometheus started");
  return prom;
}

test("Prometheus finds every agent and the operator through the ServiceMonitor's jobs, all up", async () => {
  const agents = await podsOf(c, "agent");
  assert.equal(agents.length, nodes.length);
  const targets = await until(
    "every target up",
    async () => {
      const ts = await p().targets();
      const agentsUp = ts.filter((t) => t.labels.job === AGENT_JOB && t.health === "up");
      const operatorUp = ts.filter((t) => t.labels.job === OPERATOR_JOB && t.health === "up");
      return agentsUp.length === nodes.length && operatorUp.length === 1 ? ts : undefined;
    },
    60_000,
  );
  for (const t of targets.filter((t) => t.labels.job === AGENT_JOB)) {
    assert.equal(t.labels.namespace, NAMESPACE);
    assert.ok(
      agents.some((a) => a.name === t.labels.pod),
      `${t.labels.pod} is an agent pod`,
    );
    assert.match(t.scrapeUrl, /:9731\/metrics$/);
  }
  // what each endpoint serves, as Prometheus scraped it, passes promtool's parser and naming rules
  for (const t of targets.filter((t) => t.labels.job === AGENT_JOB || t.labels.job === OPERATOR_JOB)) {
    const body = await (await fetch(t.scrapeUrl)).text();
    assert.match(body, /^# TYPE xdpcounter_/m, t.scrapeUrl);
    const lint = spawnSync(prometheusBinary("promtool"), ["check", "metrics"], {
      input: body,
      encoding: "utf8",
    });
    assert.equal(`${lint.stdout}${lint.stderr}`.trim(), "", `promtool check metrics on ${t.scrapeUrl}`);
    assert.equal(lint.status, 0);
  }
});

test("traffic into two nodes shows in Prometheus exactly, per node, as the agents counted it", async () => {
  const series = `xdpcounter_packets_total{xdpcounter="${name}", interface="eth1", action="pass"}`;
  sent["node-1"] += BigInt(await c.node("node-1").send(3_000, 128));
  sent["node-2"] += BigInt(await c.node("node-2").send(5_000, 128));
  await expectExactCounts(c, name, sent, { timeoutMs: 60_000 });
  await until(
    "Prometheus' last scrape shows what each node was sent",
    async () => {
      const samples = await p().query(`sum by (node) (${series})`);
      return nodes.every((n) => samples.find((s) => s.metric.node === n)?.value[1] === String(sent[n]));
    },
    30_000,
  );
  // and the packets/s it computes over the burst adds up to it: increase() over a window holding the burst
  const increase = await p().query(`sum(increase(${series}[5m]))`);
  const total = Number(sent["node-1"] + sent["node-2"]);
  const seen = Number(increase[0]?.value[1]);
  assert.ok(seen >= total * 0.9 && seen <= total * 1.5, `increase ${seen} for ${total} sent`);
});

test("every panel of the chart's dashboard returns data", async () => {
  const cm = await rendered<{ data: Record<string, string> }>("templates/dashboard.yaml", [
    "--set",
    "grafanaDashboard.enabled=true",
  ]);
  const dashboard = JSON.parse(cm.data["xdp-counter.json"] ?? "") as {
    panels: { title: string; targets?: { expr: string }[] }[];
  };
  const empty: string[] = [];
  for (const panel of dashboard.panels)
    for (const target of panel.targets ?? []) {
      const expr = withVariables(target.expr, "1m");
      if ((await p().query(expr)).length === 0) empty.push(`${panel.title}: ${expr}`);
    }
  assert.deepEqual(empty, [], "panels without data");
});

test("steady traffic: the dashboard's packets/s by action shows the rate sent, within the scrape's arithmetic", async () => {
  const cm = await rendered<{ data: Record<string, string> }>("templates/dashboard.yaml", [
    "--set",
    "grafanaDashboard.enabled=true",
  ]);
  const dashboard = JSON.parse(cm.data["xdp-counter.json"] ?? "") as {
    panels: { title: string; targets?: { expr: string }[] }[];
  };
  const panel = dashboard.panels.find((x) => x.title === "Packets/s by action")?.targets?.[0]?.expr;
  assert.ok(panel, "the dashboard has its packets/s by action panel");
  const expr = withVariables(panel, "10s");
  // 24 s of traffic, a burst into each node every second
  const began = Date.now();
  let total = 0;
  while (Date.now() - began < 24_000) {
    const tick = Date.now();
    for (const node of nodes) {
      const n = await c.node(node).send(node === "node-1" ? 400 : 800, 128);
      sent[node] += BigInt(n);
      total += n;
    }
    await new Promise((r) => setTimeout(r, Math.max(0, 1_000 - (Date.now() - tick))));
  }
  const ended = Date.now();
  const want = total / ((ended - began) / 1000);
  await expectExactCounts(c, name, sent, { timeoutMs: 60_000 });
  await new Promise((r) => setTimeout(r, 4_000)); // the last scrape after the traffic
  // the panel's value averaged over the traffic's window, but its first 10 s (rate() reaches before it)
  const window = Math.floor((ended - began) / 1000) - 10;
  const [sample] = (await p().query(`avg_over_time((${expr})[${window}s:2s])`, ended / 1000)).filter(
    (x) => x.metric.action === "pass",
  );
  const shown = Number(sample?.value[1]);
  console.log(`# packets/s sent ${want.toFixed(0)}, the dashboard's panel ${shown.toFixed(0)}`);
  assert.ok(Math.abs(shown - want) <= want * 0.2, `the panel shows ${shown} packets/s for ${want} sent`);
});

test("an agent frozen is no longer scraped: XdpCounterAgentDown fires within its for:, and clears", async () => {
  const victim = (await podsOf(c, "agent")).find((a) => a.node === "node-2");
  assert.ok(victim);
  const id = victim.containerId.replace(/^containerd:\/\//, "");
  const pause = await c.execOnNode("node-2", ["ctr", "-n", "k8s.io", "task", "pause", id]);
  assert.equal(pause.code, 0, pause.stderr);
  const frozenAt = performance.now();
  try {
    const alert = await until(
      "XdpCounterAgentDown firing",
      async () =>
        (await p().alerts()).find(
          (a) => a.labels.alertname === "XdpCounterAgentDown" && a.state === "firing",
        ),
      60_000,
    );
    console.log(
      `# XdpCounterAgentDown firing ${((performance.now() - frozenAt) / 1000).toFixed(1)} s after the freeze`,
    );
    assert.equal(alert.labels.job, AGENT_JOB);
    assert.equal(alert.labels.pod, victim.name);
    assert.equal(alert.labels.severity, "warning");
  } finally {
    await c.execOnNode("node-2", ["ctr", "-n", "k8s.io", "task", "resume", id]);
  }
  await until(
    "XdpCounterAgentDown cleared",
    async () => !(await p().alerts()).some((a) => a.labels.alertname === "XdpCounterAgentDown"),
    60_000,
  );
});
