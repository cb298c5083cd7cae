// containerd's configuration, all of it here: Debian's containerd 1.6 (config version 2) with Debian's runc and
// CNI plugins (docs/adr/0018). Values that differ from containerd's defaults say why.
import type { NodeLayout } from "./layout.ts";
import { CONTAINERD_SOCKET } from "./layout.ts";

export const CONTAINERD = "/usr/bin/containerd";
export const CTR = "/usr/bin/ctr";
export const RUNC = "/usr/sbin/runc";
export const CNI_BIN_DIR = "/usr/lib/cni";

/** The snapshotter's plugins a node never uses: skipped, so containerd does not probe and log each. */
const UNUSED_PLUGINS = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
];

export function containerdConfig(layout: NodeLayout, sandboxImage: string): string {
  const q = (s: string) => JSON.stringify(s);
  return `# containerd 1.6 for one node of the local cluster (e2e/local/node/containerd.ts)
version = 2
# the node's own data, not /var/lib/containerd, which every node (and the host) would share
root = ${q(layout.containerdRoot)}
# the default, in the node's own /run (a tmpfs of its mount namespace): gone with the node
state = "/run/containerd"
disabled_plugins = [${UNUSED_PLUGINS.map(q).join(", ")}]

[grpc]
  address = ${q(CONTAINERD_SOCKET)}

[plugins."io.containerd.internal.v1.opt"]
  # not /opt/containerd on the host
  path = ${q(`${layout.containerdRoot}/opt`)}

[plugins."io.containerd.grpc.v1.cri"]
  # the pause image made by images/pause.ts and imported before the kubelet starts; nothing is ever pulled
  sandbox_image = ${q(sandboxImage)}
  # this machine withholds CAP_SYS_RESOURCE, so no process may lower an OOM score below its parent's; without
  # this, runc's attempt to set the kubelet's score for a sandbox fails every sandbox with "can't get final
  # child's PID from pipe"
  restrict_oom_score_adj = true
  # no AppArmor in this kernel, and no SELinux
  disable_apparmor = true
  enable_selinux = false

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # cgroup v1 with the cgroupfs driver, as the kubelet is configured: there is no systemd here
        SystemdCgroup = false
        BinaryName = ${q(RUNC)}
        # the default under containerd's state, spelt out: runc's state is per node because /run is
        Root = "/run/containerd/runc"

  [plugins."io.containerd.grpc.v1.cri".cni]
    # Debian's containernetworking-plugins install here, not in /opt/cni/bin
    bin_dir = ${q(CNI_BIN_DIR)}
    # the node's own network configuration (cni.ts), not /etc/cni/net.d
    conf_dir = ${q(layout.cniConfDir)}
    max_conf_num = 1

  [plugins."io.containerd.grpc.v1.cri".registry]
    # no registry is reachable and none is configured: an image that is not imported cannot be pulled
    config_path = ""
`;
}

/** containerd's command line: the config file holds everything. */
export function containerdArgs(layout: NodeLayout): string[] {
  return ["--config", layout.containerdConfig, "--log-level", "info"];
}
