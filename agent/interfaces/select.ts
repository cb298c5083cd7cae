// Which of a node's interfaces an XdpCounter counts on, from spec.interfaces:
// - empty: the primary interface, the one carrying the preferred default route;
// - a plain name (eth0, veth12ab): that interface whatever its kind; missing on the node: reported;
// - a glob (eth*, *): the matching interfaces that carry node traffic (physical NICs, bonds, VLANs), never
//   loopback nor virtual devices (veth, bridge, vxlan, docker0, cni0, cali*, ...) unless named exactly.

import { isGlob, matchesGlob } from "./glob.ts";
import type { Inventory, NetInterface } from "./inventory.ts";

export interface Selection {
  /** the interfaces to count on, in the node's order */
  selected: NetInterface[];
  /** plain names from the spec that no interface on the node has */
  missing: string[];
  /** why nothing could be selected by default (no default route) */
  problem: string | undefined;
}

export function selectInterfaces(patterns: readonly string[], inventory: Inventory): Selection {
  const { interfaces } = inventory;
  if (patterns.length === 0) {
    const primary = interfaces.find((i) => i.name === inventory.primary);
    return primary
      ? { selected: [primary], missing: [], problem: undefined }
      : {
          selected: [],
          missing: [],
          problem:
            "spec.interfaces is empty and the node has no default route, so there is no primary interface to count on",
        };
  }
  const selected = interfaces.filter((iface) =>
    patterns.some((p) =>
      isGlob(p) ? iface.class === "physical" && matchesGlob(iface.name, p) : iface.name === p,
    ),
  );
  const names = new Set(interfaces.map((i) => i.name));
  const missing = [...new Set(patterns.filter((p) => !isGlob(p) && !names.has(p)))];
  return { selected, missing, problem: undefined };
}

/**
 * Whether a pinned counter whose interface is not on the node (any more) still belongs to the spec: its
 * name matches a pattern. Its kind is unknown by now, so a glob matches it whatever the kind was. With an
 * empty spec it belongs only if it is the primary interface by name, which a vanished one cannot be.
 */
export function stillWanted(name: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => matchesGlob(name, p));
}
