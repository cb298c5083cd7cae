// The user-space mirror (layout.ts) against the compiled object's BTF: sizes and the map's shape.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { CONFIG_SIZE, DEFAULT_OBJECT_PATH, REC_SIZE, XDP_ACTIONS } from "./layout.ts";

const btf = execFileSync("bpftool", ["btf", "dump", "file", DEFAULT_OBJECT_PATH, "format", "raw"], {
  encoding: "utf8",
});

function structSize(name: string): number {
  const m = new RegExp(`STRUCT '${name}' size=(\\d+)`).exec(btf);
  assert.ok(m, `no struct ${name} in the object's BTF`);
  return Number(m[1]);
}

test("struct sizes match the C header", () => {
  assert.equal(structSize("xdp_counter_rec"), REC_SIZE);
  assert.equal(structSize("xdp_counter_config"), CONFIG_SIZE);
});

test("the stats map has one slot per XDP action", () => {
  // BTF-style maps encode max_entries as an array type's length: __uint(max_entries, N) is int (*)[N].
  const map = /STRUCT '\(anon\)' size=32 vlen=4\n\s+'type'.*\n\s+'max_entries' type_id=(\d+)/.exec(btf);
  assert.ok(map, "no BTF map definition found");
  const ptr = new RegExp(`^\\[${map[1]}\\] PTR '\\(anon\\)' type_id=(\\d+)`, "m").exec(btf);
  assert.ok(ptr);
  const arr = new RegExp(
    `^\\[${ptr[1]}\\] ARRAY '\\(anon\\)' type_id=\\d+ index_type_id=\\d+ nr_elems=(\\d+)`,
    "m",
  ).exec(btf);
  assert.ok(arr);
  assert.equal(Number(arr[1]), XDP_ACTIONS.length);
});
