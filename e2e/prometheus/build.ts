// Builds Prometheus and promtool from the Go module in this folder into the cache named by binaries.ts:
// `node e2e/prometheus/build.ts`. With the cache present it does nothing. Only Kubernetes service discovery is
// compiled in (Prometheus' own build tags `remove_all_sd,enable_kubernetes_sd`): the tests discover targets
// from the API server and nothing else, and the cloud SDKs are most of a full build's time.
import {
  BuildError,
  buildInto,
  checkGoVersion,
  findGo,
  goEnv,
  runGo,
  runMain,
  seconds,
} from "../gobuild/gobuild.ts";
import {
  type PrometheusBuild,
  prometheusBinaries,
  prometheusBinariesBuilt,
  prometheusBuild,
  prometheusModuleDir,
} from "./binaries.ts";

function log(message: string): void {
  process.stderr.write(`prometheus: ${message}\n`);
}

/** The release's tag time from the module proxy, as the build date: stable across rebuilds. */
async function releaseTime(go: string, env: NodeJS.ProcessEnv): Promise<string> {
  try {
    const out = await runGo(
      go,
      ["list", "-m", "-json", "github.com/prometheus/prometheus"],
      prometheusModuleDir,
      env,
    );
    const time = (JSON.parse(out) as { Time?: string }).Time;
    return time ? time.replace(/\.\d+Z$/, "Z") : "19700101-00:00:00";
  } catch (err) {
    const proxy = goEnv(go, "GOPROXY") || "(GOPROXY empty)";
    throw new BuildError(
      `could not resolve github.com/prometheus/prometheus through GOPROXY=${proxy}; is the module proxy ` +
        `reachable from here?\n${(err as Error).message}`,
    );
  }
}

/** What `prometheus --version` and the build_info metric say, as upstream's release build stamps it. */
function versionFlags(release: string, buildDate: string): string[] {
  const pkg = "github.com/prometheus/common/version";
  return [
    `-X=${pkg}.Version=${release}`,
    `-X=${pkg}.Revision=`,
    `-X=${pkg}.Branch=release-${release.split(".").slice(0, 2).join(".")}`,
    `-X=${pkg}.BuildUser=xdp-counter`,
    `-X=${pkg}.BuildDate=${buildDate}`,
  ];
}

async function build(target: PrometheusBuild): Promise<void> {
  const go = findGo(prometheusModuleDir);
  const goVersion = checkGoVersion(go, prometheusModuleDir, "e2e/prometheus's module");
  const env: NodeJS.ProcessEnv = { ...process.env };
  log(
    `building Prometheus ${target.release} (module ${target.module}) with Go ${goVersion} into ${target.dir}`,
  );
  const started = Date.now();
  const ldflags = ["-s", "-w", ...versionFlags(target.release, await releaseTime(go, env))];
  await buildInto({
    go,
    env,
    dir: target.dir,
    key: target.key,
    binaries: Object.entries(prometheusBinaries).map(([name, pkg]) => ({
      name,
      pkg,
      moduleDir: prometheusModuleDir,
      // upstream's netgo; not builtinassets (the web UI, whose compiled assets the module does not hold: the
      // tests use the HTTP API); the SD tags keep Kubernetes discovery only
      tags: ["netgo", "remove_all_sd", "enable_kubernetes_sd"],
      ldflags,
    })),
    info: { prometheus: target.release, module: target.module, go: goVersion },
    built: () => prometheusBinariesBuilt(target),
    log,
  });
  log(`done in ${seconds(Date.now() - started)}: ${target.bin}`);
}

async function main(): Promise<void> {
  const began = performance.now();
  const target = prometheusBuild();
  if (prometheusBinariesBuilt(target)) {
    log(
      `Prometheus ${target.release} already built in ${target.bin} ` +
        `(nothing to do, ${Math.round(performance.now() - began)} ms)`,
    );
    return;
  }
  await build(target);
}

if (import.meta.main) runMain(main, log);
