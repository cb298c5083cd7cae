// reconcile under both kinds of key, against the in-memory FakeCluster: AGENTS_KEY (the ConfigMap of specs, the
// one DaemonSet, the node label) and an XdpCounter's name (finalizer, status from reports, stale reports,
// deletion).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAgentSpecs, XDPCOUNTER_LABEL, type XdpCounterReport } from "../../api/v1alpha1/index.ts";
import { isStatus, RuntimeError, RuntimeErrorCode } from "../../runtime/errors.ts";
import type { KubeObject } from "../../runtime/kube/kube-types.ts";
import { reportsPath } from "../../runtime/kube/paths.ts";
import { FakeCluster, FakeEventSink } from "../../testing/fake-cluster.ts";
import { makeReport } from "../../testing/operator.ts";
import { parseOperatorConfig } from "../config/index.ts";
import {
  AGENT_NODE_LABEL,
  type DaemonSet,
  type Owner,
  renderAgentDaemonSet,
  selectorLabels,
} from "../daemonset/index.ts";
import { FINALIZER } from "../finalizer/index.ts";
import { DESIRED_HASH_ANNOTATION, desiredHash } from "./desired-daemonset.ts";
import { AGENTS_KEY, eachLimited, type ReconcileDeps, ReconcileOutcome, reconcile } from "./reconcile.ts";

const config = parseOperatorConfig({
  XDP_COUNTER_NAMESPACE: "xdp",
  XDP_COUNTER_AGENT_IMAGE: "xdp-counter:test",
});
const OWNER: Owner = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  name: "xdp-counter-operator",
  uid: "uid-op",
};
const START = Date.parse("2026-12-03T12:00:00Z");

function setup(owner: Owner | null = OWNER) {
  const cluster = new FakeCluster();
  const events = new FakeEventSink();
  const clock = { ms: START };
  const deps: ReconcileDeps = {
    read: cluster,
    write: cluster,
    config,
    owner: owner ?? undefined,
    now: () => new Date(clock.ms),
    events,
    statusWrites: new Map(),
    agentSpecs: new Map(),
  };
  return { cluster, deps, events, clock };
}

type Status = {
  observedGeneration?: number;
  totals?: { packets: Record<string, string>; bytes: Record<string, string> };
  rates?: {
    packetsPerSecond: Record<string, number>;
    bitsPerSecond: Record<string, number>;
    totalPacketsPerSecond: number;
    totalBitsPerSecond: number;
  };
  desiredNodes?: number;
  reportingNodes?: number;
  readyNodes?: number;
  conditions?: { type: string; status: string; reason: string; message: string }[];
};

function statusOf(cluster: FakeCluster, name: string): Status {
  const obj = cluster.xdpCounters.get(name);
  assert.ok(obj?.status, `${name} has a status`);
  return obj.status as Status;
}

function conditionOf(cluster: FakeCluster, name: string, type: string) {
  return statusOf(cluster, name).conditions?.find((c) => c.type === type);
}

function specsData(cluster: FakeCluster): Record<string, string> {
  assert.ok(cluster.configMap, "the ConfigMap exists");
  return (cluster.configMap as KubeObject & { data: Record<string, string> }).data;
}

function entryOf(cluster: FakeCluster, name: string): Record<string, unknown> {
  const text = specsData(cluster)[name];
  assert.ok(text, `the ConfigMap has ${name}`);
  return JSON.parse(text) as Record<string, unknown>;
}

function labelled(cluster: FakeCluster): string[] {
  return [...cluster.nodes.values()]
    .filter((n) => n.metadata.labels?.[AGENT_NODE_LABEL] === "true")
    .map((n) => n.metadata.name)
    .sort();
}

/** What an agent writes: its node's report for the XdpCounter as stored now. */
function report(
  cluster: FakeCluster,
  name: string,
  node: string,
  overrides: Parameters<typeof makeReport>[2] = {},
): XdpCounterReport {
  const obj = cluster.xdpCounters.get(name);
  assert.ok(obj);
  return cluster.putReport(makeReport(obj, node, overrides));
}

const EDGE_TOLERATION = { key: "dedicated", operator: "Equal", value: "net", effect: "NoSchedule" } as const;

