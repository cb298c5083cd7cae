// The node's interfaces as the agent sees them: names, kinds, addresses, the XDP program attached, and which
// carry a default route. Read with iproute2's JSON output in the agent's own network namespace (the node's,
// as the agent pod runs with hostNetwork): `ip -d -j addr show` gives links with their kind and addresses
// in one call, `ip -j route show default` (IPv4 and IPv6) the default routes.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { classify, type InterfaceClass } from "./classify.ts";
import { InterfaceError, InterfaceErrorCode } from "./errors.ts";

const run = promisify(execFile);
/** `ip` answers in milliseconds; a hung one must not stop the agent's loop. */
const IP_TIMEOUT_MS = 10_000;

export interface NetInterface {
  name: string;
  ifindex: number;
  class: InterfaceClass;
  /** IFLA_INFO_KIND: veth, bridge, vlan, ...; undefined for a physical NIC */
  kind: string | undefined;
  up: boolean;
  /** IPv4 and IPv6 addresses, without prefix length */
  addresses: string[];
  /** carries an IPv4 or IPv6 default route */
  defaultRoute: boolean;
  /** the id of the XDP program attached, 0 if none */
  xdpProgId: number;
}

export interface Inventory {
  interfaces: NetInterface[];
  /** the interface of the preferred default route (lowest metric, IPv4 first); undefined without one */
  primary: string | undefined;
}

type IpLink = {
  ifindex?: number;
  ifname?: string;
  flags?: string[];
  link_type?: string;
  operstate?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: { local?: string }[];
  xdp?: { prog?: { id?: number }; attached?: { prog?: { id?: number } }[] };
};
type IpRoute = { dst?: string; dev?: string; metric?: number; nexthops?: { dev?: string }[] };

/** Builds the inventory from `ip -d -j addr show` and the default routes (pure: tests feed it JSON). */
export function parseInventory(links: unknown, routes: unknown[]): Inventory {
  if (!Array.isArray(links)) {
    throw new InterfaceError(InterfaceErrorCode.BadOutput, "ip -j addr show did not print a JSON array");
  }
  const defaults: { dev: string; metric: number; order: number }[] = [];
  let order = 0;
  for (const list of routes) {
    if (!Array.isArray(list)) continue;
    for (const route of list as IpRoute[]) {
      const devs = route.dev ? [route.dev] : (route.nexthops ?? []).map((h) => h.dev ?? "");
      for (const dev of devs) if (dev) defaults.push({ dev, metric: route.metric ?? 0, order: order++ });
    }
  }
  defaults.sort((a, b) => a.metric - b.metric || a.order - b.order);
  const defaultDevs = new Set(defaults.map((d) => d.dev));
  const interfaces: NetInterface[] = [];
  for (const link of links as IpLink[]) {
    if (!link.ifname || link.ifindex === undefined) continue;
    const loopback = (link.flags ?? []).includes("LOOPBACK") || link.link_type === "loopback";
    const kind = link.linkinfo?.info_kind;
    interfaces.push({
      name: link.ifname,
      ifindex: link.ifindex,
      class: classify({ name: link.ifname, loopback, kind }),
      kind,
      up: (link.flags ?? []).includes("UP"),
      addresses: (link.addr_info ?? []).map((a) => a.local ?? "").filter((a) => a !== ""),
      defaultRoute: defaultDevs.has(link.ifname),
      xdpProgId: link.xdp?.prog?.id ?? link.xdp?.attached?.[0]?.prog?.id ?? 0,
    });
  }
  return { interfaces, primary: defaults[0]?.dev };
}

async function ipJson(args: string[]): Promise<unknown> {
  let stdout: string;
  try {
    ({ stdout } = await run("ip", args, { maxBuffer: 64 << 20, timeout: IP_TIMEOUT_MS }));
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new InterfaceError(
      InterfaceErrorCode.ListFailed,
      `ip ${args.join(" ")} failed: ${e.stderr?.trim() || e.message}`,
      { cause: err },
    );
  }
  try {
    return stdout.trim() === "" ? [] : JSON.parse(stdout);
  } catch (err) {
    throw new InterfaceError(InterfaceErrorCode.BadOutput, `ip ${args.join(" ")} printed no JSON`, {
      cause: err,
    });
  }
}

/** Lists the interfaces of the current network namespace. */
export async function readInventory(): Promise<Inventory> {
  const [links, v4, v6] = await Promise.all([
    ipJson(["-d", "-j", "addr", "show"]),
    ipJson(["-4", "-j", "route", "show", "default"]),
    ipJson(["-6", "-j", "route", "show", "default"]),
  ]);
  return parseInventory(links, [v4, v6]);
}
