// Real nodes for the local cluster: each a network and mount namespace of its own in which containerd, runc,
// the CNI plugins, kube-proxy and a real kubelet run, on a cluster network of the project's own making, with
// images imported from tarballs (no registry). See README.md.
export { type Cluster, type ClusterOptions, type NodeSpec, startCluster } from "./cluster.ts";
export { type CachedImage, defaultImageCache, imageCacheDir } from "./images/cache.ts";
export { pauseImage } from "./images/pause.ts";
export { productImage } from "./images/product.ts";
export type { Node, NodeComponent } from "./node.ts";
export { type ClusterPlan, clusterPlan, type NodePlan, nodePlan } from "./plan.ts";
export { defaultNodesStateRoot, removeAbandonedClusters } from "./state.ts";
