// Where build.ts puts kwok, and the lookup tests and benchmarks use. The cache is outside the clone, keyed by
// kwok's release and a hash of this folder's go.mod and go.sum, so that a change of any pinned version builds
// into a new folder. A test never builds: a missing binary is an error that says how to build it.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pinnedVersion } from "../kube/binaries.ts";

/** The one binary built here: the kwok controller (kwokctl, which runs clusters of its own, is not needed). */
export const kwokPackage = "sigs.k8s.io/kwok/cmd/kwok";

/** The folder holding the Go module (this folder). */
export const kwokModuleDir: string = import.meta.dirname;

/** The default cache root; `XDP_COUNTER_KWOK_CACHE` replaces it. */
export const defaultKwokCacheRoot = "/var/cache/xdp-counter/kwok";

export interface KwokBuild {
  /** The module version, which is kwok's release tag, e.g. v0.8.0. */
  version: string;
  /** `<version>-<first 16 hex digits of the sha256 of go.mod and go.sum>`. */
  key: string;
  dir: string;
  bin: string;
}

export function kwokBuild(): KwokBuild {
  const hash = createHash("sha256");
  for (const file of ["go.mod", "go.sum"]) {
    // the name too, so that moving a line from one file to the other changes the key
    hash.update(`${file}\0`);
    hash.update(readFileSync(join(kwokModuleDir, file)));
    hash.update("\0");
  }
  const version = pinnedVersion(readFileSync(join(kwokModuleDir, "go.mod"), "utf8"), "sigs.k8s.io/kwok");
  const key = `${version}-${hash.digest("hex").slice(0, 16)}`;
  const dir = join(process.env.XDP_COUNTER_KWOK_CACHE || defaultKwokCacheRoot, key);
  return { version, key, dir, bin: join(dir, "bin") };
}

export function kwokBinariesBuilt(build: KwokBuild = kwokBuild()): boolean {
  return existsSync(join(build.bin, "kwok"));
}

/** The absolute path of the built kwok; throws if it is not built (a test never builds). */
export function kwokBinary(): string {
  const build = kwokBuild();
  const path = join(build.bin, "kwok");
  if (!existsSync(path)) {
    throw new Error(
      `kwok ${build.version} not built: run \`bash .ci/install\` (or \`node e2e/kwok/build.ts\`); ` +
        `looked for ${path}`,
    );
  }
  return path;
}
