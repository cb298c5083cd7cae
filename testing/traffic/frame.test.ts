import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_FRAME, MIN_FRAME, udpFrame } from "./frame.ts";

const spec = {
  srcMac: "02:00:00:00:00:02",
  dstMac: "02:00:00:00:00:01",
  srcIp: "198.18.0.2",
  dstIp: "198.18.0.1",
};

test("a UDP frame has the requested length and consistent headers", () => {
  const f = udpFrame({ ...spec, length: 100 });
  assert.equal(f.length, 100);
  assert.equal(f.toString("hex", 0, 6), "020000000001");
  assert.equal(f.readUInt16BE(12), 0x0800);
  assert.equal(f.readUInt16BE(16), 86, "IP total length");
  assert.equal(f.readUInt16BE(38), 66, "UDP length");
  // The IPv4 header checksums to zero when the checksum field is included.
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += f.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  assert.equal(sum, 0xffff);
});

test("lengths outside Ethernet's bounds and bad addresses are refused", () => {
  assert.throws(() => udpFrame({ ...spec, length: MIN_FRAME - 1 }), /outside/);
  assert.throws(() => udpFrame({ ...spec, length: MAX_FRAME + 1 }), /outside/);
  assert.throws(() => udpFrame({ ...spec, srcIp: "198.18.0.256", length: 64 }), /bad IPv4/);
  assert.throws(() => udpFrame({ ...spec, dstMac: "02:00", length: 64 }), /bad MAC/);
});
