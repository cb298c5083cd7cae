// The node's pod network, as CNI configuration: Debian's bridge and host-local plugins give each pod a veth on
// the node's bridge cni0 and an address from the node's pod CIDR (plan.ts). The node routes between cni0 and
// eth0, and the host routes each node's pod CIDR to it (network.ts), so no NAT is needed. Only the operator's
// pod and the pods' sandboxes use it: the agents are host-network pods.
import type { NodePlan } from "./plan.ts";

export const CNI_NETWORK = "xdp-counter-pods";

export function cniConfig(node: NodePlan): string {
  return `${JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: CNI_NETWORK,
      plugins: [
        {
          type: "bridge",
          bridge: "cni0",
          // the bridge holds the pods' gateway address, and the node forwards their packets (ip_forward)
          isGateway: true,
          // routed, not masqueraded: the host has a route back to every node's pods
          ipMasq: false,
          // a pod may reach itself through a Service (kube-proxy's DNAT back out of the same port)
          hairpinMode: true,
          ipam: {
            type: "host-local",
            ranges: [[{ subnet: node.podCidr, gateway: node.podGateway }]],
            routes: [{ dst: "0.0.0.0/0" }],
          },
        },
        // the pods' host ports, which kubelets ask for through the runtime
        { type: "portmap", capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  )}\n`;
}
