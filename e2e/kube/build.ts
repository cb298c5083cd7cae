// Builds the Kubernetes control plane and node binaries (and etcd) from the Go modules in this folder into the
// cache named by binaries.ts: `node e2e/kube/build.ts`. With the cache present it does nothing. A build goes
// into a temporary folder beside the cache entry and is renamed into place only when every binary is there, so
// an interrupted build is never taken for a finished one. Progress goes to stderr, one line per binary.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type KubeBinary,
  type KubeBuild,
  kubeBinaries,
  kubeBinariesBuilt,
  kubeBuild,
  kubeModuleDir,
} from "./binaries.ts";

class BuildError extends Error {}

/** The go processes running now, killed if this process exits first. */
const running = new Set<ReturnType<typeof spawn>>();

function log(message: string): void {
  process.stderr.write(`kube: ${message}\n`);
}

function seconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${(ms / 1000).toFixed(1)}s`;
}

/** The go command: from PATH, else where Go's own archive installs it. */
function findGo(): string {
  for (const candidate of ["go", "/usr/local/go/bin/go"]) {
    const result = spawnSync(candidate, ["env", "GOVERSION"], { encoding: "utf8" });
    if (result.status === 0) return candidate;
  }
  throw new BuildError(
    "go not found (neither on PATH nor /usr/local/go/bin/go): the control plane is built from Go modules, " +
      `install Go ${requiredGo()} or later`,
  );
}

/** The Go version the modules declare (`go 1.26.0`). */
function requiredGo(): string {
  return /^go (\S+)$/m.exec(readFileSync(join(kubeModuleDir, "go.mod"), "utf8"))?.[1] ?? "1.26.0";
}

function older(version: string, than: string): boolean {
  const a = version.split(".").map(Number);
  const b = than.split(".").map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d < 0;
  }
  return false;
}

/** Fails when this go is older than the modules need and may not fetch a newer toolchain itself. */
function checkGoVersion(go: string): string {
  const version = goEnv(go, "GOVERSION").replace(/^go/, "");
  const needed = requiredGo();
  if (older(version, needed) && goEnv(go, "GOTOOLCHAIN") === "local")
    throw new BuildError(
      `go ${version} is older than Go ${needed}, which e2e/kube's modules need (and GOTOOLCHAIN=local): ` +
        `install Go ${needed} or later`,
    );
  return version;
}

function goEnv(go: string, name: string): string {
  return spawnSync(go, ["env", name], { encoding: "utf8" }).stdout.trim();
}

function lastLines(text: string, count: number): string {
  return text.trim().split("\n").slice(-count).join("\n");
}

/** Runs go in a module folder; resolves with its stderr, rejects with a BuildError carrying the last lines. */
function runGo(go: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(go, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    running.add(child);
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on("error", (err) => reject(new BuildError(`go ${args[0]} failed to start: ${err.message}`)));
    child.on("close", (code, signal) => {
      running.delete(child);
      if (code === 0) resolve(output);
      else
        reject(
          new BuildError(
            `go ${args.join(" ")} (in ${cwd}) ${signal ?? `exit ${code}`}:\n${lastLines(output, 20)}`,
          ),
        );
    });
  });
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

/** Removes temporary build folders left by builds whose process is gone. */
function removeAbandoned(root: string): void {
  if (!existsSync(root)) return;
  for (const entry of readdirSync(root)) {
    const match = /^\.building-.*-(\d+)$/.exec(entry);
    if (!match) continue;
    const pid = Number(match[1]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive || pid === process.pid) {
      log(`removing an interrupted build: ${join(root, entry)}`);
      rmSync(join(root, entry), { recursive: true, force: true });
    }
  }
}

async function build(target: KubeBuild): Promise<void> {
  const go = findGo();
  const goVersion = checkGoVersion(go);
  const env: NodeJS.ProcessEnv = { ...process.env };
  log(
    `building Kubernetes ${target.kubernetes} and etcd ${target.etcd} with Go ${goVersion} into ${target.dir}`,
  );
  const started = Date.now();
  await download(go, env);
  log(`modules downloaded (${seconds(Date.now() - started)})`);

  const root = join(target.dir, "..");
  mkdirSync(root, { recursive: true });
  removeAbandoned(root);
  const scratch = join(root, `.building-${target.key}-${process.pid}`);
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(join(scratch, "bin"), { recursive: true });
  const removeScratch = () => {
    for (const child of running) child.kill("SIGKILL");
    rmSync(scratch, { recursive: true, force: true });
  };
  process.once("exit", removeScratch);

  const ldflags = ["-s", "-w", ...versionFlags(target.kubernetes, await releaseTime(go, env))].join(" ");
  const times: Partial<Record<KubeBinary, number>> = {};
  for (const [name, spec] of Object.entries(kubeBinaries) as [
    KubeBinary,
    (typeof kubeBinaries)[KubeBinary],
  ][]) {
    const began = Date.now();
    await runGo(
      go,
      [
        "build",
        "-trimpath",
        "-buildvcs=false",
        // upstream's release tags (hack/lib/golang.sh): SELinux support, no test-only code, no x/net/trace in grpc
        "-tags=selinux,notest,grpcnotrace",
        `-ldflags=${spec.module === "." ? ldflags : "-s -w"}`,
        "-o",
        join(scratch, "bin", name),
        spec.pkg,
      ],
      join(kubeModuleDir, spec.module),
      { ...env, CGO_ENABLED: "0" },
    );
    times[name] = Date.now() - began;
    log(`${name.padEnd(24)} ${seconds(times[name] ?? 0)}`);
  }
  writeFileSync(
    join(scratch, "build.json"),
    `${JSON.stringify(
      {
        kubernetes: target.kubernetes,
        etcd: target.etcd,
        go: goVersion,
        seconds: Object.fromEntries(
          Object.entries(times).map(([k, v]) => [k, Math.round((v ?? 0) / 100) / 10]),
        ),
      },
      null,
      2,
    )}\n`,
  );
  if (existsSync(target.dir) && !kubeBinariesBuilt(target)) {
    // a finished folder someone took binaries out of: replaced whole
    log(`replacing the incomplete ${target.dir}`);
    rmSync(target.dir, { recursive: true, force: true });
  }
  try {
    renameSync(scratch, target.dir);
  } catch (err) {
    // another build finished first: its result is the same
    if (!kubeBinariesBuilt(target)) throw err;
    removeScratch();
  }
  process.off("exit", removeScratch);
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

if (import.meta.main) {
  // Ctrl-C or SIGTERM: exit through the exit handlers, which remove the temporary folder
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));
  main().catch((err: unknown) => {
    log(
      err instanceof BuildError
        ? err.message
        : err instanceof Error
          ? (err.stack ?? err.message)
          : String(err),
    );
    process.exit(1);
  });
}
