// The pure parts of the kind run: the kind cluster's configuration, the addresses of the dedicated traffic
// network between the two workers, and the pods that send and receive the traffic.

/** kind's cluster configuration: one control plane (tainted, so no agents) and two workers. */
export function kindConfig(): string {
  return [
    "kind: Cluster",
    "apiVersion: kind.x-k8s.io/v1alpha4",
    "nodes:",
    "  - role: control-plane",
    "  - role: worker",
    "  - role: worker",
    "",
  ].join("\n");
}

/**
 * A Docker network joining only the two workers: it becomes each worker's eth1, which carries nothing but the
 * test's datagrams (IPv6 off, neighbours permanent, so not even ARP), so counts on it are exact.
 */
export interface TrafficNet {
  name: string;
  subnet: string;
  /** eth1 addresses of the workers, in order. */
  ips: [string, string];
}

export function trafficNet(clusterName: string, octet: number): TrafficNet {
  const base = `172.31.${octet}`;
  return { name: `${clusterName}-traffic`, subnet: `${base}.0/24`, ips: [`${base}.10`, `${base}.11`] };
}

export const UDP_PORT = 9999;

/** A hostNetwork pod pinned to `node` running `script` with the image's Node.js. */
function nodePod(name: string, node: string, image: string, script: string, restart: "Always" | "Never") {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels: { app: "xdp-counter-e2e-traffic" } },
    spec: {
      nodeName: node,
      hostNetwork: true,
      restartPolicy: restart,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: "main", image, imagePullPolicy: "Never", command: ["node", "-e", script] }],
    },
  };
}

/** A UDP sink on the node's host network, so datagrams sent to it draw no ICMP reply. */
export function serverPod(node: string, image: string): Record<string, unknown> {
  const script = `require("node:dgram").createSocket("udp4").on("message", () => {}).bind(${UDP_PORT});`;
  return nodePod(`udp-sink-${node}`, node, image, script, "Always");
}

/** Sends exactly `count` datagrams of `length` bytes to `target`, one after the other, then exits 0. */
export function clientPod(
  name: string,
  node: string,
  image: string,
  target: string,
  count: number,
  length = 64,
): Record<string, unknown> {
  const script = [
    'const s = require("node:dgram").createSocket("udp4");',
    `const b = Buffer.alloc(${length});`,
    "(async () => {",
    `  for (let i = 0; i < ${count}; i++)`,
    `    await new Promise((ok, fail) => s.send(b, ${UDP_PORT}, ${JSON.stringify(target)}, (e) => (e ? fail(e) : ok())));`,
    "  s.close();",
    "})().catch((e) => { console.error(e); process.exit(1); });",
  ].join("\n");
  return nodePod(name, node, image, script, "Never");
}

/** A kubeconfig for a ServiceAccount token, on the admin kubeconfig's server and CA. */
export function tokenKubeconfig(server: string, caData: string, token: string): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "kind", cluster: { server, "certificate-authority-data": caData } }],
    users: [{ name: "sa", user: { token } }],
    contexts: [{ name: "sa", context: { cluster: "kind", user: "sa" } }],
    "current-context": "sa",
  });
}
