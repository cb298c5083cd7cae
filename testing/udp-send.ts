#!/usr/bin/env node
// Sends real UDP datagrams through the network stack, so that frames up to a jumbo MTU cross a veth pair
// (the XDP live-frames generator cannot send frames larger than a page). Run it inside the sending
// namespace: node testing/udp-send.ts --src IP --dst IP --frames 64:100,1500:100,9000:50
// `64:100` is 100 frames of 64 bytes on the wire (Ethernet, IPv4 and UDP headers included). Prints
// {"sent": N, "bytes": B}. Sends in small bursts with a pause between, so no queue on the way overflows.
import { createSocket } from "node:dgram";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";

/** Ethernet (14) + IPv4 (20) + UDP (8): what a frame carries besides the payload. */
export const UDP_FRAME_OVERHEAD = 42;

const { values } = parseArgs({
  options: { src: { type: "string" }, dst: { type: "string" }, frames: { type: "string" } },
});
if (!values.src || !values.dst || !values.frames) {
  process.stderr.write("udp-send: --src, --dst and --frames are required\n");
  process.exit(2);
}
const plan = values.frames.split(",").map((part) => {
  const [size, count] = part.split(":").map(Number);
  if (!size || size < 60 || !Number.isInteger(count)) {
    process.stderr.write(`udp-send: bad --frames part ${part} (SIZE:COUNT, SIZE >= 60)\n`);
    process.exit(2);
  }
  return { size, count: count as number };
});

const socket = createSocket("udp4");
await new Promise<void>((resolve) => socket.bind({ address: values.src }, resolve));
const send = (payload: Buffer): Promise<void> =>
  new Promise((resolve, reject) =>
    socket.send(payload, 9, values.dst, (err) => (err ? reject(err) : resolve())),
  );
let sent = 0;
let bytes = 0;
for (const { size, count } of plan) {
  const payload = Buffer.alloc(size - UDP_FRAME_OVERHEAD, 0x5a);
  for (let i = 0; i < count; i++) {
    await send(payload);
    sent++;
    bytes += size;
    if (sent % 16 === 0) await sleep(1);
  }
}
socket.close();
process.stdout.write(`${JSON.stringify({ sent, bytes })}\n`);
