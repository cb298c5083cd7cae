// Unit tests of the local controllers' pure parts: scheduling rules, template hashes, command mapping.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "../apiserver/index.ts";
import {
  commandLine,
  fieldRef,
  nodeAffinityMatches,
  nodeMatches,
  nodeOptionsForSources,
  scaled,
  type Taint,
  templateHash,
} from "./workloads.ts";

const node = (labels: Record<string, string>, taints: Taint[] = []): KubeObject => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name: "n", labels },
  spec: { taints },
});

test("nodeSelector must match every label; NoSchedule and NoExecute taints must be tolerated", () => {
  const spec = { containers: [], nodeSelector: { a: "1" } };
  assert.equal(nodeMatches(spec, node({ a: "1", b: "2" })), true);
  assert.equal(nodeMatches(spec, node({ a: "2" })), false);
  const tainted = node({ a: "1" }, [{ key: "k", value: "v", effect: "NoSchedule" }]);
  assert.equal(nodeMatches(spec, tainted), false);
  assert.equal(
    nodeMatches({ ...spec, tolerations: [{ key: "k", operator: "Equal", value: "v" }] }, tainted),
    true,
  );
  assert.equal(nodeMatches({ ...spec, tolerations: [{ key: "k", operator: "Exists" }] }, tainted), true);
  assert.equal(nodeMatches({ ...spec, tolerations: [{ operator: "Exists" }] }, tainted), true);
  assert.equal(
    nodeMatches({ ...spec, tolerations: [{ key: "k", operator: "Exists", effect: "NoExecute" }] }, tainted),
    false,
  );
  assert.equal(nodeMatches(spec, node({ a: "1" }, [{ key: "k", effect: "PreferNoSchedule" }])), true);
  assert.equal(
    nodeMatches(spec, node({ a: "1" }, [{ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }])),
    true,
    "daemon pods tolerate cordoned nodes",
  );
});

test("required node affinity: terms ORed, expressions ANDed, In/NotIn/Exists/DoesNotExist/Gt/Lt, matchFields", () => {
  const n = (labels: Record<string, string>): KubeObject => ({
    ...node(labels),
    metadata: { name: "n1", labels },
  });
  const term = (
    ...matchExpressions: {
      key: string;
      operator: "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt";
      values?: string[];
    }[]
  ) => ({ matchExpressions });
  assert.equal(
    nodeAffinityMatches([term({ key: "a", operator: "In", values: ["1", "2"] })], n({ a: "2" })),
    true,
  );
  assert.equal(
    nodeAffinityMatches([term({ key: "a", operator: "In", values: ["1"] })], n({ a: "2" })),
    false,
  );
  assert.equal(nodeAffinityMatches([term({ key: "a", operator: "In", values: ["1"] })], n({})), false);
  assert.equal(nodeAffinityMatches([term({ key: "a", operator: "NotIn", values: ["1"] })], n({})), true);
  assert.equal(
    nodeAffinityMatches([term({ key: "a", operator: "NotIn", values: ["1"] })], n({ a: "1" })),
    false,
  );
  assert.equal(nodeAffinityMatches([term({ key: "a", operator: "Exists" })], n({ a: "" })), true);
  assert.equal(nodeAffinityMatches([term({ key: "a", operator: "DoesNotExist" })], n({ a: "" })), false);
  assert.equal(nodeAffinityMatches([term({ key: "a", operator: "Gt", values: ["3"] })], n({ a: "4" })), true);
  assert.equal(
    nodeAffinityMatches([term({ key: "a", operator: "Lt", values: ["3"] })], n({ a: "4" })),
    false,
  );
  const both = term({ key: "a", operator: "In", values: ["1"] }, { key: "b", operator: "Exists" });
  assert.equal(nodeAffinityMatches([both], n({ a: "1" })), false, "a term's expressions are ANDed");
  const host = term({ key: "kubernetes.io/hostname", operator: "In", values: ["n1"] });
  assert.equal(
    nodeAffinityMatches([both, host], n({ "kubernetes.io/hostname": "n1" })),
    true,
    "terms are ORed",
  );
  assert.equal(nodeAffinityMatches([{}], n({})), false, "an empty term matches nothing");
  assert.equal(nodeAffinityMatches([], n({})), false);
  assert.equal(
    nodeAffinityMatches([{ matchFields: [{ key: "metadata.name", operator: "In", values: ["n1"] }] }], n({})),
    true,
  );
  const spec = (terms: unknown[]) => ({
    containers: [],
    nodeSelector: { z: "1" },
    affinity: {
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } },
    },
  });
  assert.equal(nodeMatches(spec([host]), n({ z: "1", "kubernetes.io/hostname": "n1" })), true);
  assert.equal(
    nodeMatches(spec([host]), n({ "kubernetes.io/hostname": "n1" })),
    false,
    "nodeSelector AND affinity",
  );
  assert.equal(nodeMatches(spec([host]), n({ z: "1" })), false);
});

