// A minimal POSIX ustar writer for the images this folder assembles: directories and regular files, owned by
// root, with a fixed modification time, so the same inputs always give the same bytes (and the same digests).
// Names up to 100 bytes (the header's name field; nothing here needs the prefix field).

export interface TarEntry {
  /** the path inside the archive, without a leading slash; a directory's ends with "/" */
  name: string;
  /** file contents; absent for a directory */
  data?: Buffer;
  /** permission bits, e.g. 0o755 */
  mode: number;
}

const BLOCK = 512;

function field(header: Buffer, offset: number, length: number, value: string): void {
  if (Buffer.byteLength(value) > length) throw new Error(`tar: "${value}" does not fit ${length} bytes`);
  header.write(value, offset, length, "utf8");
}

/** An octal number, zero-padded to `length - 1` digits and NUL-terminated, as ustar numeric fields are. */
function octal(n: number, length: number): string {
  return `${n.toString(8).padStart(length - 1, "0")}\0`;
}

function header(entry: TarEntry, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  const isDir = entry.data === undefined;
  if (isDir !== entry.name.endsWith("/"))
    throw new Error(`tar: ${entry.name}: a directory's name ends with /`);
  field(h, 0, 100, entry.name);
  field(h, 100, 8, octal(entry.mode, 8));
  field(h, 108, 8, octal(0, 8)); // uid
  field(h, 116, 8, octal(0, 8)); // gid
  field(h, 124, 12, octal(size, 12));
  field(h, 136, 12, octal(mtime, 12));
  field(h, 148, 8, "        "); // the checksum counts its own field as spaces
  field(h, 156, 1, isDir ? "5" : "0");
  field(h, 257, 6, "ustar\0");
  field(h, 263, 2, "00");
  field(h, 265, 32, "root");
  field(h, 297, 32, "root");
  let sum = 0;
  for (const byte of h) sum += byte;
  field(h, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return h;
}

/** The archive's bytes: each entry in the order given, then the two zero blocks that end an archive. */
export function tar(entries: readonly TarEntry[], mtime = 0): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const size = entry.data?.length ?? 0;
    parts.push(header(entry, size, mtime));
    if (entry.data) {
      parts.push(entry.data);
      const pad = (BLOCK - (size % BLOCK)) % BLOCK;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}
