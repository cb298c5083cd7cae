// What the real nodes' tests share: waiting for a state, reading pods, and a cluster with the product image.
import { AGENT_SECURITY_CONTEXT } from "../../../operator/daemonset/index.ts";
import { kubectlOk } from "../../scenario/index.ts";
import { until as waitUntil } from "../wait.ts";
import { type Cluster, type NodeSpec, startCluster } from "./cluster.ts";
import type { CachedImage } from "./images/cache.ts";
import { productImage } from "./images/product.ts";

/** Polls `fn` every 200 ms until it returns something truthy; fails with `what` after `timeoutMs`. */
export const until = <T>(
  what: string,
  fn: () => T | Promise<T>,
  timeoutMs = 30_000,
): Promise<NonNullable<T>> => waitUntil(what, fn, timeoutMs, 200);

export interface PodView {
  name: string;
  node: string;
  phase: string;
  ready: boolean;
  ip: string;
}

/** The pods of a namespace (with a label selector), as `kubectl get pods -o json` shows them. */
export async function pods(c: Cluster, namespace: string, selector?: string): Promise<PodView[]> {
  const out = await kubectlOk(c, [
    "get",
    "pods",
    "-n",
    namespace,
    ...(selector ? ["-l", selector] : []),
    "-o",
    "json",
  ]);
  const list = JSON.parse(out) as {
    items: {
      metadata: { name: string; deletionTimestamp?: string };
      spec: { nodeName?: string };
      status: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[] };
    }[];
  };
  return list.items
    .filter((p) => !p.metadata.deletionTimestamp)
    .map((p) => ({
      name: p.metadata.name,
      node: p.spec.nodeName ?? "",
      phase: p.status.phase ?? "",
      ready: p.status.conditions?.some((x) => x.type === "Ready" && x.status === "True") ?? false,
      ip: p.status.podIP ?? "",
    }));
}

/** A cluster of real nodes that imports the product image; the image is built first if the cache lacks it. */
export async function startTestCluster(
  nodes: NodeSpec[],
  log: (line: string) => void = () => {},
): Promise<{ cluster: Cluster; image: CachedImage }> {
  const image = await productImage(log);
  const cluster = await startCluster({ nodes, images: [image], log });
  return { cluster, image };
}

/** A host-network pod of the product image with the agent DaemonSet's security context (root, its capabilities). */
export function hostPod(name: string, node: string, image: string, args: string[]): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: {
      nodeName: node,
      hostNetwork: true,
      terminationGracePeriodSeconds: 10,
      containers: [
        {
          name: "xdp-counter",
          image,
          imagePullPolicy: "Never",
          args,
          securityContext: structuredClone(AGENT_SECURITY_CONTEXT),
          volumeMounts: [{ name: "bpffs", mountPath: "/sys/fs/bpf", mountPropagation: "HostToContainer" }],
        },
      ],
      volumes: [{ name: "bpffs", hostPath: { path: "/sys/fs/bpf", type: "Directory" } }],
    },
  });
}
