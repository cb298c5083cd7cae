// One daemon of a node (containerd, the kubelet, kube-proxy): joined to the node's daemon cgroup in every
// hierarchy before it runs (so whatever it starts, containerd's shims included, is under the node's cgroupRoot),
// then run in the node's mount and network namespaces through nsenter, in a process group of its own, its
// output appended to `<name>.log` and its identity in `<name>.pid` in the node's folder.
import { Daemon } from "../process.ts";
import { inCgroups } from "./cgroups.ts";
import { inNode, type NodeNamespaces } from "./cmd.ts";

export type { Exit } from "../process.ts";

/** A node's daemon: `argv` in the node's cgroups and namespaces. */
export class NodeProcess extends Daemon {
  constructor(
    name: string,
    argv: string[],
    options: { ns: NodeNamespaces; dir: string; cgroupProcs: string[]; env?: NodeJS.ProcessEnv },
  ) {
    super(
      name,
      // the pid that joins the cgroups is kept by exec through nsenter to the daemon
      inCgroups(options.cgroupProcs, inNode(options.ns, argv)),
      {
        dir: options.dir,
        env: options.env ?? { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
      },
    );
  }
}
