// The sizes of one report and of the XdpCounter's status (docs/adr/0022), on kube-apiserver and etcd: printed as
// test diagnostics, and bounded loosely so that a change that grows them again is noticed. The status must not
// grow with the nodes: 5,000 reports make a status of the same size as 3.
import assert from "node:assert/strict";
import { test } from "node:test";
import { measureSizes, sizeTables } from "./entry-size.ts";

test("one report is ~2 KiB stored; the status is the same size at 3 and at 5,000 nodes", async (t) => {
  const sizes = await measureSizes();
  t.diagnostic(`\n${sizeTables(sizes)}`);
  const one = sizes.reports.find((r) => r.counters === "pass" && r.interfaces === 1);
  assert.ok(one, "one interface, one action measured");
  assert.ok(one.bodyBytes < 1_200, `${one.bodyBytes} B apply body`);
  assert.ok(one.storedBytes < 3_000, `${one.storedBytes} B stored`);
  const most = Math.max(...sizes.reports.map((r) => r.storedBytes));
  assert.ok(most < 100_000, `a report of 64 interfaces is ${most} B, far under etcd's limit`);
  for (const c of ["every node counting", "every node in error"]) {
    const at = (n: number) => sizes.status.find((s) => s.case === c && s.reports === n);
    const small = at(3);
    const large = at(5_000);
    assert.ok(small && large, `${c}: 3 and 5,000 reports measured`);
    // the totals and rates have a few more digits at 5,000 nodes; the conditions name at most 5 nodes (all 3 of
    // 3) and count the rest: bounded, whatever the node count
    assert.ok(
      large.statusBytes - small.statusBytes < 400,
      `${c}: ${small.statusBytes} → ${large.statusBytes} B`,
    );
    assert.ok(large.storedBytes < 8_000, `${c}: ${large.storedBytes} B stored`);
  }
});