test("template hashes ignore key order and change with content", () => {
  const a = templateHash({
    spec: { containers: [{ name: "x", image: "i" }] },
    metadata: { labels: { l: "1" } },
  });
  const b = templateHash({
    metadata: { labels: { l: "1" } },
    spec: { containers: [{ image: "i", name: "x" }] },
  });
  assert.equal(a, b);
  assert.match(a, /^[0-9a-f]{10}$/);
  assert.notEqual(a, templateHash({ metadata: { labels: { l: "2" } }, spec: { containers: [] } }));
});

test("maxUnavailable: numbers, percentages rounded up, at least 1", () => {
  assert.equal(scaled(undefined, 10, 1), 1);
  assert.equal(scaled(3, 10, 1), 3);
  assert.equal(scaled("10%", 15, 1), 2);
  assert.equal(scaled("0%", 15, 1), 1);
});

test("the image's program is mapped to a local command, by name or file name", () => {
  const commands = { "xdp-counter": ["/node", "/repo/agent/cli/bin.ts"] };
  assert.deepEqual(commandLine({ name: "c", command: ["xdp-counter", "agent"], args: ["-v"] }, commands), [
    "/node",
    "/repo/agent/cli/bin.ts",
    "agent",
    "-v",
  ]);
  assert.deepEqual(commandLine({ name: "c", command: ["/usr/local/bin/xdp-counter"] }, commands), [
    "/node",
    "/repo/agent/cli/bin.ts",
  ]);
  assert.deepEqual(
    commandLine({ name: "c", image: "ghcr.io/x/xdp-counter:1.2", args: ["agent"] }, commands),
    ["/node", "/repo/agent/cli/bin.ts", "agent"],
  );
  assert.deepEqual(commandLine({ name: "c", command: ["sleep", "1"] }, commands), ["sleep", "1"]);
});

test("fieldRef paths the kubelet resolves, and a clear refusal of others", () => {
  const pod: KubeObject = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "ns", uid: "u", labels: { app: "a" } },
    spec: { nodeName: "node-1", containers: [] },
  };
  const ips = { podIP: "198.19.0.11", hostIP: "198.19.0.11" };
  assert.equal(fieldRef(pod, "spec.nodeName", ips), "node-1");
  assert.equal(fieldRef(pod, "metadata.namespace", ips), "ns");
  assert.equal(fieldRef(pod, "status.hostIP", ips), "198.19.0.11");
  assert.equal(fieldRef(pod, "metadata.labels['app']", ips), "a");
  assert.throws(() => fieldRef(pod, "spec.bogus", ips), /fieldRef spec\.bogus is not supported/);
});

test("a container mapped to TypeScript sources runs without --jitless; compiled commands keep every option", () => {
  const options = "--max-semi-space-size=1 --jitless --v8-pool-size=1";
  assert.equal(
    nodeOptionsForSources(["/node", "/repo/agent/cli/bin.ts", "agent"], options),
    "--max-semi-space-size=1 --v8-pool-size=1",
  );
  assert.equal(nodeOptionsForSources(["/node", "/app/dist/agent/cli/bin.js", "agent"], options), options);
  assert.equal(nodeOptionsForSources(["/node", "/repo/agent/cli/bin.ts"], undefined), undefined);
});
