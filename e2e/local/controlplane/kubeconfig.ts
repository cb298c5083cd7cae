// Kubeconfigs for the control plane: self-contained (the CA and any client certificate embedded), one cluster,
// one user, one context, so a file can be copied or handed to a process as it is.
import { readFileSync, writeFileSync } from "node:fs";
import { stringify } from "yaml";

/** Who a kubeconfig authenticates as: a client certificate and key (files), or a bearer token. */
export type KubeconfigUser = { cert: string; key: string } | { token: string };

const base64 = (path: string) => readFileSync(path).toString("base64");

export function kubeconfigText(server: string, caPem: string, user: KubeconfigUser, name: string): string {
  const credentials =
    "token" in user
      ? { token: user.token }
      : { "client-certificate-data": base64(user.cert), "client-key-data": base64(user.key) };
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "xdp-counter-controlplane",
        cluster: { server, "certificate-authority-data": Buffer.from(caPem).toString("base64") },
      },
    ],
    users: [{ name, user: credentials }],
    contexts: [{ name, context: { cluster: "xdp-counter-controlplane", user: name } }],
    "current-context": name,
  });
}

export function writeKubeconfig(
  path: string,
  server: string,
  caPem: string,
  user: KubeconfigUser,
  name: string,
): string {
  writeFileSync(path, kubeconfigText(server, caPem, user, name), { mode: 0o600 });
  return path;
}
