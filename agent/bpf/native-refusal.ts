// Why a driver refused native XDP, in the kernel's own words. Creating an XDP link (the bpf() syscall)
// returns only an errno: ERANGE, EOPNOTSUPP, ENOSPC. The driver's message ("Peer MTU is too large to set
// XDP") travels only in netlink's extended acknowledgement. So after a refusal the same program is offered
// once more through netlink (libbpf's bpf_xdp_attach, which logs that message), and taken straight back off
// in the rare case the driver accepts it this time; the caller then simply tries its link again.
import { execFileSync } from "node:child_process";
import { realpathSync } from "node:fs";
import { constants } from "node:os";
import { basename } from "node:path";
import { errnoName } from "./errors.ts";
import { XDP_FLAGS_DRV_MODE, XDP_FLAGS_UPDATE_IF_NOEXIST } from "./layout.ts";
import { native } from "./libbpf.ts";
import { captureLibbpfLog, takeLibbpfLog } from "./log.ts";

/** CamelCase reasons for not running native, as the CLI, the agent's report and the XdpCounter show them. */
export const NativeRefusalReason = {
  /** the driver's XDP cannot take frames of the interface's MTU (ERANGE, or the driver's message says MTU) */
  MtuTooLarge: "NativeMtuTooLarge",
  /** the driver has no native XDP at all (EOPNOTSUPP) */
  Unsupported: "NativeUnsupported",
  /** any other refusal of the driver's (queues, resources, ...): its message says which */
  Refused: "NativeRefused",
} as const;
export type NativeRefusalReason = (typeof NativeRefusalReason)[keyof typeof NativeRefusalReason];

export interface NativeRefusal {
  reason: NativeRefusalReason;
  /** the whole story in one sentence: driver, MTU, the kernel's words, errno */
  message: string;
}

/** What the refusal was, or that the driver took the program this time (it was detached again). */
export type NativeProbe = { accepted: true } | { accepted: false; refusal: NativeRefusal };

interface LinkFacts {
  driver: string;
  mtu: number | undefined;
}

/** The interface's driver and MTU, from `ip -d -j link` (netlink: right in any network namespace). */
function linkFacts(iface: string): LinkFacts {
  try {
    const out = execFileSync("ip", ["-d", "-j", "link", "show", "dev", iface], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    const link = (
      JSON.parse(out) as Array<{
        mtu?: number;
        linkinfo?: { info_kind?: string };
        parentbus?: string;
        parentdev?: string;
      }>
    )[0];
    let driver = link?.linkinfo?.info_kind;
    if (!driver && link?.parentbus && link.parentdev) {
      // A device's driver is global in sysfs, whichever network namespace its netdev is in.
      try {
        driver = basename(realpathSync(`/sys/bus/${link.parentbus}/devices/${link.parentdev}/driver`));
      } catch {
        driver = undefined;
      }
    }
    return { driver: driver ?? "unknown", mtu: link?.mtu };
  } catch {
    return { driver: "unknown", mtu: undefined };
  }
}

/** The kernel's message from libbpf's log of a failed netlink call, if it logged one. */
function kernelMessage(): string | undefined {
  for (const m of takeLibbpfLog("warn")) {
    const words = /Kernel error message: (.*)/.exec(m.text)?.[1]?.trim();
    if (words) return words;
  }
  return undefined;
}

export function classifyRefusal(errno: number, words: string | undefined): NativeRefusalReason {
  if (errno === constants.errno.ERANGE || /\bmtu\b/i.test(words ?? ""))
    return NativeRefusalReason.MtuTooLarge;
  if (errno === constants.errno.EOPNOTSUPP) return NativeRefusalReason.Unsupported;
  return NativeRefusalReason.Refused;
}

export function describeRefusal(
  reason: NativeRefusalReason,
  errno: number,
  words: string | undefined,
  facts: LinkFacts,
): string {
  const said = words ? `: "${words}"` : "";
  const mtu = facts.mtu === undefined ? "" : ` at MTU ${facts.mtu}`;
  const driver = facts.driver === "unknown" ? "the driver" : `the ${facts.driver} driver`;
  switch (reason) {
    case NativeRefusalReason.MtuTooLarge:
      return `${driver} refuses native XDP${mtu}${said} (${errnoName(errno)})`;
    case NativeRefusalReason.Unsupported:
      return `${driver} has no native XDP support${said} (${errnoName(errno)})`;
    default:
      return `${driver} refused native XDP${mtu}${said} (${errnoName(errno)})`;
  }
}

/**
 * Asks the driver once more, through netlink, why it refuses native XDP for `progFd` after a link creation
 * failed with `errno`. Never leaves the program attached.
 */
export function probeNativeRefusal(
  progFd: number,
  ifindex: number,
  iface: string,
  errno: number,
): NativeProbe {
  captureLibbpfLog();
  takeLibbpfLog(); // only this call's messages
  const flags = XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST;
  const ret = native.bpf_xdp_attach(ifindex, progFd, flags, null);
  if (ret === 0) {
    // Conditions changed in between (an MTU lowered, say): take it back off; only this very program goes.
    native.bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, { sz: 16, old_prog_fd: progFd });
    return { accepted: true };
  }
  const words = kernelMessage();
  const reason = classifyRefusal(errno, words);
  return {
    accepted: false,
    refusal: { reason, message: describeRefusal(reason, errno, words, linkFacts(iface)) },
  };
}
