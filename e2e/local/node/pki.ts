// A node's certificates, signed with openssl by the control plane's CA, as a cluster's CA signs a kubelet's
// after TLS bootstrap (here signed directly: the tests are about nodes, not about bootstrap tokens):
//   - the kubelet's client certificate: user system:node:NAME in group system:nodes, which the Node authorizer
//     and NodeRestriction recognise, so the kubelet may write its own Node, Lease and pods' status only;
//   - the kubelet's serving certificate, for its address on the cluster network and its name;
//   - kube-proxy's client certificate: user system:kube-proxy, which the default ClusterRoleBinding
//     system:node-proxier lets read Services and EndpointSlices.
// Keys are ECDSA P-256, as the control plane's.
import { type CertFiles, issueCert } from "../controlplane/pki.ts";

export type { CertFiles };

export interface NodePki {
  kubeletClient: CertFiles;
  kubeletServing: CertFiles;
  kubeProxyClient: CertFiles;
}

export async function makeNodePki(
  dir: string,
  ca: CertFiles,
  node: { name: string; ip: string },
): Promise<NodePki> {
  const [kubeletClient, kubeletServing, kubeProxyClient] = await Promise.all([
    issueCert(dir, "kubelet-client", ca, `/O=system:nodes/CN=system:node:${node.name}`, "clientAuth"),
    issueCert(dir, "kubelet-serving", ca, `/O=system:nodes/CN=system:node:${node.name}`, "serverAuth", [
      node.ip,
      node.name,
    ]),
    issueCert(dir, "kube-proxy-client", ca, "/CN=system:kube-proxy", "clientAuth"),
  ]);
  return { kubeletClient, kubeletServing, kubeProxyClient };
}
