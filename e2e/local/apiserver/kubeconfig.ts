// Kubeconfig files for clients of the test server.
import { stringify } from "yaml";

export interface KubeconfigInput {
  server: string;
  token: string;
  userName: string;
  namespace?: string;
  caData?: string;
}

export function kubeconfigYaml(k: KubeconfigInput): string {
  const cluster: Record<string, string> = { server: k.server };
  if (k.caData) cluster["certificate-authority-data"] = Buffer.from(k.caData).toString("base64");
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "local", cluster }],
    users: [{ name: k.userName, user: { token: k.token } }],
    contexts: [
      { name: "local", context: { cluster: "local", user: k.userName, namespace: k.namespace ?? "default" } },
    ],
    "current-context": "local",
    preferences: {},
  });
}
