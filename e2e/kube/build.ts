// Builds the Kubernetes control plane and node binaries (and etcd) from the Go modules in this folder into the
// cache named by binaries.ts: `node e2e/kube/build.ts`. With the cache present it does nothing. A build goes
// into a temporary folder beside the cache entry and is renamed into place only when every binary is there, so
// an interrupted build is never taken for a finished one (e2e/gobuild). Progress goes to stderr, one line per
// binary.
import { join } from "node:path";
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
  type KubeBinary,
  type KubeBuild,
  kubeBinaries,
  kubeBinariesBuilt,
  kubeBuild,
  kubeModuleDir,
} from "./binaries.ts";

function log(message: string): void {
  process.stderr.write(`kube: ${message}\n`);
}

/** Downloads every module both modules need, turning a failure into a sentence about the proxy. */
async function download(go: string, env: NodeJS.ProcessEnv): Promise<void> {
  for (const module of [".", "etcd"]) {
    try {
      await runGo(go, ["mod", "download"], join(kubeModuleDir, module), env);
    } catch (err) {
      const proxy = goEnv(go, "GOPROXY") || "(GOPROXY empty)";
      throw new BuildError(
        `could not download the Go modules of e2e/kube/${module === "." ? "" : module} through GOPROXY=${proxy}; ` +
          `is the module proxy reachable from here?\n${(err as Error).message}`,
      );
    }
  }
}

/** The release's tag time from the module proxy, as the binaries' build date: stable across rebuilds. */
async function releaseTime(go: string, env: NodeJS.ProcessEnv): Promise<string> {
  const out = await runGo(go, ["list", "-m", "-json", "k8s.io/kubernetes"], kubeModuleDir, env);
  const time = (JSON.parse(out) as { Time?: string }).Time;
  return time ? time.replace(/\.\d+Z$/, "Z") : "1970-01-01T00:00:00Z";
}

/**
 * The version variables upstream's hack/lib/version.sh sets, in both packages that hold them, so that /version,
 * `kubectl version` and a kubelet's node status say the release and not v0.0.0-master. The module zip has no git
 * history, so the commit is left empty and the tree state says the source is the release's own.
 */
function versionFlags(version: string, buildDate: string): string[] {
  const match = /^v(\d+)\.(\d+)\./.exec(version);
  if (!match) throw new BuildError(`unexpected Kubernetes version ${version}`);
  const vars: Record<string, string> = {
    gitVersion: version,
    gitMajor: match[1] ?? "",
    gitMinor: match[2] ?? "",
    gitCommit: "",
    gitTreeState: "clean",
    buildDate,
  };
  const flags: string[] = [];
  for (const pkg of ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"]) {
    for (const [name, value] of Object.entries(vars)) flags.push(`-X=${pkg}.${name}=${value}`);
  }
  return flags;
}

async function build(target: KubeBuild): Promise<void> {
  const go = findGo(kubeModuleDir);
  const goVersion = checkGoVersion(go, kubeModuleDir, "e2e/kube's modules");
  const env: NodeJS.ProcessEnv = { ...process.env };
  log(
    `building Kubernetes ${target.kubernetes} and etcd ${target.etcd} with Go ${goVersion} into ${target.dir}`,
  );
  const started = Date.now();
  await download(go, env);
  log(`modules downloaded (${seconds(Date.now() - started)})`);
  const kubeLdflags = ["-s", "-w", ...versionFlags(target.kubernetes, await releaseTime(go, env))];
  await buildInto({
    go,
    env,
    dir: target.dir,
    key: target.key,
    binaries: (Object.entries(kubeBinaries) as [KubeBinary, (typeof kubeBinaries)[KubeBinary]][]).map(
      ([name, spec]) => ({
        name,
        pkg: spec.pkg,
        moduleDir: join(kubeModuleDir, spec.module),
        // upstream's release tags (hack/lib/golang.sh): SELinux support, no test-only code, no x/net/trace in grpc
        tags: ["selinux", "notest", "grpcnotrace"],
        ldflags: spec.module === "." ? kubeLdflags : ["-s", "-w"],
      }),
    ),
    info: { kubernetes: target.kubernetes, etcd: target.etcd, go: goVersion },
    built: () => kubeBinariesBuilt(target),
    log,
  });
  log(`done in ${seconds(Date.now() - started)}: ${target.bin}`);
}

async function main(): Promise<void> {
  const began = performance.now();
  const target = kubeBuild();
  if (kubeBinariesBuilt(target)) {
    log(
      `Kubernetes ${target.kubernetes} and etcd ${target.etcd} already built in ${target.bin} ` +
        `(nothing to do, ${Math.round(performance.now() - began)} ms)`,
    );
    return;
  }
  await build(target);
}

if (import.meta.main) runMain(main, log);
