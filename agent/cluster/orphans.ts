// Pins of XdpCounters that no longer exist: their agents are gone (the DaemonSet went with the XdpCounter)
// and nobody else would ever detach them. An agent removes them at start and now and then, after asking
// the API server: only a 404 counts as gone.

import type { Logger } from "../../runtime/index.ts";
import { detachCounter, pinnedInterfaces, pinOwners, STANDALONE_OWNER } from "../bpf/index.ts";
import { messageOf } from "./errors.ts";

export async function removeOrphans(opts: {
  pinRoot: string;
  self: string;
  exists: (xdpCounter: string) => Promise<boolean>;
  log: Logger;
}): Promise<string[]> {
  const removed: string[] = [];
  for (const owner of pinOwners(opts.pinRoot)) {
    // the CLI's pins, and anything that cannot be an XdpCounter name, are not ours to judge
    if (
      owner === opts.self ||
      owner === STANDALONE_OWNER ||
      !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(owner)
    ) {
      continue;
    }
    let exists: boolean;
    try {
      exists = await opts.exists(owner);
    } catch (err) {
      opts.log.warn("cannot tell whether an XdpCounter exists; keeping its pins", {
        owner,
        error: messageOf(err),
      });
      continue;
    }
    if (exists) continue;
    for (const iface of pinnedInterfaces(opts.pinRoot, owner)) {
      try {
        detachCounter({ iface, owner, pinRoot: opts.pinRoot });
        opts.log.info("removed the counter of a deleted XdpCounter", { owner, interface: iface });
      } catch (err) {
        opts.log.error("cannot remove the counter of a deleted XdpCounter", {
          owner,
          interface: iface,
          error: messageOf(err),
        });
      }
    }
    removed.push(owner);
  }
  return removed;
}
