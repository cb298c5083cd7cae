#!/usr/bin/env node
// Sends exactly --count UDP frames of --length bytes out of --iface with the XDP live-frames generator, and
// prints {"sent": N, "durationNs": "…", "wallNs": "…"}. Run it inside the sending interface's network namespace
// (nsenter --net=/run/netns/NAME). Used by the tests, the demo and the benchmarks.
import { parseArgs } from "node:util";
import { udpFrame } from "./frame.ts";
import { TrafficGenerator } from "./generator.ts";

const { values } = parseArgs({
  options: {
    iface: { type: "string" },
    "src-mac": { type: "string" },
    "dst-mac": { type: "string" },
    "src-ip": { type: "string" },
    "dst-ip": { type: "string" },
    length: { type: "string", default: "64" },
    count: { type: "string" },
    batch: { type: "string", default: "64" },
  },
});
const need = (name: keyof typeof values): string => {
  const v = values[name];
  if (typeof v !== "string") {
    process.stderr.write(`send: --${name} is required\n`);
    process.exit(2);
  }
  return v;
};
try {
  const frame = udpFrame({
    srcMac: need("src-mac"),
    dstMac: need("dst-mac"),
    srcIp: need("src-ip"),
    dstIp: need("dst-ip"),
    length: Number(need("length")),
  });
  using gen = new TrafficGenerator();
  const result = gen.send(need("iface"), frame, Number(need("count")), Number(need("batch")));
  process.stdout.write(
    `${JSON.stringify({
      sent: result.sent,
      durationNs: result.durationNs.toString(),
      wallNs: result.wallNs.toString(),
    })}\n`,
  );
} catch (err) {
  process.stderr.write(`send: ${(err as Error).message}\n`);
  process.exit(1);
}