describe("reconcile AGENTS_KEY", () => {
  it("deletes the reports of XdpCounters that no longer exist, by uid; their nodes lose the label", async () => {
    const { cluster, deps } = setup();
    cluster.addNode("n1");
    const live = cluster.addXdpCounter({
      metadata: { name: "live" },
      spec: { nodeSelector: { pool: "none" } },
    });
    cluster.putReport(makeReport({ metadata: { name: "gone", uid: "uid-gone" } }, "n1"));
    cluster.putReport(makeReport(live, "n1"));
    const result = await reconcile(AGENTS_KEY, deps);
    assert.equal(result.deletedReports, 1);
    assert.deepEqual([...cluster.reports.keys()], ["live.n1"], "the live XdpCounter's report stays");
    assert.equal(cluster.labelsOf("n1")?.["xdpcounter.dev/agent"], "true", "kept by the live report");
    cluster.removeReport("live.n1");
    await reconcile(AGENTS_KEY, deps);
    assert.equal(cluster.labelsOf("n1")?.["xdpcounter.dev/agent"], undefined, "nothing left there");
  });

  function cluster4() {
    const env = setup();
    const { cluster } = env;
    cluster.addNode("n1", { pool: "edge" });
    cluster.addNode("n2", { pool: "core" });
    cluster.addNode("n3", { pool: "edge" }, [{ key: "dedicated", value: "net", effect: "NoSchedule" }]);
    cluster.addNode("n4", {});
    cluster.addXdpCounter({ metadata: { name: "edge" }, spec: { nodeSelector: { pool: "edge" } } });
    cluster.addXdpCounter({
      metadata: { name: "tainted" },
      spec: { nodeSelector: { pool: "edge" }, tolerations: [EDGE_TOLERATION], action: "drop" },
    });
    cluster.addXdpCounter({ metadata: { name: "core" }, spec: { nodeSelector: { pool: "core" } } });
    // The schema refuses it (the API server would not, with an older CRD): no entry, no label.
    cluster.addXdpCounter({
      metadata: { name: "bad" },
      spec: { nodeSelector: { pool: "none" }, action: "explode" },
    });
    return env;
  }

  it("writes the ConfigMap (one key per usable XdpCounter), the DaemonSet, and labels exactly the selected nodes", async () => {
    const { cluster, deps } = cluster4();
    const result = await reconcile(AGENTS_KEY, deps);
    assert.deepEqual(result, {
      outcome: ReconcileOutcome.Synced,
      wroteSpecs: true,
      wroteDaemonSet: true,
      labelledNodes: 3,
      deletedReports: 0,
    });
    assert.deepEqual(cluster.takeWrites(), [
      "applyConfigMap",
      "applyDaemonSet",
      "labelNode",
      "labelNode",
      "labelNode",
    ]);

    // The ConfigMap: in the operator's namespace, owned by its Deployment, one key per usable XdpCounter.
    const cm = cluster.configMap;
    assert.ok(cm);
    assert.equal(cm.metadata.name, config.agentSpecs);
    assert.equal(cm.metadata.namespace, "xdp");
    assert.deepEqual(cm.metadata.ownerReferences, [{ ...OWNER, controller: true }]);
    assert.deepEqual(Object.keys(specsData(cluster)).sort(), ["core", "edge", "tainted"]);
    const parsed = parseAgentSpecs(specsData(cluster), "n3");
    assert.deepEqual(parsed.errors, []);
    const tainted = parsed.configs.find((c) => c.xdpCounter === "tainted");
    assert.equal(tainted?.uid, "uid-tainted");
    assert.equal(tainted?.mode, "count");
    assert.equal(tainted?.action, "drop");
    assert.deepEqual(tainted?.nodeSelector, { pool: "edge" });
    assert.deepEqual(tainted?.tolerations, [EDGE_TOLERATION]);

    // The DaemonSet: its desired hash, owned by the Deployment, on the label, tolerating everything.
    const ds = cluster.daemonSet as unknown as DaemonSet & {
      metadata: { annotations: Record<string, string> };
    };
    assert.ok(ds);
    assert.equal(ds.metadata.name, config.agentDaemonSet);
    assert.equal(ds.metadata.namespace, "xdp");
    assert.equal(
      ds.metadata.annotations[DESIRED_HASH_ANNOTATION],
      desiredHash(renderAgentDaemonSet(config, OWNER)),
    );
    assert.deepEqual(ds.metadata.ownerReferences, [{ ...OWNER, controller: true }]);
    assert.deepEqual(ds.spec.template.spec.nodeSelector, { [AGENT_NODE_LABEL]: "true" });
    assert.deepEqual(ds.spec.template.spec.tolerations, [{ operator: "Exists" }]);
    assert.deepEqual(ds.spec.selector.matchLabels, selectorLabels());

    // n1 (edge, tainted), n2 (core), n3 (tainted's toleration); not n4, nor anything for the invalid one.
    assert.deepEqual(labelled(cluster), ["n1", "n2", "n3"]);
    assert.deepEqual(
      cluster.labelsOf("n1"),
      { pool: "edge", [AGENT_NODE_LABEL]: "true" },
      "other labels kept",
    );

    const second = await reconcile(AGENTS_KEY, deps);
    assert.deepEqual(cluster.takeWrites(), [], "a second pass writes nothing");
    assert.deepEqual(second, {
      outcome: ReconcileOutcome.Synced,
      wroteSpecs: false,
      wroteDaemonSet: false,
      labelledNodes: 0,
      deletedReports: 0,
    });
  });

  it("sets no owner reference on the DaemonSet and the ConfigMap when the owner is not known", async () => {
    const { cluster, deps } = setup(null);
    cluster.addNode("n1");
    cluster.addXdpCounter({ metadata: { name: "edge" }, spec: {} });
    await reconcile(AGENTS_KEY, deps);
    assert.equal(cluster.daemonSet?.metadata.ownerReferences, undefined);
    assert.equal(cluster.configMap?.metadata.ownerReferences, undefined);
    assert.deepEqual(labelled(cluster), ["n1"]);
  });

  it("a DaemonSet write the API refuses still labels the nodes, then fails the reconcile for a retry", async () => {
    const { cluster, deps } = setup();
    cluster.addNode("n1");
    cluster.addXdpCounter({ metadata: { name: "edge" }, spec: {} });
    const refused = apiStatus403();
    const write = cluster.writer({ applyDaemonSet: () => Promise.reject(refused) });
    await assert.rejects(reconcile(AGENTS_KEY, { ...deps, write }), (error) => error === refused);
    assert.deepEqual(labelled(cluster), ["n1"], "the agents are placed all the same");
    assert.equal(cluster.daemonSet, undefined);
    // once the API accepts it, the next pass writes it
    await reconcile(AGENTS_KEY, deps);
    assert.ok(cluster.daemonSet);
  });

  it("rewrites the DaemonSet whose hash is not the desired one, and nothing else", async () => {
    const { cluster, deps } = setup();
    cluster.addNode("n1");
    await reconcile(AGENTS_KEY, deps);
    cluster.takeWrites();
    assert.ok(cluster.daemonSet?.metadata.annotations);
    cluster.daemonSet.metadata.annotations[DESIRED_HASH_ANNOTATION] = "0000";
    const result = await reconcile(AGENTS_KEY, deps);
    assert.deepEqual(cluster.takeWrites(), ["applyDaemonSet"]);
    assert.equal(result.wroteDaemonSet, true);
  });

  it("a spec change rewrites only the ConfigMap; the DaemonSet is untouched; unrelated changes write nothing", async () => {
    const { cluster, deps } = cluster4();
    await reconcile(AGENTS_KEY, deps);
    cluster.takeWrites();
    const dsVersion = cluster.daemonSet?.metadata.resourceVersion;
    const before = entryOf(cluster, "edge");
    assert.equal(before.generation, 1);

    // labels, annotations and status of an XdpCounter do not reach the agents
    const obj = cluster.xdpCounters.get("edge");
    assert.ok(obj);
    obj.metadata.labels = { team: "net" };
    await cluster.patchXdpCounterStatus("edge", { status: { desiredNodes: 1 } });
    cluster.takeWrites();
    await reconcile(AGENTS_KEY, deps);
    assert.deepEqual(cluster.takeWrites(), []);

    cluster.setSpec("edge", { nodeSelector: { pool: "edge" }, action: "drop" });
    const result = await reconcile(AGENTS_KEY, deps);
    assert.deepEqual(cluster.takeWrites(), ["applyConfigMap"]);
    assert.equal(result.wroteSpecs, true);
    assert.equal(result.wroteDaemonSet, false);
    assert.equal(cluster.daemonSet?.metadata.resourceVersion, dsVersion, "the agents do not roll");
    const after = entryOf(cluster, "edge");
    assert.equal(after.action, "drop");
    assert.equal(after.generation, 2);
    assert.deepEqual(entryOf(cluster, "core"), JSON.parse(specsData(cluster).core ?? "{}"));
  });

  it("a new node that an XdpCounter selects gets the label; its taints are weighed against the tolerations", async () => {
    const { cluster, deps } = cluster4();
    await reconcile(AGENTS_KEY, deps);
    cluster.takeWrites();
    cluster.addNode("n5", { pool: "core" }, [{ key: "other", effect: "NoSchedule" }]);
    cluster.addNode("n6", { pool: "core" });
    const result = await reconcile(AGENTS_KEY, deps);
    assert.equal(result.labelledNodes, 1);
    assert.deepEqual(cluster.writes, [{ verb: "labelNode", name: "n6", value: "true" }]);
  });

  it("a label on a node that nothing selects and no report holds is removed; other nodes are left alone", async () => {
    const { cluster, deps } = setup();
    cluster.addNode("n1", { [AGENT_NODE_LABEL]: "true", team: "net" });
    cluster.addNode("n2", { pool: "core" });
    cluster.addXdpCounter({ metadata: { name: "edge" }, spec: { nodeSelector: { pool: "edge" } } });
    const result = await reconcile(AGENTS_KEY, deps);
    assert.equal(result.labelledNodes, 1);
    assert.deepEqual(
      cluster.writes.filter((w) => w.verb === "labelNode"),
      [{ verb: "labelNode", name: "n1", value: null }],
    );
    assert.deepEqual(cluster.labelsOf("n1"), { team: "net" });
    assert.deepEqual(cluster.labelsOf("n2"), { pool: "core" });
  });

  it("a node no longer selected keeps the label while it has a report, and loses it once the report is gone", async () => {
    const { cluster, deps } = setup();
    cluster.addNode("n1", { pool: "edge" });
    cluster.addNode("n2", { pool: "edge" });
    cluster.addXdpCounter({ metadata: { name: "edge" }, spec: { nodeSelector: { pool: "edge" } } });
    await reconcile(AGENTS_KEY, deps);
    report(cluster, "edge", "n1");
    report(cluster, "edge", "n2");
    assert.deepEqual(labelled(cluster), ["n1", "n2"]);
    cluster.takeWrites();

    const n2 = cluster.nodes.get("n2");
    assert.ok(n2?.metadata.labels);
    n2.metadata.labels.pool = "core";
    await reconcile(AGENTS_KEY, deps);
    assert.deepEqual(cluster.takeWrites(), [], "its agent still cleans up");
    assert.deepEqual(labelled(cluster), ["n1", "n2"]);

    cluster.removeReport("edge.n2");
    const result = await reconcile(AGENTS_KEY, deps);
    assert.deepEqual(cluster.writes, [{ verb: "labelNode", name: "n2", value: null }]);
    assert.equal(result.labelledNodes, 1);
    assert.deepEqual(cluster.labelsOf("n2"), { pool: "core" });
  });

  it("a deleting XdpCounter's entry has mode clean; its nodes keep the label until their reports are gone", async () => {
    const { cluster, deps } = setup();
    cluster.addNode("n1");
    cluster.addXdpCounter({ metadata: { name: "edge" }, spec: {} });
    cluster.addXdpCounter({ metadata: { name: "other" }, spec: { nodeSelector: { pool: "none" } } });
    await reconcile(AGENTS_KEY, deps);
    await reconcile("edge", deps);
    await reconcile("other", deps);
    report(cluster, "edge", "n1");
    assert.equal(entryOf(cluster, "edge").mode, "count");
    cluster.markDeleted("edge");
    cluster.takeWrites();

    await reconcile(AGENTS_KEY, deps);
    assert.deepEqual(cluster.takeWrites(), ["applyConfigMap"]);
    assert.equal(entryOf(cluster, "edge").mode, "clean");
    assert.equal(entryOf(cluster, "other").mode, "count");
    assert.deepEqual(labelled(cluster), ["n1"], "the report keeps the agent there");

    cluster.removeReport("edge.n1");
    await reconcile(AGENTS_KEY, deps);
    assert.deepEqual(cluster.writes, [{ verb: "labelNode", name: "n1", value: null }]);
    assert.equal(entryOf(cluster, "edge").mode, "clean", "still there until the finalizer goes");
    cluster.takeWrites();

    assert.equal((await reconcile("edge", deps)).outcome, ReconcileOutcome.FinalizerRemoved);
    assert.equal(cluster.xdpCounters.has("edge"), false);
    await reconcile(AGENTS_KEY, deps);
    assert.deepEqual(Object.keys(specsData(cluster)), ["other"]);
  });

  it("an XdpCounter whose spec fails the schema keeps its last ConfigMap entry, in mode clean once deleted", async () => {
    const { cluster, deps } = setup();
    cluster.addNode("n1");
    cluster.addXdpCounter({ metadata: { name: "edge" }, spec: { interfaces: ["eth*"] } });
    await reconcile(AGENTS_KEY, deps);
    await reconcile("edge", deps);
    report(cluster, "edge", "n1");
    const last = specsData(cluster).edge;
    assert.ok(last);
    cluster.takeWrites();

    cluster.setSpec("edge", { interfaces: ["eth*"], action: "explode" });
    await reconcile(AGENTS_KEY, deps);
    assert.deepEqual(cluster.takeWrites(), [], "an invalid edit detaches nothing");
    assert.equal(specsData(cluster).edge, last);
    assert.deepEqual(labelled(cluster), ["n1"]);

    cluster.markDeleted("edge");
    await reconcile(AGENTS_KEY, deps);
    assert.deepEqual(cluster.takeWrites(), ["applyConfigMap"]);
    assert.deepEqual(entryOf(cluster, "edge"), { ...JSON.parse(last), mode: "clean" });
    const parsed = parseAgentSpecs(specsData(cluster), "n1");
    assert.deepEqual(parsed.errors, [], "the agents can read the clean entry");
  });

  it("an invalid edit keeps the last valid spec also when the cached ConfigMap does not show it yet", async () => {
    const { cluster, deps } = setup();
    cluster.addNode("n1");
    cluster.addXdpCounter({ metadata: { name: "edge" }, spec: { interfaces: ["eth*"] } });
    await reconcile(AGENTS_KEY, deps);
    const stale = cluster.getConfigMap();
    cluster.setSpec("edge", { interfaces: ["eth1"] });
    await reconcile(AGENTS_KEY, deps);
    const last = specsData(cluster).edge;
    assert.match(last ?? "", /eth1/);
    // the informer has not delivered our last write yet: its copy still holds the spec before
    cluster.configMap = stale;
    cluster.setSpec("edge", { interfaces: ["eth1"], action: "explode" });
    await reconcile(AGENTS_KEY, deps);
    assert.equal(specsData(cluster).edge, last, "the spec the agents last had, not the cache's older one");
  });

  it("an XdpCounter released (our finalizer gone) but held by another finalizer leaves the ConfigMap", async () => {
    const { cluster, deps } = setup();
    cluster.addNode("n1");
    cluster.addXdpCounter({ metadata: { name: "edge", finalizers: ["example.com/keep"] }, spec: {} });
    await reconcile(AGENTS_KEY, deps);
    await reconcile("edge", deps);
    cluster.markDeleted("edge");
    assert.equal((await reconcile("edge", deps)).outcome, ReconcileOutcome.FinalizerRemoved);
    assert.ok(cluster.xdpCounters.has("edge"), "held by example.com/keep");
    await reconcile(AGENTS_KEY, deps);
    assert.deepEqual(Object.keys(specsData(cluster)), [], "no agent has anything left to do for it");
  });
});

