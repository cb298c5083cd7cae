// What the kernel says about a program, a link or a map: the prefixes of struct bpf_prog_info,
// bpf_link_info and bpf_map_info (linux/bpf.h) that xdp-counter uses. The kernel fills in at most the
// length asked for, so asking for a prefix is always valid.
import { BpfError, BpfErrorCode, check, codeFor } from "./errors.ts";
import { decodeConfigAction, RODATA_SUFFIX, type XdpAction } from "./layout.ts";
import { errno, koffiAddress, native } from "./libbpf.ts";

export interface ProgInfo {
  id: number;
  type: number;
  name: string;
  /** the program's tag: a hash of its instructions, as bpftool shows it */
  tag: string;
  mapIds: number[];
}

export interface LinkInfo {
  id: number;
  type: number;
  progId: number;
  /** for an XDP link: the interface, or 0 once the interface is gone */
  ifindex: number;
}

export interface MapInfo {
  id: number;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  name: string;
}

const cString = (buf: Buffer, offset: number, max: number): string => {
  const raw = buf.subarray(offset, offset + max);
  const end = raw.indexOf(0);
  return raw.toString("utf8", 0, end < 0 ? max : end);
};

function getInfo(fd: number, size: number, what: string, prepare?: (buf: Buffer) => void): Buffer {
  const buf = Buffer.alloc(size);
  prepare?.(buf);
  const len = [size];
  check(native.bpf_obj_get_info_by_fd(fd, buf, len), {
    code: BpfErrorCode.ReadFailed,
    op: `read ${what} info`,
  });
  return buf;
}

export function progInfo(fd: number): ProgInfo {
  const MAX_MAPS = 16;
  const mapIds = Buffer.alloc(4 * MAX_MAPS);
  const buf = getInfo(fd, 80, "program", (b) => {
    b.writeUInt32LE(MAX_MAPS, 52); // nr_map_ids
    b.writeBigUInt64LE(BigInt(koffiAddress(mapIds)), 56); // map_ids
  });
  const nrMaps = Math.min(buf.readUInt32LE(52), MAX_MAPS);
  return {
    type: buf.readUInt32LE(0),
    id: buf.readUInt32LE(4),
    tag: buf.subarray(8, 16).toString("hex"),
    name: cString(buf, 64, 16),
    mapIds: Array.from({ length: nrMaps }, (_, i) => mapIds.readUInt32LE(4 * i)),
  };
}

export function linkInfo(fd: number): LinkInfo {
  const buf = getInfo(fd, 24, "link");
  return {
    type: buf.readUInt32LE(0),
    id: buf.readUInt32LE(4),
    progId: buf.readUInt32LE(8),
    ifindex: buf.readUInt32LE(16),
  };
}

export function mapInfo(fd: number): MapInfo {
  const buf = getInfo(fd, 40, "map");
  return {
    type: buf.readUInt32LE(0),
    id: buf.readUInt32LE(4),
    keySize: buf.readUInt32LE(8),
    valueSize: buf.readUInt32LE(12),
    maxEntries: buf.readUInt32LE(16),
    name: cString(buf, 24, 16),
  };
}

/** Runs `use` with an fd for a kernel object id, closing it afterwards. */
function withFdById<T>(id: number, kind: "prog" | "map", use: (fd: number) => T): T {
  const fd = kind === "prog" ? native.bpf_prog_get_fd_by_id(id) : native.bpf_map_get_fd_by_id(id);
  if (fd < 0) {
    const err = -fd || errno();
    throw new BpfError({
      code: codeFor(err, BpfErrorCode.ReadFailed),
      op: `open ${kind} id ${id}`,
      errno: err,
    });
  }
  try {
    return use(fd);
  } finally {
    native.close(fd);
  }
}

export const progInfoById = (id: number): ProgInfo => withFdById(id, "prog", progInfo);

/**
 * The action a loaded xdp-counter program returns, read from its own .rodata in the kernel; undefined for a
 * program without one (so: not ours).
 */
export function programAction(progId: number): XdpAction | undefined {
  const info = progInfoById(progId);
  for (const mapId of info.mapIds) {
    const action = withFdById(mapId, "map", configAction);
    if (action) return action;
  }
  return undefined;
}

/** The action in an xdp-counter program's .rodata map; undefined for another map. */
export function configAction(fd: number): XdpAction | undefined {
  const info = mapInfo(fd);
  if (!info.name.endsWith(RODATA_SUFFIX)) return undefined;
  const value = Buffer.alloc(info.valueSize);
  check(native.bpf_map_lookup_elem(fd, Buffer.alloc(4), value), {
    code: BpfErrorCode.ReadFailed,
    op: "read .rodata",
  });
  return decodeConfigAction(value);
}
