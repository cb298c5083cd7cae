import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "../../runtime/kube/kube-types.ts";
import { parseOperatorConfig } from "../config/index.ts";
import { type Owner, renderAgentDaemonSet } from "../daemonset/index.ts";
import { DESIRED_HASH_ANNOTATION, desiredHash, isUpToDate, withDesiredHash } from "./desired-daemonset.ts";

const config = parseOperatorConfig({ XDP_COUNTER_NAMESPACE: "xdp", XDP_COUNTER_AGENT_IMAGE: "img:1" });
const owner: Owner = { apiVersion: "apps/v1", kind: "Deployment", name: "xdp-counter-operator", uid: "u1" };

test("the hash is stable for the same rendering and changes with the settings and the owner", () => {
  const base = renderAgentDaemonSet(config, owner);
  assert.equal(desiredHash(base), desiredHash(renderAgentDaemonSet(config, owner)));
  assert.match(desiredHash(base), /^[0-9a-f]{16}$/);
  const others = [
    renderAgentDaemonSet({ ...config, agentImage: "img:2" }, owner),
    renderAgentDaemonSet({ ...config, agentMemoryLimit: "512Mi" }, owner),
    renderAgentDaemonSet({ ...config, agentMaxUnavailable: 1 }, owner),
    renderAgentDaemonSet(config, { ...owner, uid: "u2" }),
    renderAgentDaemonSet(config),
  ];
  for (const other of others) assert.notEqual(desiredHash(other), desiredHash(base));
  const annotated = withDesiredHash(base);
  assert.deepEqual(annotated.metadata.annotations, { [DESIRED_HASH_ANNOTATION]: desiredHash(base) });
  assert.equal(annotated.spec, base.spec);
  assert.equal(
    (base.metadata as { annotations?: unknown }).annotations,
    undefined,
    "the input is not changed",
  );
});

test("a live DaemonSet is up to date exactly when it carries the desired hash", () => {
  const desired = withDesiredHash(renderAgentDaemonSet(config, owner));
  const live = structuredClone(desired) as unknown as KubeObject;
  // The server adds defaults, status and its own annotations: they do not matter.
  (live as { status?: unknown }).status = { desiredNumberScheduled: 3 };
  live.metadata.annotations = {
    ...live.metadata.annotations,
    "deprecated.daemonset.template.generation": "4",
  };
  (live.spec as { revisionHistoryLimit?: number }).revisionHistoryLimit = 10;
  assert.equal(isUpToDate(live, desired), true);
  const otherHash = structuredClone(live);
  otherHash.metadata.annotations = { [DESIRED_HASH_ANNOTATION]: "0000" };
  assert.equal(isUpToDate(otherHash, desired), false);
  const noHash = structuredClone(live);
  delete noHash.metadata.annotations;
  assert.equal(isUpToDate(noHash, desired), false, "one not written by the operator is rewritten");
  const unowned = withDesiredHash(renderAgentDaemonSet(config));
  assert.equal(isUpToDate(live, unowned), false, "the owner is part of the hash");
});
