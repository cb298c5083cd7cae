// Where build.ts puts Prometheus and promtool, and the lookup tests use. The cache is outside the clone, keyed by
// the Prometheus release and a hash of this folder's go.mod and go.sum, so a change of any pinned version builds
// into a new folder. A test never builds: a missing binary is an error that says how to build it.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pinnedVersion } from "../kube/binaries.ts";

export const prometheusBinaries = {
  prometheus: "github.com/prometheus/prometheus/cmd/prometheus",
  promtool: "github.com/prometheus/prometheus/cmd/promtool",
} as const;

export type PrometheusBinary = keyof typeof prometheusBinaries;

/** The folder holding the Go module (this folder). */
export const prometheusModuleDir: string = import.meta.dirname;

/** The default cache root; `XDP_COUNTER_PROMETHEUS_CACHE` replaces it. */
export const defaultPrometheusCacheRoot = "/var/cache/xdp-counter/prometheus";

export interface PrometheusBuild {
  /** The module version, e.g. v0.316.0. */
  module: string;
  /** The Prometheus release it is, e.g. 3.16.0. */
  release: string;
  /** `<release>-<first 16 hex digits of the sha256 of go.mod and go.sum>`. */
  key: string;
  dir: string;
  bin: string;
}

/** Prometheus' module versions v0.MMm.p are its releases M.mm.p (v0.316.0 is 3.16.0). */
export function releaseOf(moduleVersion: string): string {
  const match = /^v0\.(\d)(\d\d)\.(\d+)$/.exec(moduleVersion);
  if (!match) throw new Error(`unexpected Prometheus module version ${moduleVersion}`);
  return `${Number(match[1])}.${Number(match[2])}.${match[3]}`;
}

export function prometheusBuild(): PrometheusBuild {
  const hash = createHash("sha256");
  for (const file of ["go.mod", "go.sum"]) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(join(prometheusModuleDir, file)));
    hash.update("\0");
  }
  const module = pinnedVersion(
    readFileSync(join(prometheusModuleDir, "go.mod"), "utf8"),
    "github.com/prometheus/prometheus",
  );
  const release = releaseOf(module);
  const key = `${release}-${hash.digest("hex").slice(0, 16)}`;
  const dir = join(process.env.XDP_COUNTER_PROMETHEUS_CACHE || defaultPrometheusCacheRoot, key);
  return { module, release, key, dir, bin: join(dir, "bin") };
}

export function prometheusBinariesBuilt(build: PrometheusBuild = prometheusBuild()): boolean {
  return Object.keys(prometheusBinaries).every((name) => existsSync(join(build.bin, name)));
}

/** The absolute path of a built binary; throws if it is not built (a test never builds). */
export function prometheusBinary(name: PrometheusBinary): string {
  const build = prometheusBuild();
  const path = join(build.bin, name);
  if (!existsSync(path)) {
    throw new Error(
      `${name} (Prometheus ${build.release}) not built: run \`bash .ci/install\` ` +
        `(or \`node e2e/prometheus/build.ts\`); looked for ${path}`,
    );
  }
  return path;
}
