// kube-proxy's configuration, all of it here: iptables mode in the node's network namespace, so Services
// (the `kubernetes` Service first) work from the node and its pods. Values that differ from the defaults say why.
import { stringify } from "yaml";
import type { NodeLayout } from "./layout.ts";
import type { ClusterPlan, NodePlan } from "./plan.ts";

export function kubeProxyConfig(cluster: ClusterPlan, node: NodePlan, layout: NodeLayout): string {
  return stringify({
    apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
    kind: "KubeProxyConfiguration",
    clientConnection: { kubeconfig: layout.kubeProxyKubeconfig },
    hostnameOverride: node.name,
    bindAddress: node.ip,
    // on the node's own address and loopback: each node has its own network namespace, so no two collide
    healthzBindAddress: `${node.ip}:10256`,
    metricsBindAddress: "127.0.0.1:10249",
    mode: "iptables",
    // traffic from the cluster's pods is local; anything else to a Service is masqueraded
    clusterCIDR: cluster.podRange,
    conntrack: {
      // 0: leave nf_conntrack_max alone; it is global to the machine (kind sets the same)
      maxPerCore: 0,
      min: 0,
      // 0: leave the host's conntrack timeouts alone (kind sets the same)
      tcpEstablishedTimeout: "0s",
      tcpCloseWaitTimeout: "0s",
    },
    // lowering an OOM score needs CAP_SYS_RESOURCE, which this machine withholds
    oomScoreAdj: 0,
    // NodePorts only on the node's cluster address, never on the test NIC the agents count on
    nodePortAddresses: [`${node.ip}/32`],
  });
}

export function kubeProxyArgs(layout: NodeLayout): string[] {
  return [`--config=${layout.kubeProxyConfig}`, "--v=1"];
}