describe("reconcile an XdpCounter", () => {
  it("a missing XdpCounter is Gone and writes nothing", async () => {
    const { cluster, deps } = setup();
    deps.statusWrites.set("nope", START);
    assert.deepEqual(await reconcile("nope", deps), { outcome: ReconcileOutcome.Gone });
    assert.equal(cluster.writes.length, 0);
    assert.equal(deps.statusWrites.has("nope"), false, "its throttle entry is forgotten");
  });

  it("adds the finalizer and writes the status summed from the reports; a second pass writes nothing", async () => {
    const { cluster, deps, clock } = setup();
    cluster.addNode("n1", { pool: "edge" });
    cluster.addNode("n2", { pool: "edge" });
    cluster.addNode("n3", { pool: "core" });
    const created = cluster.addXdpCounter({
      metadata: { name: "edge", finalizers: ["example.com/keep"] },
      spec: { nodeSelector: { pool: "edge" } },
    });
    report(cluster, "edge", "n1", {
      packets: { pass: "9007199254740993", drop: "3" },
      bytes: { pass: "18000000000000000000" },
      rates: { packetsPerSecond: { pass: 10.5, drop: 0.125 }, bitsPerSecond: { pass: 84_000 }, seconds: 10 },
    });
    report(cluster, "edge", "n2", {
      packets: { pass: "18000000000000000001" },
      bytes: { pass: "446744073709551615" },
      rates: { packetsPerSecond: { pass: 0.25 }, bitsPerSecond: { pass: 2_000 }, seconds: 10 },
    });
    cluster.setAgentPod("n1", true);
    cluster.setAgentPod("n2", false);
    await reconcile(AGENTS_KEY, deps);
    cluster.takeWrites();

    const first = await reconcile("edge", deps);
    assert.deepEqual(first, { outcome: ReconcileOutcome.Synced, wroteStatus: true, deletedReports: 0 });
    assert.deepEqual(
      cluster.writes.map((w) => w.verb),
      ["patch", "patchStatus"],
    );
    const finalizerWrite = cluster.writes[0];
    assert.deepEqual(finalizerWrite, {
      verb: "patch",
      name: "edge",
      patch: {
        metadata: {
          finalizers: ["example.com/keep", FINALIZER],
          resourceVersion: created.metadata.resourceVersion ?? "",
        },
      },
    });
    assert.deepEqual(cluster.xdpCounters.get("edge")?.metadata.finalizers, ["example.com/keep", FINALIZER]);

    const status = statusOf(cluster, "edge");
    assert.equal(status.observedGeneration, 1);
    assert.equal(status.totals?.packets.pass, (9007199254740993n + 18000000000000000001n).toString());
    assert.equal(status.totals?.packets.drop, "3");
    assert.equal(status.totals?.bytes.pass, "18446744073709551615");
    assert.equal(status.rates?.packetsPerSecond.pass, 10.75);
    assert.equal(status.rates?.packetsPerSecond.drop, 0.125);
    assert.equal(status.rates?.totalPacketsPerSecond, 10.875);
    assert.equal(status.rates?.totalBitsPerSecond, 86_000);
    assert.equal(status.desiredNodes, 2);
    assert.equal(status.reportingNodes, 2);
    assert.equal(status.readyNodes, 1, "n2's agent pod is not Ready");
    const ready = conditionOf(cluster, "edge", "Ready");
    assert.equal(ready?.status, "False");
    assert.equal(ready?.reason, "NodesNotReady");
    assert.match(ready?.message ?? "", /not ready: n2\./);
    assert.deepEqual(deps.statusWrites.get("edge"), START);

    cluster.takeWrites();
    // within the interval (the default, 1 minute) the reports are not even summed: no write can be due
    const second = await reconcile("edge", deps);
    assert.deepEqual(second, { outcome: ReconcileOutcome.Throttled, requeueAfterMs: 60_000 });
    assert.deepEqual(cluster.takeWrites(), []);
    clock.ms += 60_000;
    const third = await reconcile("edge", deps);
    assert.deepEqual(cluster.takeWrites(), [], "nothing changed, nothing written");
    assert.deepEqual(third, { outcome: ReconcileOutcome.Synced, wroteStatus: false, deletedReports: 0 });
  });

  it("writes a status change at most once per report interval: Throttled for the rest of it, then written", async () => {
    const { cluster, deps, clock } = setup();
    cluster.addNode("n1");
    cluster.addXdpCounter({ metadata: { name: "edge" }, spec: { reportInterval: "10s" } });
    report(cluster, "edge", "n1");
    const first = await reconcile("edge", deps);
    assert.equal(first.wroteStatus, true, "the first write is immediate");
    assert.equal(statusOf(cluster, "edge").readyNodes, 0);
    cluster.takeWrites();

    clock.ms += 4_000;
    cluster.setAgentPod("n1", true);
    const throttled = await reconcile("edge", deps);
    assert.deepEqual(throttled, { outcome: ReconcileOutcome.Throttled, requeueAfterMs: 6_000 });
    assert.deepEqual(cluster.takeWrites(), []);

    clock.ms += 5_999;
    assert.equal((await reconcile("edge", deps)).requeueAfterMs, 1);
    clock.ms += 1;
    const written = await reconcile("edge", deps);
    assert.equal(written.outcome, ReconcileOutcome.Synced);
    assert.equal(written.wroteStatus, true);
    assert.deepEqual(cluster.takeWrites(), ["patchStatus"]);
    assert.equal(statusOf(cluster, "edge").readyNodes, 1);
    assert.equal(deps.statusWrites.get("edge"), START + 10_000);
  });

  it("deletes stale reports (of an earlier XdpCounter of the same name, of a node that is gone) by their uid", async () => {
    const { cluster, deps } = setup();
    cluster.addNode("n1");
    cluster.addNode("n2");
    cluster.addXdpCounter({ metadata: { name: "edge" }, spec: {} });
    const earlier = cluster.putReport(
      makeReport({ metadata: { name: "edge", uid: "uid-earlier", generation: 4 } }, "n1", {
        packets: { pass: "1000" },
      }),
    );
    const gone = report(cluster, "edge", "gone", { packets: { pass: "2000" } });
    const live = report(cluster, "edge", "n2", { packets: { pass: "7" } });

    const result = await reconcile("edge", deps);
    assert.equal(result.deletedReports, 2);
    assert.deepEqual(
      cluster.writes.filter((w) => w.verb === "deleteReport"),
      [
        { verb: "deleteReport", name: "edge.gone", uid: gone.metadata.uid },
        { verb: "deleteReport", name: "edge.n1", uid: earlier.metadata.uid },
      ],
    );
    assert.deepEqual([...cluster.reports.keys()], [live.metadata.name]);
    const status = statusOf(cluster, "edge");
    assert.equal(status.totals?.packets.pass, "7", "stale reports count for nothing");
    assert.equal(status.reportingNodes, 1);
  });

  it("the fake refuses to delete a report whose uid is not the precondition's, and ignores a missing one", async () => {
    const { cluster } = setup();
    cluster.addXdpCounter({ metadata: { name: "edge" }, spec: {} });
    const r = report(cluster, "edge", "n1");
    await assert.rejects(cluster.deleteReport(r.metadata.name, "another"), (e) => isStatus(e, 409));
    assert.equal(cluster.reports.size, 1);
    await cluster.deleteReport(r.metadata.name, r.metadata.uid);
    await cluster.deleteReport(r.metadata.name, r.metadata.uid);
    assert.equal(cluster.reports.size, 0);
  });

  it("a deletion waits for every report, naming the nodes, then removes only its finalizer", async () => {
    const { cluster, deps, clock } = setup();
    cluster.addNode("n1");
    cluster.addNode("n2");
    cluster.addXdpCounter({ metadata: { name: "edge", finalizers: ["example.com/keep"] }, spec: {} });
    await reconcile("edge", deps);
    report(cluster, "edge", "n1");
    report(cluster, "edge", "n2");
    cluster.markDeleted("edge");
    cluster.takeWrites();

    // within the interval: a deletion is never throttled
    clock.ms += 1_000;
    const waiting = await reconcile("edge", deps);
    assert.deepEqual(waiting, {
      outcome: ReconcileOutcome.WaitingForClean,
      waitingFor: ["n1", "n2"],
      wroteStatus: true,
      deletedReports: 0,
    });
    assert.equal(conditionOf(cluster, "edge", "Ready")?.reason, "Deleting");
    assert.equal(statusOf(cluster, "edge").reportingNodes, 2, "a deleting XdpCounter's reports still count");

    cluster.removeReport("edge.n1");
    const still = await reconcile("edge", deps);
    assert.equal(still.outcome, ReconcileOutcome.WaitingForClean);
    assert.deepEqual(still.waitingFor, ["n2"]);
    assert.deepEqual(cluster.xdpCounters.get("edge")?.metadata.finalizers, ["example.com/keep", FINALIZER]);

    cluster.removeReport("edge.n2");
    cluster.takeWrites();
    const done = await reconcile("edge", deps);
    assert.equal(done.outcome, ReconcileOutcome.FinalizerRemoved);
    assert.deepEqual(cluster.takeWrites(), ["patchStatus", "patch"]);
    assert.deepEqual(cluster.xdpCounters.get("edge")?.metadata.finalizers, ["example.com/keep"]);
    assert.equal(deps.statusWrites.has("edge"), false);
    // held by the other finalizer: nothing more to do
    assert.deepEqual(await reconcile("edge", deps), { outcome: ReconcileOutcome.Released });
    assert.deepEqual(cluster.takeWrites(), []);
  });

  it("a deletion whose reports are gone with their nodes finishes: the object goes", async () => {
    const { cluster, deps } = setup();
    cluster.addNode("n1");
    cluster.addXdpCounter({ metadata: { name: "edge" }, spec: {} });
    await reconcile("edge", deps);
    report(cluster, "edge", "n1");
    cluster.markDeleted("edge");
    cluster.nodes.delete("n1");
    const done = await reconcile("edge", deps);
    assert.equal(done.outcome, ReconcileOutcome.FinalizerRemoved);
    assert.equal(done.deletedReports, 1);
    assert.equal(cluster.xdpCounters.has("edge"), false);
  });

  it("an XdpCounter being deleted without our finalizer is Released and written nothing", async () => {
    const { cluster, deps } = setup();
    cluster.addNode("n1");
    cluster.addXdpCounter({
      metadata: { name: "edge", finalizers: ["example.com/keep"], deletionTimestamp: "2026-12-03T11:00:00Z" },
      spec: {},
    });
    report(cluster, "edge", "n1");
    assert.deepEqual(await reconcile("edge", deps), { outcome: ReconcileOutcome.Released });
    assert.deepEqual(cluster.takeWrites(), []);
  });

  it("an invalid spec gets condition InvalidSpec naming the field, no finalizer and no throw; a second pass writes nothing", async () => {
    const { cluster, deps } = setup();
    cluster.addNode("n1");
    cluster.addXdpCounter({ metadata: { name: "edge" }, spec: { action: "explode" } });
    const result = await reconcile("edge", deps);
    assert.deepEqual(result, { outcome: ReconcileOutcome.InvalidSpec, wroteStatus: true });
    assert.deepEqual(cluster.takeWrites(), ["patchStatus"]);
    for (const type of ["Ready", "Degraded"]) {
      const c = conditionOf(cluster, "edge", type);
      assert.equal(c?.reason, "InvalidSpec");
      assert.match(c?.message ?? "", /spec\.action/);
    }
    assert.equal(cluster.xdpCounters.get("edge")?.metadata.finalizers, undefined);
    assert.deepEqual(await reconcile("edge", deps), {
      outcome: ReconcileOutcome.InvalidSpec,
      wroteStatus: false,
    });
    assert.deepEqual(cluster.takeWrites(), []);
  });

  it("a deletion of an XdpCounter whose spec became invalid finishes once no report is left", async () => {
    const { cluster, deps } = setup();
    cluster.addNode("n1");
    cluster.addXdpCounter({ metadata: { name: "edge" }, spec: {} });
    await reconcile("edge", deps);
    report(cluster, "edge", "n1");
    cluster.setSpec("edge", { attachMode: "sideways" });
    cluster.markDeleted("edge");
    const waiting = await reconcile("edge", deps);
    assert.equal(waiting.outcome, ReconcileOutcome.WaitingForClean);
    assert.deepEqual(waiting.waitingFor, ["n1"]);
    assert.match(conditionOf(cluster, "edge", "Degraded")?.message ?? "", /spec\.attachMode/);

    cluster.removeReport("edge.n1");
    assert.equal((await reconcile("edge", deps)).outcome, ReconcileOutcome.FinalizerRemoved);
    assert.equal(cluster.xdpCounters.has("edge"), false);
  });

  it("a deletion of an invalid XdpCounter is not held by a stale report of an earlier XdpCounter of the same name", async () => {
    const { cluster, deps } = setup();
    cluster.addNode("n1");
    cluster.addXdpCounter({
      metadata: { name: "edge", finalizers: [FINALIZER] },
      spec: { action: "explode" },
    });
    cluster.putReport(makeReport({ metadata: { name: "edge", uid: "uid-earlier" } }, "n1"));
    cluster.markDeleted("edge");
    const result = await reconcile("edge", deps);
    assert.equal(result.outcome, ReconcileOutcome.FinalizerRemoved, JSON.stringify(result));
  });

  it("an XdpCounter deleted between the cache and the write is Gone (404 on the finalizer or status write)", async () => {
    const { cluster, deps } = setup();
    cluster.addNode("n1");
    const cached = cluster.addXdpCounter({ metadata: { name: "edge" }, spec: {} });
    cluster.xdpCounters.delete("edge");
    const read = cluster.reader({ getXdpCounter: () => structuredClone(cached) });
    assert.deepEqual(await reconcile("edge", { ...deps, read }), { outcome: ReconcileOutcome.Gone });
    assert.deepEqual(cluster.takeWrites(), ["patch"]);

    const withFinalizer = { ...cached, metadata: { ...cached.metadata, finalizers: [FINALIZER] } };
    const read2 = cluster.reader({ getXdpCounter: () => structuredClone(withFinalizer) });
    assert.deepEqual(await reconcile("edge", { ...deps, read: read2 }), { outcome: ReconcileOutcome.Gone });
    assert.deepEqual(cluster.takeWrites(), ["patchStatus"]);
  });

  it("a 404 of another object (a report) is not Gone: it is thrown", async () => {
    const { cluster, deps } = setup();
    cluster.addNode("n1");
    cluster.addXdpCounter({ metadata: { name: "edge" }, spec: {} });
    report(cluster, "edge", "gone");
    const notFound = new RuntimeError(RuntimeErrorCode.ApiStatus, "not found", {
      statusCode: 404,
      path: reportsPath("edge.gone"),
    });
    const write = cluster.writer({ deleteReport: () => Promise.reject(notFound) });
    await assert.rejects(reconcile("edge", { ...deps, write }), (e) => e === notFound);
  });

  it("a finalizer write on a stale resourceVersion fails with a conflict and changes nothing", async () => {
    const { cluster, deps } = setup();
    cluster.addNode("n1");
    const cached = cluster.addXdpCounter({ metadata: { name: "edge" }, spec: {} });
    // someone else wrote meanwhile (a label, another finalizer): the cache has not seen it yet
    await cluster.patchXdpCounter("edge", { metadata: { finalizers: ["example.com/keep"] } });
    cluster.takeWrites();
    const read = cluster.reader({ getXdpCounter: () => structuredClone(cached) });
    await assert.rejects(reconcile("edge", { ...deps, read }), (e) => isStatus(e, 409));
    assert.deepEqual(cluster.xdpCounters.get("edge")?.metadata.finalizers, ["example.com/keep"]);
    // with the cache caught up, the finalizer is added next to the other one
    await reconcile("edge", deps);
    assert.deepEqual(cluster.xdpCounters.get("edge")?.metadata.finalizers, ["example.com/keep", FINALIZER]);
  });

  it("reports are read by their XdpCounter's label", async () => {
    const { cluster } = setup();
    cluster.addXdpCounter({ metadata: { name: "a" }, spec: {} });
    cluster.addXdpCounter({ metadata: { name: "b" }, spec: {} });
    report(cluster, "a", "n1");
    report(cluster, "b", "n1");
    assert.deepEqual(
      cluster.listReports("a").map((r) => [r.metadata.name, r.metadata.labels?.[XDPCOUNTER_LABEL]]),
      [["a.n1", "a"]],
    );
    assert.equal(cluster.listReports().length, 2);
  });
});

