// A self-signed serving certificate made with openssl at start: kubectl and Helm send bearer tokens only
// over TLS, so the server speaks HTTPS and puts this certificate into kubeconfigs as the CA.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { isIP } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ServingCert {
  cert: string;
  key: string;
}

const cache = new Map<string, ServingCert>();

/** A certificate valid for the given hosts (IPs or DNS names) plus localhost and 127.0.0.1, cached per process. */
export function servingCert(hosts: string[]): ServingCert {
  const all = [...new Set(["127.0.0.1", "localhost", "::1", ...hosts])].sort();
  const id = all.join(",");
  const cached = cache.get(id);
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), "apiserver-tls-"));
  try {
    const san = all.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(",");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "7",
        "-subj",
        "/CN=xdp-counter-test-apiserver",
        "-addext",
        `subjectAltName=${san}`,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,digitalSignature,keyCertSign",
        "-addext",
        "extendedKeyUsage=serverAuth",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    const result = {
      cert: readFileSync(join(dir, "cert.pem"), "utf8"),
      key: readFileSync(join(dir, "key.pem"), "utf8"),
    };
    cache.set(id, result);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
