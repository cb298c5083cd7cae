// The images the real nodes import, without a node: the tar and OCI archives are what tar(1) and the OCI
// layout say (names, modes, digests), the same inputs give the same bytes, the pause binary behaves as a
// sandbox's first process must (exits 0 on SIGTERM), and the product image's key covers exactly the modules
// tsc compiles into the image; the cache keeps only the newest tarballs of a kind. The pause image is built into
// the cache if it is missing (gcc, a second).
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, describe, it } from "node:test";
import { pruneTarballs } from "./cache.ts";
import { ociArchive } from "./oci.ts";
import { pauseImage } from "./pause.ts";
import { moduleClosure, productImageKey, productImageRef } from "./product.ts";
import { tar } from "./tar.ts";

const root = join(import.meta.dirname, "..", "..", "..", "..");
const work = mkdtempSync(join(tmpdir(), "xdp-counter-images-test-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** Extracts an archive into a fresh folder and returns it. */
function extract(archive: Buffer, name: string): string {
  const file = join(work, `${name}.tar`);
  const dir = join(work, name);
  writeFileSync(file, archive);
  execFileSync("mkdir", ["-p", dir]);
  execFileSync("tar", ["-xf", file, "-C", dir]);
  return dir;
}

/** An ELF64 executable without a PT_INTERP program header: it needs no dynamic loader, so no libc. */
function isStaticElf(elf: Buffer): boolean {
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2) return false;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (elf.readUInt32LE(phoff + i * phentsize) === 3) return false;
  return true;
}

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

describe("tar", () => {
  it("writes what tar(1) lists and extracts: names, modes, sizes, contents, root owner", () => {
    const data = Buffer.from("hello\n".repeat(200));
    const archive = tar([
      { name: "dir/", mode: 0o755 },
      { name: "dir/file", data, mode: 0o644 },
      { name: "run", data: Buffer.from("#!/bin/sh\n"), mode: 0o755 },
    ]);
    assert.equal(archive.length % 512, 0);
    const file = join(work, "list.tar");
    writeFileSync(file, archive);
    const listing = execFileSync("tar", ["-tvf", file, "--numeric-owner"], { encoding: "utf8" });
    assert.match(listing, /^drwxr-xr-x 0\/0 +0 1970-01-01 00:00 dir\/$/m);
    assert.match(listing, new RegExp(`^-rw-r--r-- 0/0 +${data.length} 1970-01-01 00:00 dir/file$`, "m"));
    assert.match(listing, /^-rwxr-xr-x 0\/0 +10 1970-01-01 00:00 run$/m);
    const dir = extract(archive, "plain");
    assert.deepEqual(readFileSync(join(dir, "dir", "file")), data);
  });

  it("refuses a directory named without its slash, and a name longer than the header holds", () => {
    assert.throws(() => tar([{ name: "dir", mode: 0o755 }]), /ends with \//);
    assert.throws(() => tar([{ name: "x".repeat(101), data: Buffer.alloc(1), mode: 0o644 }]), /does not fit/);
  });
});

describe("OCI archive", () => {
  const image = {
    name: "xdp-counter.local/test:1",
    files: [{ name: "hello", data: Buffer.from("hi\n"), mode: 0o755 }],
    config: { Entrypoint: ["/hello"] },
  };

  it("is an OCI image layout whose blobs are named by their digests, the name in containerd's annotation", () => {
    const dir = extract(ociArchive(image), "oci");
    assert.deepEqual(JSON.parse(readFileSync(join(dir, "oci-layout"), "utf8")), {
      imageLayoutVersion: "1.0.0",
    });
    const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
    const blob = (digest: string): Buffer => {
      const data = readFileSync(join(dir, "blobs", "sha256", digest.replace("sha256:", "")));
      assert.equal(`sha256:${sha256(data)}`, digest, "a blob's name is its digest");
      return data;
    };
    const [entry] = index.manifests;
    assert.equal(entry.annotations["io.containerd.image.name"], image.name);
    assert.equal(entry.platform.os, "linux");
    const manifestData = blob(entry.digest);
    assert.equal(manifestData.length, entry.size);
    const manifest = JSON.parse(manifestData.toString());
    const config = JSON.parse(blob(manifest.config.digest).toString());
    assert.deepEqual(config.config, image.config);
    assert.deepEqual(
      config.rootfs.diff_ids,
      [manifest.layers[0].digest],
      "an uncompressed layer's digest is its diff ID",
    );
    const layerDir = extract(blob(manifest.layers[0].digest), "layer");
    assert.equal(readFileSync(join(layerDir, "hello"), "utf8"), "hi\n");
  });

  it("gives the same bytes for the same image", () => {
    assert.deepEqual(ociArchive(image), ociArchive(image));
  });
});

describe("pause image", () => {
  it("is cached under a name made from its inputs and holds one static /pause that exits 0 on SIGTERM", async () => {
    const pause = pauseImage();
    assert.match(pause.name, /^xdp-counter\.local\/pause:[0-9a-f]{12}$/);
    assert.equal(pauseImage().tarball, pause.tarball, "the same inputs, the same tarball");
    const dir = extract(readFileSync(pause.tarball), "pause");
    const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
    const manifest = JSON.parse(
      readFileSync(join(dir, "blobs", "sha256", index.manifests[0].digest.replace("sha256:", "")), "utf8"),
    );
    const layer = readFileSync(
      join(dir, "blobs", "sha256", manifest.layers[0].digest.replace("sha256:", "")),
    );
    const rootfs = extract(layer, "pause-rootfs");
    const binary = join(rootfs, "pause");
    assert.ok(isStaticElf(readFileSync(binary)), "a static ELF executable: no program interpreter");
    chmodSync(binary, 0o755);
    const child = spawn(binary, [], { stdio: "ignore" });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(child.exitCode, null, "it keeps running");
    const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    child.kill("SIGTERM");
    assert.deepEqual(await exited, { code: 0, signal: null });
  });
});

describe("product image key", () => {
  it("covers exactly the modules tsc compiles into the image", () => {
    const tsc = join(root, "node_modules", ".bin", "tsc");
    const listed = execFileSync(tsc, ["-p", join(root, "tsconfig.build.json"), "--listFilesOnly"], {
      encoding: "utf8",
      cwd: root,
    })
      .split("\n")
      .filter((f) => f && !f.includes("/node_modules/"))
      .map((f) => relative(root, f))
      .sort();
    assert.deepEqual(moduleClosure(), listed);
    assert.ok(!moduleClosure().some((f) => f.endsWith(".test.ts")), "no test is an input");
  });

  it("names the image and its tarball from the key", () => {
    const key = productImageKey();
    assert.match(key, /^[0-9a-f]{64}$/);
    const ref = productImageRef(key);
    assert.equal(ref.name, `xdp-counter.local/xdp-counter:${key.slice(0, 12)}`);
    assert.ok(ref.tarball.endsWith(`/xdp-counter-${key.slice(0, 16)}.tar`));
  });
});

describe("image cache", () => {
  it("prunes older tarballs of a kind: the newest ones and any written lately stay, other kinds are not touched", () => {
    const dir = join(work, "cache");
    execFileSync("mkdir", ["-p", dir]);
    const previous = process.env.XDP_COUNTER_IMAGE_CACHE;
    process.env.XDP_COUNTER_IMAGE_CACHE = dir;
    try {
      const hour = 3600;
      const now = Date.now() / 1000;
      // five product tarballs written 1, 10, 20, 30 and 40 hours ago, and an old pause image
      const ages = { a: 1, b: 10, c: 20, d: 30, e: 40 };
      for (const [name, hours] of Object.entries(ages)) {
        const path = join(dir, `xdp-counter-${name}.tar`);
        writeFileSync(path, name);
        utimesSync(path, now - hours * hour, now - hours * hour);
      }
      const pause = join(dir, "pause-x.tar");
      writeFileSync(pause, "p");
      utimesSync(pause, now - 100 * hour, now - 100 * hour);
      const removed = pruneTarballs("xdp-counter", 2, 25 * hour * 1000);
      assert.deepEqual(
        removed.map((p) => relative(dir, p)).sort(),
        ["xdp-counter-d.tar", "xdp-counter-e.tar"],
        "past the two newest, only those older than the grace (25 h) go",
      );
      assert.deepEqual(readdirSync(dir).sort(), [
        "pause-x.tar",
        "xdp-counter-a.tar",
        "xdp-counter-b.tar",
        "xdp-counter-c.tar",
      ]);
    } finally {
      if (previous === undefined) delete process.env.XDP_COUNTER_IMAGE_CACHE;
      else process.env.XDP_COUNTER_IMAGE_CACHE = previous;
    }
  });
});