function apiStatus403(): RuntimeError {
  return new RuntimeError(
    RuntimeErrorCode.ApiStatus,
    "PATCH daemonsets/xdp-counter-agent: 403 Forbidden: cannot set an ownerRef on a resource you can't delete",
    { statusCode: 403, path: "/apis/apps/v1/namespaces/xdp-counter/daemonsets/xdp-counter-agent" },
  );
}

it("eachLimited runs every item, never more than the limit at once, and raises the first error after the rest", async () => {
  let running = 0;
  let most = 0;
  const done: number[] = [];
  const items = Array.from({ length: 20 }, (_, i) => i);
  await eachLimited(items, 3, async (i) => {
    running++;
    most = Math.max(most, running);
    await new Promise((r) => setTimeout(r, (i * 7) % 5));
    running--;
    done.push(i);
  });
  assert.equal(most, 3);
  assert.deepEqual(
    [...done].sort((a, b) => a - b),
    items,
  );

  const tried: number[] = [];
  await assert.rejects(
    eachLimited(items, 4, async (i) => {
      tried.push(i);
      if (i === 2) throw new Error("refused: 2");
      await new Promise((r) => setTimeout(r, 1));
    }),
    /refused: 2/,
  );
  assert.ok(tried.length < items.length, "no new item starts after a failure");
  assert.equal(running, 0);
});
