// The node entry's size, before and after zero actions were left out (docs/adr/0001 "Keeping the status
// small"), on kube-apiserver and etcd: the numbers are printed as test diagnostics, and bounded loosely so that
// a change that grows the entry again is noticed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { entrySizeTable, measureEntrySizes } from "./entry-size.ts";

test("a node entry with one interface and one action is some 500 B of the object, not 800", async (t) => {
  const rows = await measureEntrySizes();
  t.diagnostic(`\n${entrySizeTable(rows)}`);
  const size = (counters: string, format: string) => {
    const row = rows.find((r) => r.counters === counters && r.format === format);
    assert.ok(row, `${counters}, ${format} measured`);
    return row;
  };
  for (const counters of ["pass", "pass and drop"]) {
    const before = size(counters, "all five actions");
    const now = size(counters, "zero actions left out");
    assert.ok(now.objectBytesPerEntry < before.objectBytesPerEntry - 200, `${counters}: 200 B smaller`);
    assert.ok(now.entryBytes < before.entryBytes);
  }
  const one = size("pass", "zero actions left out");
  assert.ok(one.objectBytesPerEntry <= 520, `${one.objectBytesPerEntry} B per entry`);
  assert.ok(one.nodesUnderLimit >= 3_000, `${one.nodesUnderLimit} nodes under the limit`);
  assert.ok(one.nodesUnderLimit < 5_000, "5,000 nodes do not fit: the ADR says so");
});
