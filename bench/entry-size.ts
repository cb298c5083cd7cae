// The sizes the control plane stores since per-node reports (docs/adr/0022): one XdpCounterReport as an agent
// writes it (1 and 2 actions, 1 to 64 interfaces) and as kube-apiserver and etcd store it (e2e/local/controlplane,
// the API server alone; managedFields included), and the XdpCounter's status, which no longer grows with the
// nodes: the operator's own aggregate (operator/status aggregateReports, computeConditions, toOperatorStatus) of
// 3 and of 5,000 synthetic reports, its JSON, its merge patch (the first write and one write of an interval
// later), and one such status stored on the real API server.
// Node names and counters are bench/scale.ts's: a long cloud node name, 12- to 15-digit pass counters, and, for
// two actions, drop counters beside them.
//   node bench/entry-size.ts        prints the tables
import type { InterfaceState } from "../agent/cluster/reconciler.ts";
import { buildReport, interfaceTotals, RateMeter, reportObject } from "../agent/cluster/report.ts";
import {
  CRD_PATH,
  REPORT_CRD_PATH,
  XDP_ACTIONS,
  type XdpCounterReport,
  xdpCounterReport,
} from "../api/v1alpha1/index.ts";
import { startControlPlane } from "../e2e/local/controlplane/index.ts";
import {
  aggregateReports,
  computeConditions,
  type OperatorStatus,
  statusPatch,
  toOperatorStatus,
} from "../operator/status/index.ts";
import { makeXdpCounter } from "../testing/operator.ts";
import { ETCD_LIMIT_BYTES, nodeName } from "./scale.ts";

export type ReportCounters = "pass" | "pass and drop";
export interface ReportSize {
  counters: ReportCounters;
  interfaces: number;
  /** the JSON body of the agent's server-side apply */
  bodyBytes: number;
  /** the report as the API server returns it (metadata and managedFields included) */
  storedBytes: number;
}
export type StatusCase = "every node counting" | "every node in error";
export interface StatusSize {
  reports: number;
  case: StatusCase;
  /** the operator's status, JSON */
  statusBytes: number;
  /** its first write (a merge patch of the whole status) and a write one interval later (totals and rates moved) */
  firstPatchBytes: number;
  nextPatchBytes: number;
  /** the XdpCounter as the API server returns it, with that status */
  storedBytes: number;
}
export interface Sizes {
  reports: ReportSize[];
  status: StatusSize[];
}

const NOW = new Date("2026-12-03T03:02:41.861Z");
const INTERVAL_MS = 10_000;
const PPS = 1_000n;

/** Node i's interfaces, with bench/scale.ts's counters, `t` seconds after the first reading. */
function states(i: number, interfaces: number, counters: ReportCounters, t = 0): InterfaceState[] {
  return Array.from({ length: interfaces }, (_, k) => {
    const p = 100_000_000_000n + BigInt(i * 64 + k) * 7_919_113n + BigInt(t) * PPS;
    const c = Object.fromEntries(XDP_ACTIONS.map((a) => [a, { packets: 0n, bytes: 0n }])) as NonNullable<
      InterfaceState["counters"]
    >;
    c.pass = { packets: p, bytes: p * 742n };
    if (counters === "pass and drop") c.drop = { packets: p / 1000n, bytes: (p / 1000n) * 60n };
    return { name: `eth${k}`, attached: true, mode: "native", counters: c, problem: undefined };
  });
}

/** A report as the agent writes it after its first interval (rates included). */
function report(o: {
  xdpc: { name: string; uid: string; generation: number };
  node: number;
  nodeUid: string;
  interfaces: number;
  counters: ReportCounters;
  /** seconds since the first reading */
  t: number;
  error?: string;
}) {
  const meter = new RateMeter();
  const before = states(o.node, o.interfaces, o.counters, o.t - INTERVAL_MS / 1000);
  meter.sample(interfaceTotals(before), NOW.getTime() + (o.t * 1000 - INTERVAL_MS));
  const now = states(o.node, o.interfaces, o.counters, o.t);
  const body = buildReport({
    xdpCounter: o.xdpc,
    nodeName: nodeName(o.node),
    states: o.error ? [] : now,
    now: new Date(NOW.getTime() + o.t * 1000),
    rates: meter.sample(interfaceTotals(now), NOW.getTime() + o.t * 1000),
    nodeProblem: o.error,
  });
  return reportObject(body, { name: nodeName(o.node), uid: o.nodeUid });
}

