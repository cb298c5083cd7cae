// Builds kwok from the Go module in this folder into the cache named by binaries.ts: `node e2e/kwok/build.ts`.
// With the cache present it does nothing. The version is stamped as kwok's own release build stamps it
// (hack/releases.sh sets sigs.k8s.io/kwok/pkg/consts.Version and PreRelease), so that `kwok --version` and the
// kwok-<version> that its node stages write into each Node's nodeInfo name the pinned release.
import { buildInto, checkGoVersion, findGo, runMain, seconds } from "../gobuild/gobuild.ts";
import { type KwokBuild, kwokBinariesBuilt, kwokBuild, kwokModuleDir, kwokPackage } from "./binaries.ts";

function log(message: string): void {
  process.stderr.write(`kwok: ${message}\n`);
}

/**
 * The -X flags of upstream's release build: Version is the git tag as it is (v0.8.0), which the Stages' Version
 * function writes into nodeInfo (kwok-v0.8.0); "GA" marks a release, anything else a pre-release.
 */
function versionFlags(version: string): string[] {
  const pkg = "sigs.k8s.io/kwok/pkg/consts";
  return [`-X=${pkg}.Version=${version}`, `-X=${pkg}.PreRelease=GA`];
}

async function build(target: KwokBuild): Promise<void> {
  const go = findGo(kwokModuleDir);
  const goVersion = checkGoVersion(go, kwokModuleDir, "e2e/kwok's module");
  log(`building kwok ${target.version} with Go ${goVersion} into ${target.dir}`);
  const started = Date.now();
  await buildInto({
    go,
    env: { ...process.env },
    dir: target.dir,
    key: target.key,
    binaries: [
      {
        name: "kwok",
        pkg: kwokPackage,
        moduleDir: kwokModuleDir,
        tags: [],
        ldflags: ["-s", "-w", ...versionFlags(target.version)],
      },
    ],
    info: { kwok: target.version, go: goVersion },
    built: () => kwokBinariesBuilt(target),
    log,
  });
  log(`done in ${seconds(Date.now() - started)}: ${target.bin}`);
}

async function main(): Promise<void> {
  const began = performance.now();
  const target = kwokBuild();
  if (kwokBinariesBuilt(target)) {
    log(
      `kwok ${target.version} already built in ${target.bin} ` +
        `(nothing to do, ${Math.round(performance.now() - began)} ms)`,
    );
    return;
  }
  await build(target);
}

if (import.meta.main) runMain(main, log);
