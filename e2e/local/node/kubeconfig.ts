// Kubeconfigs for a node's kubelet and kube-proxy: the API server at the host's address on the cluster network,
// with the CA and the client certificate embedded. The API server's certificate names the `kubernetes`
// Service's addresses and loopback, not the host's cluster address, so the kubeconfig asks TLS to verify it as
// kubernetes.default.svc: the name that certificate was made for, which pods use too.
import { readFileSync, writeFileSync } from "node:fs";
import { stringify } from "yaml";
import type { CertFiles } from "./pki.ts";

/** The name the node's clients verify the API server's certificate against. */
export const API_SERVER_TLS_NAME = "kubernetes.default.svc";

export function writeNodeKubeconfig(
  path: string,
  server: string,
  caPem: string,
  user: CertFiles,
  name: string,
): void {
  const base64 = (file: string) => readFileSync(file).toString("base64");
  const text = stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "local",
        cluster: {
          server,
          "certificate-authority-data": Buffer.from(caPem).toString("base64"),
          "tls-server-name": API_SERVER_TLS_NAME,
        },
      },
    ],
    users: [
      { name, user: { "client-certificate-data": base64(user.cert), "client-key-data": base64(user.key) } },
    ],
    contexts: [{ name, context: { cluster: "local", user: name } }],
    "current-context": name,
  });
  writeFileSync(path, text, { mode: 0o600 });
}
