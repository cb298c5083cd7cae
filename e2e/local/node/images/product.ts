// The product's image for the real nodes, built as the image test builds it (e2e/image: a private Docker
// engine, the debootstrap base, `docker build` of the project's Dockerfile), then `docker save`d into the image
// cache, keyed by what goes into the image: the Dockerfile, the npm lock, the TypeScript configuration, the BPF
// sources, the base's versions, and every module `xdp-counter` runs (agent/cli/bin.ts and all it imports,
// found by following relative imports as tsc does; images.test.ts checks that against tsc). A change to a
// test or a document leaves the key, and the tarball, as they are.
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import {
  BASE_RECIPE,
  DockerEngine,
  ensureBaseRootfs,
  importChanges,
  NODE_VERSION,
  NPM_VERSION,
  SUITE,
} from "../../../image/index.ts";
import {
  type CachedImage,
  cachedTarball,
  inputsKey,
  partialPath,
  pruneTarballs,
  publish,
  removeAbandonedPartials,
} from "./cache.ts";

const root = resolve(import.meta.dirname, "..", "..", "..", "..");
/** The entry the image runs, as tsconfig.build.json names it. */
const ENTRY = "agent/cli/bin.ts";
const FILES = [
  "Dockerfile",
  ".dockerignore",
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  "tsconfig.build.json",
  "scripts/build-js.ts",
];

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g;

/** The project's modules `entry` imports, statically or dynamically, itself included; paths from the root. */
export function moduleClosure(entry: string = ENTRY): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    if (!file.endsWith(".ts")) return;
    const text = readFileSync(join(root, file), "utf8");
    for (const m of text.matchAll(IMPORT)) {
      const target = relative(root, resolve(root, dirname(file), m[1] as string));
      if (existsSync(join(root, target))) visit(target);
    }
  };
  visit(entry);
  return [...seen].sort();
}

function bpfSources(): string[] {
  return readdirSync(join(root, "bpf"))
    .filter((f) => f === "Makefile" || f.endsWith(".c") || f.endsWith(".h"))
    .map((f) => `bpf/${f}`)
    .sort();
}

/** The key of the image the sources in this checkout make. */
export function productImageKey(): string {
  const files = [...FILES, ...bpfSources(), ...moduleClosure()];
  return inputsKey([
    ["base", `${SUITE} node ${NODE_VERSION} npm ${NPM_VERSION} recipe ${BASE_RECIPE}`],
    ...files.map((f): [string, Buffer] => [f, readFileSync(join(root, f))]),
  ]);
}

/** The product image's name and cached tarball, without building it. */
export function productImageRef(key: string = productImageKey()): CachedImage {
  return {
    name: `xdp-counter.local/xdp-counter:${key.slice(0, 12)}`,
    tarball: cachedTarball("xdp-counter", key),
  };
}

/**
 * The product image's name and cached tarball, built first if the cache lacks it (a few minutes: `bash
 * .ci/install` builds it ahead, through images/build.ts).
 */
export async function productImage(log: (line: string) => void = () => {}): Promise<CachedImage> {
  const image = productImageRef();
  if (existsSync(image.tarball)) return image;
  removeAbandonedPartials();
  const began = performance.now();
  const seconds = () => `${((performance.now() - began) / 1000).toFixed(1)} s`;
  const rootfs = ensureBaseRootfs(root, (line) => log(`base: ${line}`));
  log(`base root filesystem ready (${seconds()})`);
  await using engine = await DockerEngine.start();
  const base = `xdp-counter-base:${process.pid}`;
  engine.check(["import", ...importChanges().flatMap((c) => ["--change", c]), rootfs, base]);
  const buildLog = join(engine.dir, "build.log");
  // as the image test builds it: the engine has no bridge, so RUN steps use the host's network (apt, npm);
  // the classic builder is the one docker.io 20.10 runs without pulling anything
  const code = await engine.stream(
    ["build", "--network", "host", "--build-arg", `BASE_IMAGE=${base}`, "--tag", image.name, root],
    buildLog,
    { DOCKER_BUILDKIT: "0" },
  );
  if (code !== 0)
    throw new Error(
      `docker build failed:\n${readFileSync(buildLog, "utf8").trim().split("\n").slice(-40).join("\n")}`,
    );
  log(`docker build done (${seconds()})`);
  const partial = partialPath(image.tarball);
  try {
    engine.check(["save", "--output", partial, image.name]);
    publish(partial, image.tarball);
  } finally {
    rmSync(partial, { force: true });
  }
  log(`product image ${image.name} saved to ${image.tarball} (${seconds()})`);
  for (const path of pruneTarballs("xdp-counter")) log(`removed an older product image: ${path}`);
  return image;
}
