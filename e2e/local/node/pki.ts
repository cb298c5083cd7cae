// A node's certificates, signed with openssl by the control plane's CA, as a cluster's CA signs a kubelet's
// after TLS bootstrap (here signed directly: the tests are about nodes, not about bootstrap tokens):
//   - the kubelet's client certificate: user system:node:NAME in group system:nodes, which the Node authorizer
//     and NodeRestriction recognise, so the kubelet may write its own Node, Lease and pods' status only;
//   - the kubelet's serving certificate, for its address on the cluster network and its name;
//   - kube-proxy's client certificate: user system:kube-proxy, which the default ClusterRoleBinding
//     system:node-proxier lets read Services and EndpointSlices.
// Keys are ECDSA P-256, as the control plane's.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "./cmd.ts";

export interface CertFiles {
  cert: string;
  key: string;
}

export interface NodePki {
  kubeletClient: CertFiles;
  kubeletServing: CertFiles;
  kubeProxyClient: CertFiles;
}

function extensions(usage: "serverAuth" | "clientAuth", san: string[]): string {
  const lines = [
    "[req]",
    "distinguished_name = dn",
    "prompt = no",
    "[dn]",
    "[leaf]",
    "basicConstraints = critical,CA:FALSE",
    "keyUsage = critical,digitalSignature,keyEncipherment",
    `extendedKeyUsage = ${usage}`,
    "subjectKeyIdentifier = hash",
    "authorityKeyIdentifier = keyid",
  ];
  if (san.length) lines.push(`subjectAltName = ${san.join(",")}`);
  return `${lines.join("\n")}\n`;
}

async function issue(
  dir: string,
  name: string,
  ca: CertFiles,
  subject: string,
  usage: "serverAuth" | "clientAuth",
  san: string[] = [],
): Promise<CertFiles> {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  const config = join(dir, `${name}.cnf`);
  writeFileSync(config, extensions(usage, san));
  await run([
    "openssl",
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-config",
    config,
    "-extensions",
    "leaf",
    "-CA",
    ca.cert,
    "-CAkey",
    ca.key,
    "-days",
    "30",
    "-subj",
    subject,
    "-keyout",
    files.key,
    "-out",
    files.cert,
  ]);
  return files;
}

export async function makeNodePki(
  dir: string,
  ca: CertFiles,
  node: { name: string; ip: string },
): Promise<NodePki> {
  const [kubeletClient, kubeletServing, kubeProxyClient] = await Promise.all([
    issue(dir, "kubelet-client", ca, `/O=system:nodes/CN=system:node:${node.name}`, "clientAuth"),
    issue(dir, "kubelet-serving", ca, `/O=system:nodes/CN=system:node:${node.name}`, "serverAuth", [
      `IP:${node.ip}`,
      `DNS:${node.name}`,
    ]),
    issue(dir, "kube-proxy-client", ca, "/CN=system:kube-proxy", "clientAuth"),
  ]);
  return { kubeletClient, kubeletServing, kubeProxyClient };
}
