// The kubelet's configuration and flags, all of it here. Values that differ from the kubelet's defaults say why;
// paths are spelt out because several kubelets share this machine's filesystem and must not share a default.
import { stringify } from "yaml";
import type { NodeLayout } from "./layout.ts";
import { CONTAINERD_SOCKET } from "./layout.ts";
import type { NodePki } from "./pki.ts";
import type { NodePlan } from "./plan.ts";

export function kubeletConfig(node: NodePlan, layout: NodeLayout, pki: NodePki, caFile: string): string {
  const config = {
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    // This machine runs cgroup v1, which the kubelet refuses by default since 1.35; 1.37 still runs on it.
    failCgroupV1: false,
    // No systemd manages cgroups here; containerd's runc is told the same (SystemdCgroup = false).
    cgroupDriver: "cgroupfs",
    // Each node's pods under a cgroup of its own, made in every hierarchy before the kubelet starts
    // (cgroups.ts): two kubelets on one machine must not both own /kubepods.
    cgroupRoot: node.cgroupRoot,
    containerRuntimeEndpoint: `unix://${CONTAINERD_SOCKET}`,
    // The API server reaches the kubelet here (logs, exec); healthz stays on the node's loopback.
    address: node.ip,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: "127.0.0.1",
    healthzPort: 10248,
    tlsCertFile: pki.kubeletServing.cert,
    tlsPrivateKeyFile: pki.kubeletServing.key,
    // Signed by the control plane's CA at start (pki.ts): no serving-certificate CSRs to approve.
    serverTLSBootstrap: false,
    rotateCertificates: false,
    authentication: {
      anonymous: { enabled: false },
      // The API server's kubelet client certificate is signed by the cluster's CA.
      x509: { clientCAFile: caFile },
      webhook: { enabled: true },
    },
    authorization: { mode: "Webhook" },
    // Every pod's logs in the node's folder, not /var/log/pods, which the kubelets would share.
    podLogsDir: layout.podLogs,
    // Not /usr/libexec/kubernetes/kubelet-plugins/volume/exec/ on the host: nothing of a node outside its folder.
    volumePluginDir: `${layout.kubeletRoot}/volume-plugins`,
    // No cluster DNS, and no resolver of the host's in pods: the tests' traffic stays on their own networks.
    resolvConf: "",
    clusterDomain: "cluster.local",
    // kind's disk settings: the nodes share the host's disk, whose fill level says nothing about a node, so
    // disk pressure must never evict pods or make images go.
    evictionHard: {
      "nodefs.available": "0%",
      "nodefs.inodesFree": "0%",
      "imagefs.available": "0%",
      "imagefs.inodesFree": "0%",
    },
    // Imported images have no registry to come back from: never collect them.
    imageGCHighThresholdPercent: 100,
    // No swap here, but a machine running the tests may have some (kind sets the same).
    failSwapOn: false,
    // Lowering an OOM score needs CAP_SYS_RESOURCE, which this machine withholds: keep the kubelet's as it is.
    oomScoreAdj: 0,
  };
  return stringify(config);
}

export function kubeletArgs(node: NodePlan, layout: NodeLayout, labels: Record<string, string>): string[] {
  const nodeLabels = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  return [
    `--config=${layout.kubeletConfig}`,
    // the node's client certificate (system:node:NAME) in a kubeconfig: no bootstrap token, no CSR
    `--kubeconfig=${layout.kubeletKubeconfig}`,
    `--root-dir=${layout.kubeletRoot}`,
    // the Node's name and its InternalIP (the API server connects to InternalIP first)
    `--hostname-override=${node.name}`,
    `--node-ip=${node.ip}`,
    ...(nodeLabels ? [`--node-labels=${nodeLabels}`] : []),
    "--v=1",
  ];
}
