// The pod sandbox ("pause") image, made here: pause.c compiled static with the machine's gcc, packed as a
// one-file OCI image (oci.ts) and cached by its inputs (the source, the flags, gcc's and glibc's versions).
// No registry is involved; the nodes' containerd imports the tarball and uses it as its sandbox image.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CachedImage, cachedTarball, inputsKey, writeTarball } from "./cache.ts";
import { ociArchive } from "./oci.ts";

const SOURCE = join(import.meta.dirname, "pause.c");
/** -static: the image has no libc. -Os -s: small. */
const FLAGS = ["-static", "-Os", "-s", "-Wall", "-Wextra", "-Werror"];

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** The pause image's name and cached tarball, built first if the cache lacks it. */
export function pauseImage(log: (line: string) => void = () => {}): CachedImage {
  const source = readFileSync(SOURCE);
  const key = inputsKey([
    ["pause.c", source],
    ["flags", FLAGS.join(" ")],
    ["gcc", run("gcc", ["-dumpfullversion"])],
    ["glibc", run("getconf", ["GNU_LIBC_VERSION"])],
  ]);
  const image = { name: `xdp-counter.local/pause:${key.slice(0, 12)}`, tarball: cachedTarball("pause", key) };
  if (existsSync(image.tarball)) return image;

  const work = mkdtempSync(join(tmpdir(), "xdp-counter-pause-"));
  try {
    const binary = join(work, "pause");
    run("gcc", [...FLAGS, "-o", binary, SOURCE]);
    writeTarball(
      image.tarball,
      ociArchive({
        name: image.name,
        files: [{ name: "pause", data: readFileSync(binary), mode: 0o755 }],
        // 65535: the user the upstream pause image runs as; it needs no privilege at all
        config: { Entrypoint: ["/pause"], User: "65535:65535" },
      }),
    );
    log(`pause image ${image.name} built into ${image.tarball}`);
    return image;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
