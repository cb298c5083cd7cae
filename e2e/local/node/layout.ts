// Where a node's files are: all in its folder `<cluster folder>/<node>/`, which stop() removes. Inside the node
// (its mount namespace), /run, /var/log and /var/lib/cni are its own tmpfs (mounts.ts), so the places that
// containerd, runc and the CNI plugins use by default are private to it too.
import { join } from "node:path";

/** containerd's socket, in the node's own /run: the kubelet, ctr and crictl find it at the default path. */
export const CONTAINERD_SOCKET = "/run/containerd/containerd.sock";

export interface NodeLayout {
  dir: string;
  /** the file the node's mount namespace is bound to */
  mountNs: string;
  pki: string;
  containerdConfig: string;
  /** containerd's root: its content store, snapshots (the images' unpacked layers) and metadata */
  containerdRoot: string;
  cniConfDir: string;
  kubeletConfig: string;
  kubeletKubeconfig: string;
  /** the kubelet's root dir: pods' volumes, plugins' sockets, checkpoints */
  kubeletRoot: string;
  podLogs: string;
  kubeProxyConfig: string;
  kubeProxyKubeconfig: string;
}

export function nodeLayout(clusterDir: string, name: string): NodeLayout {
  const dir = join(clusterDir, name);
  return {
    dir,
    mountNs: join(dir, "mnt"),
    pki: join(dir, "pki"),
    containerdConfig: join(dir, "containerd.toml"),
    containerdRoot: join(dir, "containerd"),
    cniConfDir: join(dir, "cni"),
    kubeletConfig: join(dir, "kubelet.yaml"),
    kubeletKubeconfig: join(dir, "kubelet.kubeconfig"),
    kubeletRoot: join(dir, "kubelet"),
    podLogs: join(dir, "pod-logs"),
    kubeProxyConfig: join(dir, "kube-proxy.yaml"),
    kubeProxyKubeconfig: join(dir, "kube-proxy.kubeconfig"),
  };
}
