// Where built images are kept: outside the clone, one tarball per image and set of inputs, named by a hash of
// those inputs, so a changed input builds a new tarball and an unchanged one is never built twice. A tarball is
// written beside its final name and renamed into place, so a half-written one is never taken for a finished one.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The default cache folder; `XDP_COUNTER_IMAGE_CACHE` replaces it. */
export const defaultImageCache = "/var/cache/xdp-counter/images";

export function imageCacheDir(): string {
  return process.env.XDP_COUNTER_IMAGE_CACHE || defaultImageCache;
}

/** An image as the nodes import it: the reference it is stored under, and its archive. */
export interface CachedImage {
  name: string;
  tarball: string;
}

/** A hash of named inputs (name and bytes each), hex. */
export function inputsKey(inputs: Iterable<[name: string, data: Buffer | string]>): string {
  const hash = createHash("sha256");
  for (const [name, data] of inputs) {
    hash.update(`${name}\0`);
    hash.update(data);
    hash.update("\0");
  }
  return hash.digest("hex");
}

/** The tarball's path for an image kind and key: `<cache>/<kind>-<first 16 hex digits>.tar`. */
export function cachedTarball(kind: string, key: string): string {
  return join(imageCacheDir(), `${kind}-${key.slice(0, 16)}.tar`);
}

/** A temporary path beside `tarball`, named for this process so that abandoned ones can be told apart. */
export function partialPath(tarball: string): string {
  mkdirSync(join(tarball, ".."), { recursive: true });
  return `${tarball}.partial-${process.pid}`;
}

/** Moves a finished partial file into place. */
export function publish(partial: string, tarball: string): void {
  renameSync(partial, tarball);
}

/** Writes bytes to `tarball` through a partial file. */
export function writeTarball(tarball: string, data: Buffer): void {
  const partial = partialPath(tarball);
  writeFileSync(partial, data);
  publish(partial, tarball);
}

/** Removes partial files whose writer is gone (a build SIGKILLed halfway). */
export function removeAbandonedPartials(): void {
  const dir = imageCacheDir();
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir)) {
    const pid = Number(/\.partial-(\d+)$/.exec(entry)?.[1]);
    if (!pid) continue;
    try {
      process.kill(pid, 0);
    } catch {
      rmSync(join(dir, entry), { recursive: true, force: true });
    }
  }
}

/**
 * Removes older tarballs of an image kind, so that the cache does not grow by one image per change of the
 * sources (the product's is about half a gigabyte): the `keep` most recently written stay, and so does any
 * written in the last `graceMs` (another run may be about to import it). Returns the paths removed.
 */
export function pruneTarballs(kind: string, keep = 3, graceMs = 6 * 3600_000): string[] {
  const dir = imageCacheDir();
  if (!existsSync(dir)) return [];
  const now = Date.now();
  const tarballs = readdirSync(dir)
    .filter((entry) => entry.startsWith(`${kind}-`) && entry.endsWith(".tar"))
    .map((entry) => ({ path: join(dir, entry), mtimeMs: statSync(join(dir, entry)).mtimeMs }))
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
  const removed: string[] = [];
  for (const old of tarballs.slice(keep)) {
    if (now - old.mtimeMs < graceMs) continue;
    rmSync(old.path, { force: true });
    removed.push(old.path);
  }
  return removed;
}
