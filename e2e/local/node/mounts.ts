// A node's mount namespace: made once with `unshare --mount=FILE` from inside the node's network namespace,
// kept alive by the file (a bind mount of the namespace, in the cluster's private folder), and entered by
// every process of the node with `nsenter --mount=FILE --net=/run/netns/NODE`. In it, step by step:
//
//   1. the copies of namespace pins go (another node's mount namespace file, the host's /run/netns), and of
//      other clusters' folders and other runtimes' container layers: a copy would keep that namespace or
//      mount alive after its owner removed it;
//   2. node-private tmpfs on /run (containerd's state and sockets, runc's root, the pods' netns pins, the
//      iptables lock), /var/log (the kubelet's /var/log/containers links) and /var/lib/cni (the CNI plugins'
//      IP allocations and cached results), paths these programs use whatever they are told;
//   3. sysfs mounted anew from inside the node's network namespace, so /sys/class/net lists the node's links;
//   4. the cgroup hierarchies mounted again on the fresh sysfs, with the host's controller sets (which finds
//      the host's hierarchies, not new ones): the kubelet and runc find them where they look;
//   5. a fresh bpffs on /sys/fs/bpf: the node's pins are its own;
//   6. `/` made rshared last, so that the kubelet's volume mounts reach runc's containers and the agents'
//      bpffs mount (HostToContainer) sees what the node's bpffs holds.
//
// Undo is one step: unmounting the file drops the last reference the host holds; once the node's processes are
// gone, the namespace goes, and every mount in it with it.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { type Hierarchy, mountHierarchiesScript } from "./cgroups.ts";
import { type NodeNamespaces, nodeScript, run, runSync } from "./cmd.ts";
import type { Steps } from "./steps.ts";

/** Where the CNI plugins keep their state whatever they are told; made on the host if it lacks it. */
export const CNI_STATE_DIR = "/var/lib/cni";

export async function createMountNamespace(ns: NodeNamespaces): Promise<void> {
  writeFileSync(ns.mountNs, "");
  await run([
    "nsenter",
    `--net=/run/netns/${ns.netns}`,
    "--",
    "unshare",
    `--mount=${ns.mountNs}`,
    "--propagation",
    "private",
    "true",
  ]);
}

export function removeMountNamespace(ns: NodeNamespaces): void {
  runSync(["umount", ns.mountNs]);
}

/**
 * The steps that make the namespace a node's (see the file's comment). `clusterDir` is the node's cluster's
 * folder (kept), `stateRoot` the folder of every cluster's (whose other mounts go).
 */
export async function prepareMounts(
  steps: Steps,
  ns: NodeNamespaces,
  hierarchies: Hierarchy[],
  where: { stateRoot: string; clusterDir: string },
): Promise<void> {
  const { stateRoot, clusterDir } = where;
  const inNode = (script: string) => nodeScript(ns, script);
  await steps.run(
    "mounts: drop the copies of namespace pins, other clusters' folders, containers' layers",
    () =>
      // findmnt -r escapes blanks in names (\x20): a name with a blank is not ours and stays, harmlessly
      inNode(
        [
          'findmnt -rn -t nsfs -o TARGET | sort -r | while read -r m; do umount -l "$m"; done',
          // another cluster's folder (a bind mount), and any other runtime's container layers (the image
          // test's dockerd): a copy here would keep them mounted until this node stops
          `findmnt -rn -o TARGET | grep '^${stateRoot}/' | grep -vx '${clusterDir}' | sort -r | while read -r m; do umount -l "$m"; done`,
          `findmnt -rn -t overlay -o TARGET | grep -vx / | sort -r | while read -r m; do umount -l "$m"; done`,
        ].join("\n"),
      ),
  );
  // /var/lib/cni is the one mount point that may be missing on the host; it stays there, empty, as the CNI
  // plugins' package would leave it.
  if (!existsSync(CNI_STATE_DIR)) mkdirSync(CNI_STATE_DIR, { recursive: true });
  await steps.run("mounts: node-private /run, /var/log, /var/lib/cni", () =>
    inNode(
      [
        // everything the host mounted under /run goes first (a copy would hide under the tmpfs, still mounted)
        "findmnt -rn -o TARGET | grep '^/run/' | sort -r | while read -r m; do umount -l \"$m\"; done",
        "mount -t tmpfs -o mode=755,size=64m tmpfs /run",
        "mount -t tmpfs -o mode=755,size=64m tmpfs /var/log",
        `mount -t tmpfs -o mode=755,size=64m tmpfs ${CNI_STATE_DIR}`,
      ].join("\n"),
    ),
  );
  await steps.run("mounts: sysfs of the node's network namespace", () =>
    inNode("umount -l /sys\nmount -t sysfs sysfs /sys"),
  );
  await steps.run("mounts: the cgroup hierarchies, as the host mounts them", () =>
    inNode(mountHierarchiesScript(hierarchies)),
  );
  await steps.run("mounts: a fresh bpffs at /sys/fs/bpf", () => inNode("mount -t bpf bpffs /sys/fs/bpf"));
  await steps.run("mounts: / rshared", () => inNode("mount --make-rshared /"));
}
