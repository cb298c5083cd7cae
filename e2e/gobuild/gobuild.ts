// Building test binaries from pinned Go modules into a cache outside the clone: finding go, checking its
// version against a module's `go` line, running go with its output kept for errors, and the build folder
// that is renamed into place only when every binary is in it (an interrupted build is never taken for a
// finished one). Used by e2e/kube/build.ts (the Kubernetes control plane and nodes) and
// e2e/prometheus/build.ts (Prometheus and promtool).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A failure to explain in one message, without a stack. */
export class BuildError extends Error {}

/** The go processes running now, killed if this process exits first. */
const running = new Set<ChildProcess>();

export function seconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${(ms / 1000).toFixed(1)}s`;
}

/** The Go version a module declares (`go 1.26.0`). */
export function requiredGo(moduleDir: string): string {
  return /^go (\S+)$/m.exec(readFileSync(join(moduleDir, "go.mod"), "utf8"))?.[1] ?? "1.26.0";
}

/** The go command: from PATH, else where Go's own archive installs it. */
export function findGo(moduleDir: string): string {
  for (const candidate of ["go", "/usr/local/go/bin/go"]) {
    const result = spawnSync(candidate, ["env", "GOVERSION"], { encoding: "utf8" });
    if (result.status === 0) return candidate;
  }
  throw new BuildError(
    `go not found (neither on PATH nor /usr/local/go/bin/go): the test binaries are built from Go modules, ` +
      `install Go ${requiredGo(moduleDir)} or later`,
  );
}

export function goEnv(go: string, name: string): string {
  return spawnSync(go, ["env", name], { encoding: "utf8" }).stdout.trim();
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

/** Fails when this go is older than the module needs and may not fetch a newer toolchain itself. */
export function checkGoVersion(go: string, moduleDir: string, what: string): string {
  const version = goEnv(go, "GOVERSION").replace(/^go/, "");
  const needed = requiredGo(moduleDir);
  if (older(version, needed) && goEnv(go, "GOTOOLCHAIN") === "local")
    throw new BuildError(
      `go ${version} is older than Go ${needed}, which ${what} needs (and GOTOOLCHAIN=local): ` +
        `install Go ${needed} or later`,
    );
  return version;
}

function lastLines(text: string, count: number): string {
  return text.trim().split("\n").slice(-count).join("\n");
}

/** Runs go in a module folder; resolves with its output, rejects with a BuildError carrying the last lines. */
export function runGo(go: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
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

/** Removes temporary build folders left in `root` by builds whose process is gone. */
function removeAbandoned(root: string, log: (message: string) => void): void {
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

/** One binary: `go build <flags> -o bin/<name> <pkg>` in `moduleDir`. */
export interface GoBinary {
  name: string;
  pkg: string;
  moduleDir: string;
  tags: readonly string[];
  ldflags: readonly string[];
}

/**
 * Builds `binaries` (static, CGO_ENABLED=0, -trimpath) into a temporary folder beside `dir`, writes
 * `build.json` (`info` and, for each binary, the seconds of the build that made it) into it, and renames it
 * to `dir`; `built()` says whether `dir` is complete (another build may finish first, or a finished folder
 * may have lost a binary).
 */
export async function buildInto(opts: {
  go: string;
  env: NodeJS.ProcessEnv;
  dir: string;
  key: string;
  binaries: readonly GoBinary[];
  info: Record<string, unknown>;
  built: () => boolean;
  log: (message: string) => void;
}): Promise<void> {
  const { go, env, dir, key, log } = opts;
  const root = join(dir, "..");
  mkdirSync(root, { recursive: true });
  removeAbandoned(root, log);
  const scratch = join(root, `.building-${key}-${process.pid}`);
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(join(scratch, "bin"), { recursive: true });
  const removeScratch = () => {
    for (const child of running) child.kill("SIGKILL");
    rmSync(scratch, { recursive: true, force: true });
  };
  process.once("exit", removeScratch);

  // One `go build` per module, tags and flags, with every binary of it: while one binary links (on one core)
  // the next compiles, where one build per binary would leave the second core idle through each link.
  const times: Record<string, number> = {};
  for (const group of buildGroups(opts.binaries)) {
    const began = Date.now();
    const [first] = group;
    if (!first) continue;
    await runGo(
      go,
      [
        "build",
        "-trimpath",
        "-buildvcs=false",
        `-tags=${first.tags.join(",")}`,
        `-ldflags=${first.ldflags.join(" ")}`,
        "-o",
        group.length === 1 ? join(scratch, "bin", first.name) : `${join(scratch, "bin")}/`,
        ...group.map((b) => b.pkg),
      ],
      first.moduleDir,
      { ...env, CGO_ENABLED: "0" },
    );
    const names = group.map((b) => b.name);
    for (const name of names) times[name] = Date.now() - began;
    log(`${names.join(", ").padEnd(24)} ${seconds(Date.now() - began)}`);
  }
  const perBinary = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Math.round(v / 100) / 10]));
  writeFileSync(
    join(scratch, "build.json"),
    `${JSON.stringify({ ...opts.info, seconds: perBinary }, null, 2)}\n`,
  );
  if (existsSync(dir) && !opts.built()) {
    // a finished folder someone took binaries out of: replaced whole
    log(`replacing the incomplete ${dir}`);
    rmSync(dir, { recursive: true, force: true });
  }
  try {
    renameSync(scratch, dir);
  } catch (err) {
    // another build finished first: its result is the same
    if (!opts.built()) throw err;
    removeScratch();
  }
  process.off("exit", removeScratch);
}

/**
 * The binaries that one `go build` can make together: same module, tags and ldflags, each named as Go names a
 * package's binary (the import path's last element). The others are built one by one, under their own names.
 */
export function buildGroups(binaries: readonly GoBinary[]): GoBinary[][] {
  const groups = new Map<string, GoBinary[]>();
  const alone: GoBinary[][] = [];
  for (const b of binaries) {
    if (b.pkg.split("/").at(-1) !== b.name) {
      alone.push([b]);
      continue;
    }
    const key = JSON.stringify([b.moduleDir, b.tags, b.ldflags]);
    groups.set(key, [...(groups.get(key) ?? []), b]);
  }
  return [...groups.values(), ...alone];
}

/** Runs a build script's main: one line on failure, exit 1; Ctrl-C removes the temporary folder. */
export function runMain(main: () => Promise<void>, log: (message: string) => void): void {
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