/** The operator's status of an XdpCounter from `n` reports, `t` seconds into counting. */
function operatorStatus(n: number, c: StatusCase, t: number, previous?: OperatorStatus) {
  const xdpc = makeXdpCounter("edge", { interfaces: ["eth0"], reportInterval: "10s" });
  const meta = { name: xdpc.metadata.name, uid: xdpc.metadata.uid ?? "", generation: 2 };
  const reports: XdpCounterReport[] = Array.from({ length: n }, (_, i) =>
    xdpCounterReport.parse(
      report({
        xdpc: meta,
        node: i + 1,
        nodeUid: `node-uid-${i + 1}`,
        interfaces: 1,
        counters: "pass and drop",
        t,
        ...(c === "every node in error"
          ? { error: `cannot attach to eth0: ${"the driver refused the program; ".repeat(30)}` }
          : {}),
      }),
    ),
  );
  const names = reports.map((r) => r.nodeName);
  const aggregate = aggregateReports(xdpc, reports, {
    nodes: names.map((name) => ({ name })),
    readyAgents: new Set(names),
  });
  const conditions = computeConditions(
    previous?.conditions,
    {
      daemonSetFound: true,
      desiredNodes: aggregate.desiredNodes,
      readyNodes: aggregate.readyNodes,
      notReadyNodes: aggregate.notReadyNodes,
      nodeErrors: aggregate.nodeErrors,
      interfaceErrors: aggregate.interfaceErrors,
    },
    2,
    new Date(NOW.getTime() + t * 1000),
  );
  return toOperatorStatus(aggregate, conditions, 2);
}

const bytes = (x: unknown): number => Buffer.byteLength(JSON.stringify(x));

export async function measureSizes(): Promise<Sizes> {
  const cp = await startControlPlane({ components: "apiserver", crds: [CRD_PATH, REPORT_CRD_PATH] });
  const call = (method: string, path: string, body?: unknown, contentType?: string) =>
    cp.client.call(method, path, {
      ...(body === undefined ? {} : { body }),
      ...(contentType ? { contentType } : {}),
    });
  const must = async (method: string, path: string, body?: unknown, contentType?: string) => {
    const res = await call(method, path, body, contentType);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text.slice(0, 400)}`);
    return res.body as { metadata: { uid: string; generation: number } };
  };
  try {
    const node = await must("POST", "/api/v1/nodes", {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: nodeName(1) },
    });
    const xdpc = await must("POST", "/apis/xdpcounter.dev/v1alpha1/xdpcounters", {
      apiVersion: "xdpcounter.dev/v1alpha1",
      kind: "XdpCounter",
      metadata: { name: "edge" },
      spec: { interfaces: ["eth0"], reportInterval: "10s" },
    });
    const meta = { name: "edge", uid: xdpc.metadata.uid, generation: xdpc.metadata.generation };
    const reports: ReportSize[] = [];
    for (const counters of ["pass", "pass and drop"] as const) {
      for (const interfaces of [1, 8, 64]) {
        const body = report({
          xdpc: meta,
          node: 1,
          nodeUid: node.metadata.uid,
          interfaces,
          counters,
          t: 3600,
        });
        const path = `/apis/xdpcounter.dev/v1alpha1/xdpcounterreports/${body.metadata.name}`;
        // as the agent writes it: server-side apply, its field manager, forced
        await must(
          "PATCH",
          `${path}?fieldManager=xdp-counter-agent&force=true`,
          body,
          "application/apply-patch+yaml",
        );
        reports.push({
          counters,
          interfaces,
          bodyBytes: bytes(body),
          storedBytes: bytes(await must("GET", path)),
        });
      }
    }
    const status: StatusSize[] = [];
    for (const c of ["every node counting", "every node in error"] as const) {
      for (const n of [3, 5_000]) {
        const first = operatorStatus(n, c, 3600);
        const next = operatorStatus(n, c, 3610, first);
        const firstPatch = statusPatch(undefined, first);
        const nextPatch = statusPatch(first, next);
        // the operator's write: a merge patch of /status, its field manager
        await must(
          "PATCH",
          "/apis/xdpcounter.dev/v1alpha1/xdpcounters/edge/status?fieldManager=xdp-counter-operator",
          firstPatch,
          "application/merge-patch+json",
        );
        status.push({
          reports: n,
          case: c,
          statusBytes: bytes(first),
          firstPatchBytes: bytes(firstPatch),
          nextPatchBytes: nextPatch ? bytes(nextPatch) : 0,
          storedBytes: bytes(await must("GET", "/apis/xdpcounter.dev/v1alpha1/xdpcounters/edge")),
        });
      }
    }
    return { reports, status };
  } finally {
    await cp.stop();
  }
}

export function sizeTables(s: Sizes): string {
  const n = (x: number) => x.toLocaleString("en");
  const lines = [
    "| counters | interfaces | apply body B | stored report B | of etcd's 1.5 MiB |",
    "| --- | ---: | ---: | ---: | ---: |",
  ];
  for (const r of s.reports) {
    lines.push(
      `| ${r.counters} | ${r.interfaces} | ${n(r.bodyBytes)} | ${n(r.storedBytes)} | ${((r.storedBytes / ETCD_LIMIT_BYTES) * 100).toFixed(2)} % |`,
    );
  }
  lines.push(
    "",
    "| reports (nodes) | case | status JSON B | first status write B | next status write B (an interval later) | stored XdpCounter B |",
    "| ---: | --- | ---: | ---: | ---: | ---: |",
  );
  for (const r of s.status) {
    lines.push(
      `| ${n(r.reports)} | ${r.case} | ${n(r.statusBytes)} | ${n(r.firstPatchBytes)} | ${n(r.nextPatchBytes)} | ${n(r.storedBytes)} |`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) console.log(sizeTables(await measureSizes()));
