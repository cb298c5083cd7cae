// An OCI image layout archive (oci-layout, index.json, blobs/sha256/...) of a one-layer image, assembled here
// from files in memory: what `ctr images import` reads, with no registry and no build tool. The layer is an
// uncompressed tar (so its digest is its diff ID), and the image's name rides in the index as containerd's
// `io.containerd.image.name` annotation, which `ctr images import` takes as the name to store.
import { createHash } from "node:crypto";
import { type TarEntry, tar } from "./tar.ts";

export interface OciImage {
  /** the full reference containerd stores it under, e.g. xdp-counter.local/pause:0123abcd */
  name: string;
  /** the files of the only layer */
  files: readonly TarEntry[];
  /** the process the image runs: the OCI config's `config` object (Entrypoint, Cmd, Env, User, ...) */
  config: Record<string, unknown>;
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

const MEDIA = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar",
} as const;

/** The architecture as OCI names it (Node.js says x64 where OCI says amd64). */
export function ociArchitecture(arch: string = process.arch): string {
  const names: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ppc64: "ppc64le" };
  const name = names[arch];
  if (!name) throw new Error(`no OCI architecture name for ${arch}`);
  return name;
}

const sha256 = (data: Buffer): string => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/** The archive's bytes. The same image always gives the same bytes: every time and owner in it is fixed. */
export function ociArchive(image: OciImage): Buffer {
  const blobs = new Map<string, Buffer>();
  const blob = (mediaType: string, data: Buffer): Descriptor => {
    const digest = sha256(data);
    blobs.set(digest, data);
    return { mediaType, digest, size: data.length };
  };
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));

  const layer = blob(MEDIA.layer, tar(image.files));
  const platform = { architecture: ociArchitecture(), os: "linux" };
  const config = blob(
    MEDIA.config,
    json({
      created: "1970-01-01T00:00:00Z",
      ...platform,
      config: image.config,
      rootfs: { type: "layers", diff_ids: [layer.digest] },
    }),
  );
  const manifest = blob(
    MEDIA.manifest,
    json({ schemaVersion: 2, mediaType: MEDIA.manifest, config, layers: [layer] }),
  );
  const tag = image.name.slice(image.name.lastIndexOf(":") + 1);
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA.index,
    manifests: [
      {
        ...manifest,
        platform,
        annotations: { "io.containerd.image.name": image.name, "org.opencontainers.image.ref.name": tag },
      },
    ],
  };

  const entries: TarEntry[] = [
    { name: "oci-layout", data: json({ imageLayoutVersion: "1.0.0" }), mode: 0o644 },
    { name: "index.json", data: json(index), mode: 0o644 },
    { name: "blobs/", mode: 0o755 },
    { name: "blobs/sha256/", mode: 0o755 },
  ];
  for (const [digest, data] of blobs) {
    entries.push({ name: `blobs/sha256/${digest.slice("sha256:".length)}`, data, mode: 0o644 });
  }
  return tar(entries);
}
