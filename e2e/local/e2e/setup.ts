// The local cluster as the end-to-end suite and the demo use it: the real control plane and real nodes
// (e2e/local/node) running the product's image, the chart installed with Helm as the README says.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { kubectlOk } from "../../scenario/index.ts";
import { type CachedImage, type Cluster, productImage, startCluster } from "../node/index.ts";

export type { Cluster } from "../node/index.ts";
export { until } from "../node/testing.ts";

export const repo = join(import.meta.dirname, "..", "..", "..");
export const chart = join(repo, "charts", "xdp-counter");
export const RELEASE = "xdp-counter";
export const NAMESPACE = "xdp-system";

export interface LocalCluster {
  cluster: Cluster;
  image: CachedImage;
}

/** A cluster of real nodes `node-1`..`node-N` with the product's image imported (built first if missing). */
export async function startLocalCluster(
  nodes = 2,
  log: (line: string) => void = () => {},
): Promise<LocalCluster> {
  assert.equal(process.getuid?.(), 0, "real nodes need root: namespaces, mounts, cgroups");
  const image = await productImage(log);
  const cluster = await startCluster({
    nodes: Array.from({ length: nodes }, (_, i) => ({ name: `node-${i + 1}` })),
    images: [image],
    log,
  });
  return { cluster, image };
}

/** The release namespace as the README makes it: Pod Security's privileged level, which the agents need. */
export async function createReleaseNamespace(c: Cluster): Promise<void> {
  await kubectlOk(c, ["create", "namespace", NAMESPACE]);
  await kubectlOk(c, ["label", "namespace", NAMESPACE, "pod-security.kubernetes.io/enforce=privileged"]);
}

/** The `--set`s that make the chart use the imported image (never pulled). */
export function imageValues(image: CachedImage): string[] {
  const [repository, tag] = image.name.split(/:(?=[^:]+$)/);
  return [
    "--set",
    `image.repository=${repository}`,
    "--set",
    `image.tag=${tag}`,
    "--set",
    "image.pullPolicy=Never",
  ];
}

/**
 * The tests ask for reports every second or two on a few nodes: each node's budget is raised from one report
 * write a minute (docs/adr/0027), as a user of a small cluster wanting fast status would.
 */
export const FAST_REPORTS = ["--set", "agent.reportWritesPerMinute=600"];

/** `helm install` of the chart into NAMESPACE with the product's image, waiting for the operator. */
export function helmInstall(l: LocalCluster, extra: string[] = []) {
  return l.cluster.helm([
    "install",
    RELEASE,
    chart,
    "--namespace",
    NAMESPACE,
    ...imageValues(l.image),
    ...FAST_REPORTS,
    "--wait",
    "--timeout",
    "120s",
    ...extra,
  ]);
}

/** A kubeconfig for a ServiceAccount of the release, with a token from `kubectl create token`. */
export async function serviceAccountKubeconfig(c: Cluster, serviceAccount: string): Promise<string> {
  const token = (await kubectlOk(c, ["create", "token", serviceAccount, "-n", NAMESPACE])).trim();
  // in the cluster's folder, which goes with the cluster: the file holds a token
  const path = join(mkdtempSync(join(c.dir, "sa-")), "kubeconfig");
  return c.controlPlane.writeKubeconfig(path, { token }, serviceAccount);
}

export interface PodView {
  name: string;
  uid: string;
  node: string;
  ready: boolean;
  restartCount: number;
  /** the first container's id, `containerd://…` */
  containerId: string;
}

/** The pods of the release namespace with a component label, terminating ones left out. */
export async function podsOf(c: Cluster, component: "agent" | "operator"): Promise<PodView[]> {
  return (await allPodsOf(c, component))
    .filter((p) => !p.terminating)
    .map(({ terminating: _, ...pod }) => pod);
}

/** The pods of the release namespace with a component label, terminating ones too, as kubectl shows them. */
export async function allPodsOf(
  c: Cluster,
  component: "agent" | "operator",
): Promise<(PodView & { terminating: boolean })[]> {
  const out = await kubectlOk(c, [
    "get",
    "pods",
    "-n",
    NAMESPACE,
    "-l",
    `app.kubernetes.io/component=${component}`,
    "-o",
    "json",
  ]);
  const list = JSON.parse(out) as {
    items: {
      metadata: { name: string; uid: string; deletionTimestamp?: string };
      spec: { nodeName?: string };
      status: {
        conditions?: { type: string; status: string }[];
        containerStatuses?: { restartCount: number; containerID?: string }[];
      };
    }[];
  };
  return list.items.map((p) => ({
    name: p.metadata.name,
    uid: p.metadata.uid,
    node: p.spec.nodeName ?? "",
    ready: p.status.conditions?.some((x) => x.type === "Ready" && x.status === "True") ?? false,
    restartCount: p.status.containerStatuses?.[0]?.restartCount ?? 0,
    containerId: p.status.containerStatuses?.[0]?.containerID ?? "",
    terminating: Boolean(p.metadata.deletionTimestamp),
  }));
}

/**
 * SIGKILLs a pod's container process on its node, as a crash would (containerd's `ctr task kill` inside the
 * node); the kubelet then restarts the container in the same pod.
 */
export async function killContainer(c: Cluster, pod: PodView): Promise<void> {
  const id = pod.containerId.replace(/^containerd:\/\//, "");
  assert.ok(id, `${pod.name} has a running container`);
  const r = await c.execOnNode(pod.node, ["ctr", "-n", "k8s.io", "task", "kill", "-s", "SIGKILL", id]);
  assert.equal(r.code, 0, `ctr task kill on ${pod.node}: ${r.stderr}`);
}

/** Waits until no agent pod is left, terminating ones included (`kubectl wait --for=delete`). */
export async function agentPodsGone(c: Cluster): Promise<void> {
  await kubectlOk(c, [
    "wait",
    "--for=delete",
    "pod",
    "-n",
    NAMESPACE,
    "-l",
    "app.kubernetes.io/component=agent",
    "--timeout=90s",
  ]);
}
