import assert from "node:assert/strict";
import { test } from "node:test";
import { makeXdpCounter } from "../../testing/operator.ts";
import { parseOperatorConfig } from "../config/index.ts";
import { renderDaemonSet } from "../daemonset/index.ts";
import { DESIRED_HASH_ANNOTATION, desiredHash, isUpToDate, withDesiredHash } from "./desired-daemonset.ts";
import type { KubeObject } from "./kube-types.ts";

const config = parseOperatorConfig({ XDP_COUNTER_NAMESPACE: "xdp", XDP_COUNTER_AGENT_IMAGE: "img:1" });

test("the hash is stable for the same rendering and changes with the spec, clean mode and settings", () => {
  const base = renderDaemonSet(makeXdpCounter("edge", { action: "pass" }), config);
  assert.equal(
    desiredHash(base),
    desiredHash(renderDaemonSet(makeXdpCounter("edge", { action: "pass" }), config)),
  );
  const others = [
    renderDaemonSet(makeXdpCounter("edge", { action: "drop" }), config),
    renderDaemonSet(
      makeXdpCounter("edge", {}, undefined, { deletionTimestamp: "2026-11-25T12:00:00Z" }),
      config,
    ),
    renderDaemonSet(makeXdpCounter("edge", { action: "pass" }), { ...config, agentImage: "img:2" }),
  ];
  for (const other of others) assert.notEqual(desiredHash(other), desiredHash(base));
  const annotated = withDesiredHash(base);
  assert.equal(annotated.metadata.annotations[DESIRED_HASH_ANNOTATION], desiredHash(base));
  assert.equal(annotated.spec, base.spec);
});

test("a live DaemonSet is up to date only with the same hash and the same controlling owner", () => {
  const desired = withDesiredHash(renderDaemonSet(makeXdpCounter("edge"), config));
  const live = structuredClone(desired) as unknown as KubeObject;
  // The server adds defaults and status: they do not matter.
  (live as { status?: unknown }).status = { desiredNumberScheduled: 3 };
  assert.equal(isUpToDate(live, desired), true);
  const otherHash = structuredClone(live);
  otherHash.metadata.annotations = { [DESIRED_HASH_ANNOTATION]: "0000" };
  assert.equal(isUpToDate(otherHash, desired), false);
  const otherOwner = structuredClone(live);
  otherOwner.metadata.ownerReferences = [
    {
      apiVersion: "xdpcounter.dev/v1alpha1",
      kind: "XdpCounter",
      name: "edge",
      uid: "another",
      controller: true,
    },
  ];
  assert.equal(isUpToDate(otherOwner, desired), false);
});
