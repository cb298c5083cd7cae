// Why a counter that `auto` attached runs generic rather than native, kept beside its pins: a restarted CLI
// or agent that adopts the counter reports the same reason, in the kernel's words, without asking the driver
// again (it cannot: native and generic XDP never run on one interface at once). bpffs holds only BPF
// objects, so the note is a one-slot BPF array map holding the refusal as JSON. `bpftool map dump pinned
// …/fallback` shows it.
import { rmSync } from "node:fs";
import { BpfError, BpfErrorCode, check } from "./errors.ts";
import { mapInfo } from "./info.ts";
import { BPF_MAP_TYPE_ARRAY } from "./layout.ts";
import { errno, native } from "./libbpf.ts";
import { type NativeRefusal, NativeRefusalReason } from "./native-refusal.ts";
import { openPin, pin } from "./pins.ts";

/** Bytes of the note's one value: the refusal's JSON, NUL-padded. Messages are cut to fit. */
const NOTE_SIZE = 1024;
const KEY = Buffer.alloc(4);
const REASONS: ReadonlySet<string> = new Set(Object.values(NativeRefusalReason));

export function encodeNote(refusal: NativeRefusal): Buffer {
  const value = Buffer.alloc(NOTE_SIZE);
  let message = refusal.message;
  let json = JSON.stringify({ reason: refusal.reason, message });
  while (Buffer.byteLength(json) > NOTE_SIZE - 1) {
    message = `${message.slice(0, message.length - 16)}…`;
    json = JSON.stringify({ reason: refusal.reason, message });
  }
  value.write(json, "utf8");
  return value;
}

export function decodeNote(value: Buffer): NativeRefusal | undefined {
  const end = value.indexOf(0);
  try {
    const note = JSON.parse(
      value.toString("utf8", 0, end < 0 ? value.length : end),
    ) as Partial<NativeRefusal>;
    if (typeof note.reason === "string" && REASONS.has(note.reason) && typeof note.message === "string") {
      return { reason: note.reason as NativeRefusal["reason"], message: note.message };
    }
  } catch {
    // not a note of ours: treated as no note
  }
  return undefined;
}

/** Pins a note at `path`, replacing any earlier one. */
export function writeFallbackNote(path: string, refusal: NativeRefusal): void {
  const fd = native.bpf_map_create(BPF_MAP_TYPE_ARRAY, "xdpc_fallback", 4, NOTE_SIZE, 1, null);
  if (fd < 0) {
    throw new BpfError({ code: BpfErrorCode.PinFailed, op: "create fallback note", errno: -fd || errno() });
  }
  try {
    check(native.bpf_map_update_elem(fd, KEY, encodeNote(refusal), 0n), {
      code: BpfErrorCode.PinFailed,
      op: "write fallback note",
    });
    pin(fd, path);
  } finally {
    native.close(fd);
  }
}

/** The note pinned at `path`, or undefined when there is none (or it is not ours). */
export function readFallbackNote(path: string): NativeRefusal | undefined {
  const fd = openPin(path);
  if (fd === undefined) return undefined;
  try {
    const info = mapInfo(fd);
    if (info.type !== BPF_MAP_TYPE_ARRAY || info.valueSize !== NOTE_SIZE) return undefined;
    const value = Buffer.alloc(NOTE_SIZE);
    if (native.bpf_map_lookup_elem(fd, KEY, value) < 0) return undefined;
    return decodeNote(value);
  } finally {
    native.close(fd);
  }
}

export function removeFallbackNote(path: string): void {
  rmSync(path, { force: true });
}
