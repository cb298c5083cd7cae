// Builds Ethernet/IPv4/UDP frames byte by byte, for the traffic generator and the tests.
export interface FrameSpec {
  srcMac: string;
  dstMac: string;
  srcIp: string;
  dstIp: string;
  srcPort?: number;
  dstPort?: number;
  /** the whole frame's length in bytes, Ethernet header included (no FCS): 42 at the least */
  length: number;
}

const ETH_HLEN = 14;
const IP_HLEN = 20;
const UDP_HLEN = 8;
export const MIN_FRAME = ETH_HLEN + IP_HLEN + UDP_HLEN;
export const MAX_FRAME = 1514;

function mac(text: string): Buffer {
  const parts = text.split(":");
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-f]{2}$/i.test(p)))
    throw new Error(`bad MAC address ${text}`);
  return Buffer.from(parts.map((p) => Number.parseInt(p, 16)));
}

function ipv4(text: string): Buffer {
  const parts = text.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
    throw new Error(`bad IPv4 address ${text}`);
  return Buffer.from(parts);
}

/** The internet checksum (RFC 1071) of a header. */
function checksum(buf: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length % 2) sum += (buf[buf.length - 1] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function udpFrame(spec: FrameSpec): Buffer {
  if (!Number.isInteger(spec.length) || spec.length < MIN_FRAME || spec.length > MAX_FRAME) {
    throw new Error(`frame length ${spec.length} is outside ${MIN_FRAME}..${MAX_FRAME}`);
  }
  const frame = Buffer.alloc(spec.length);
  mac(spec.dstMac).copy(frame, 0);
  mac(spec.srcMac).copy(frame, 6);
  frame.writeUInt16BE(0x0800, 12); // IPv4

  const ip = frame.subarray(ETH_HLEN, ETH_HLEN + IP_HLEN);
  ip[0] = 0x45; // version 4, 5 words
  ip.writeUInt16BE(spec.length - ETH_HLEN, 2); // total length
  ip.writeUInt16BE(0x4000, 6); // don't fragment
  ip[8] = 64; // TTL
  ip[9] = 17; // UDP
  ipv4(spec.srcIp).copy(ip, 12);
  ipv4(spec.dstIp).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);

  const udp = frame.subarray(ETH_HLEN + IP_HLEN);
  udp.writeUInt16BE(spec.srcPort ?? 9, 0);
  udp.writeUInt16BE(spec.dstPort ?? 9, 2); // discard
  udp.writeUInt16BE(spec.length - ETH_HLEN - IP_HLEN, 4);
  // checksum 0: none, which IPv4 allows for UDP
  return frame;
}
