import assert from "node:assert/strict";
import { test } from "node:test";
import { zeroCounters } from "../bpf/index.ts";
import { countersJson, rates, table } from "./format.ts";

test("JSON keeps u64 counters exact as decimal strings", () => {
  const c = zeroCounters();
  c.pass = { packets: 2n ** 53n + 1n, bytes: 2n ** 64n - 1n };
  const round = JSON.parse(JSON.stringify(countersJson(c))) as ReturnType<typeof countersJson>;
  assert.equal(BigInt(round.pass.packets), 2n ** 53n + 1n);
  assert.equal(round.pass.bytes, "18446744073709551615");
});

test("rates are per second between two samples, and zero on the first", () => {
  const a = zeroCounters();
  const b = zeroCounters();
  b.drop = { packets: 1000n, bytes: 64_000n };
  assert.deepEqual(rates(undefined, b, 0).drop, { pps: 0, bps: 0 });
  assert.deepEqual(rates(a, b, 2).drop, { pps: 500, bps: 256_000 });
});

test("the table has a row per interface and action with grouped digits and SI rates", () => {
  const c = zeroCounters();
  c.pass = { packets: 1_234_567n, bytes: 79_012_288n };
  const prev = zeroCounters();
  const text = table([{ iface: "eth0", mode: "native", action: "pass", attached: true, counters: c }], () =>
    rates(prev, c, 1),
  );
  const lines = text.split("\n");
  assert.equal(lines.length, 6);
  assert.match(
    lines[0] ?? "",
    /^INTERFACE\s+MODE\s+VERDICT\s+ACTION\s+PACKETS\s+BYTES\s+PACKETS\/S\s+BITS\/S$/,
  );
  assert.match(lines[1] ?? "", /^eth0\s+native\s+pass\s+aborted\s+0\s+0/);
  const pass = lines.find((l) => /\spass\s+1,234,567/.test(l));
  assert.ok(pass, text);
  assert.match(pass, /79,012,288\s+1\.23 Mpps\s+632\.10 Mbit\/s$/);
});
