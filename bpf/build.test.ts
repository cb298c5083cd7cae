// The build's own failure: without clang, `make -C bpf` says what to install instead of a bare "not found".
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";

test("a missing clang is a clear error naming the packages to install", () => {
  const r = spawnSync("make", ["-C", import.meta.dirname, "CLANG=clang-that-does-not-exist"], {
    encoding: "utf8",
  });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /'clang-that-does-not-exist' not found/);
  assert.match(r.stderr, /apt-get install -y clang llvm libbpf-dev/);
});
