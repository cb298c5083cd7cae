// One daemon of a node (containerd, the kubelet, kube-proxy): joined to the node's daemon cgroup in every
// hierarchy before it runs (so whatever it starts, containerd's shims included, is under the node's cgroupRoot),
// then run in the node's mount and network namespaces through nsenter, in a process group of its own, its
// output appended to `<name>.log` and its identity in `<name>.pid` in the node's folder.
import { Daemon } from "../process.ts";
import { inNode, type NodeNamespaces } from "./cmd.ts";

export type { Exit } from "../process.ts";

/**
 * sh writes its own pid (which exec keeps through nsenter to the daemon) into each cgroup.procs file given
 * before "--", then execs the rest.
 */
const JOIN_CGROUPS = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';

/** A node's daemon: `argv` in the node's cgroups and namespaces. */
export class NodeProcess extends Daemon {
  constructor(
    name: string,
    argv: string[],
    options: { ns: NodeNamespaces; dir: string; cgroupProcs: string[]; env?: NodeJS.ProcessEnv },
  ) {
    super(
      name,
      ["/bin/sh", "-c", JOIN_CGROUPS, "sh", ...options.cgroupProcs, "--", ...inNode(options.ns, argv)],
      {
        dir: options.dir,
        env: options.env ?? { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
      },
    );
  }
}
