// Leader election through a Lease on the test API server: one leader at a time, a released Lease is taken
// over at once, an abandoned one after its duration.
import assert from "node:assert/strict";
import { test } from "node:test";
import { type KubeObject, LeaderElector, leasesPath } from "../../runtime/kube/index.ts";
import { eventually, NAMESPACE, startCluster } from "./harness.ts";

test("one replica leads; a released Lease passes to the other at once, an abandoned one after its duration", async (t) => {
  const cluster = await startCluster();
  t.after(() => cluster.stop());
  const make = (identity: string) =>
    new LeaderElector({
      client: cluster.admin,
      namespace: NAMESPACE,
      name: "xdp-counter-operator",
      identity,
      leaseDurationMs: 1_000,
      renewDeadlineMs: 800,
      retryPeriodMs: 100,
    });
  const holder = async () =>
    ((await cluster.admin.get(leasesPath(NAMESPACE, "xdp-counter-operator"))) as KubeObject | undefined)
      ?.spec as { holderIdentity?: string; leaseTransitions?: number } | undefined;

  const a = make("a");
  const b = make("b");
  t.after(async () => {
    await a.stop();
    await b.stop();
  });
  const led: string[] = [];
  const runA = a.run(
    () => led.push("a"),
    () => led.push("a lost"),
  );
  await eventually(() => a.isLeader, "a leads");
  const runB = b.run(
    () => led.push("b"),
    () => led.push("b lost"),
  );
  await new Promise((r) => setTimeout(r, 1_500));
  assert.deepEqual(led, ["a"], "b waits while a renews");
  assert.equal((await holder())?.holderIdentity, a.identity);

  await a.stop();
  await runA;
  await eventually(() => b.isLeader, "b takes over after a released the Lease", 1_000);
  assert.deepEqual(led, ["a", "b"]);
  assert.equal((await holder())?.holderIdentity, b.identity);
  assert.equal((await holder())?.leaseTransitions, 1);

  // c finds b's Lease fresh; b stops and releases it, so c takes it at once.
  const c = make("c");
  assert.equal(await c.tryAcquireOrRenew(), false);
  await b.stop();
  assert.equal((await holder())?.holderIdentity, "", "b released on stop");
  assert.equal(await c.tryAcquireOrRenew(), true);
  // c never renews (as if it crashed): d takes over only after the lease duration.
  const d = make("d");
  assert.equal(await d.tryAcquireOrRenew(), false, "c's Lease is fresh for d");
  await new Promise((r) => setTimeout(r, 1_100));
  assert.equal(await d.tryAcquireOrRenew(), true, "c stopped renewing: d takes over after the duration");
  await runB;
});
