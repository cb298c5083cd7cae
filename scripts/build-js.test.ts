// `npm run build:js`: dist/ holds JavaScript only, runs without Node.js's type stripper, and finds the files
// its modules open relative to themselves.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { before, describe, it } from "node:test";
import { ASSETS, buildJs, DIST, DIST_BIN } from "./build-js.ts";

function files(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files(path, out);
    else out.push(relative(DIST, path));
  }
  return out;
}

/** The compiled CLI with type stripping off: any .ts module it loaded would fail to load. */
function run(args: string[]) {
  return spawnSync(process.execPath, ["--no-experimental-strip-types", DIST_BIN, ...args], {
    encoding: "utf8",
  });
}

describe("npm run build:js", () => {
  before(() => buildJs());

  it("emits the entry and what it imports, as JavaScript, without tests or test tooling", () => {
    const all = files(DIST);
    assert.ok(all.includes("agent/cli/bin.js"));
    assert.ok(all.includes("agent/cluster/main.js"), "the agent, imported on demand");
    assert.ok(all.includes("operator/run-operator.js"), "the operator, imported on demand");
    const unexpected = all.filter((f) => !f.endsWith(".js") && !ASSETS.includes(f));
    assert.deepEqual(unexpected, [], "JavaScript and the assets only");
    for (const f of all) {
      assert.doesNotMatch(f, /\.test\.js$|^(e2e|bench|scripts|testing)\//, f);
      if (!f.endsWith(".js")) continue;
      const text = readFileSync(join(DIST, f), "utf8");
      assert.doesNotMatch(
        text,
        /from "\.{1,2}\/[^"]*\.ts"|import\("\.{1,2}\/[^"]*\.ts"\)/,
        `${f} imports a .ts file`,
      );
    }
    assert.equal(statSync(DIST_BIN).mode & 0o111, 0o111, "the entry is executable");
  });

  it("copies the files the compiled modules open relative to themselves", async () => {
    for (const asset of ASSETS) assert.ok(existsSync(join(DIST, asset)), asset);
    const layout = (await import(join(DIST, "agent", "bpf", "layout.js"))) as { DEFAULT_OBJECT_PATH: string };
    assert.equal(layout.DEFAULT_OBJECT_PATH, join(DIST, "bpf", "xdp_counter.o"));
    assert.ok(existsSync(layout.DEFAULT_OBJECT_PATH));
  });

  it("runs the CLI, the agent and the operator entries without the type stripper", () => {
    for (const args of [["--help"], ["agent", "--help"], ["operator", "--help"]]) {
      const r = run(args);
      assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stdout, /xdp-counter/, args.join(" "));
    }
  });
});
