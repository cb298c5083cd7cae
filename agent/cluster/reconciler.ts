// Makes the node's XDP counters match the spec, level-triggered, one poll at a time (docs/adr/0008):
// - selected interfaces get the counter; attachCounter adopts what a predecessor pinned (counters continue)
//   and never replaces a foreign program;
// - pinned interfaces that are no longer selected are detached and unpinned;
// - pinned interfaces that vanished but still match the spec keep their pins and are reported;
// - `action: drop` is refused on the interface of the default route and on the one holding the Node's
//   InternalIP, since dropping every packet there cuts the node off its cluster.

import type { AgentConfig } from "../../api/v1alpha1/index.ts";
import type { Logger } from "../../runtime/index.ts";
import { messageOf } from "../../runtime/index.ts";
import {
  type AttachedCounter,
  attachCounter,
  BpfError,
  BpfErrorCode,
  type Counters,
  counterStatus,
  detachCounter,
  type NativeRefusal,
  pinnedInterfaces,
  pinnedLinkIfindex,
  renameCounter,
} from "../bpf/index.ts";
import { type Inventory, type NetInterface, selectInterfaces, stillWanted } from "../interfaces/index.ts";

/** CamelCase reasons an interface is not counting, as a report's interfaces[].reason. */
export const InterfaceReason = {
  ForeignXdpProgram: "ForeignXdpProgram",
  HeldByXdpCounter: "HeldByXdpCounter",
  DropRefused: "DropRefused",
  InterfaceNotFound: "InterfaceNotFound",
  ModeUnsupported: "ModeUnsupported",
  AttachFailed: "AttachFailed",
  ReadFailed: "ReadFailed",
} as const;
export type InterfaceReason = (typeof InterfaceReason)[keyof typeof InterfaceReason];
/** Reasons that wait for a person (or the spec) to change something, not for a retry: the agent is ready. */
const SETTLED: ReadonlySet<string> = new Set([
  InterfaceReason.ForeignXdpProgram,
  InterfaceReason.HeldByXdpCounter,
  InterfaceReason.DropRefused,
  InterfaceReason.InterfaceNotFound,
  InterfaceReason.ModeUnsupported,
]);

export interface Problem {
  reason: InterfaceReason;
  error: string;
  /** HeldByXdpCounter: the XdpCounter whose program is on the interface */
  heldBy?: string;
}

export interface InterfaceState {
  name: string;
  attached: boolean;
  mode: "native" | "generic" | "";
  /** since the counter was first attached on this node (pinned map); undefined if never */
  counters: Counters | undefined;
  problem: Problem | undefined;
  /** why `auto` runs the interface in generic mode: the driver's refusal of native XDP */
  fallback?: NativeRefusal;
}

export interface ReconcilerOptions {
  config: AgentConfig;
  pinRoot: string;
  objectPath?: string;
  log: Logger;
  /**
   * The other XdpCounter that counts on an interface of this node, if one does: an interface has one XDP
   * program, so the first keeps it and this one waits until it lets go.
   */
  heldBy?: (iface: string) => string | undefined;
}

export function problemFor(err: unknown): Problem {
  if (err instanceof BpfError) {
    if (err.code === BpfErrorCode.ForeignProgram)
      return { reason: InterfaceReason.ForeignXdpProgram, error: err.message };
    if (err.code === BpfErrorCode.ModeUnsupported)
      return { reason: InterfaceReason.ModeUnsupported, error: err.message };
    if (err.code === BpfErrorCode.NoSuchInterface)
      return { reason: InterfaceReason.InterfaceNotFound, error: err.message };
  }
  return { reason: InterfaceReason.AttachFailed, error: messageOf(err) };
}

/** Why `action: drop` may not run on an interface, or undefined when it may. */
export function dropRefusal(iface: NetInterface, nodeIps: ReadonlySet<string>): string | undefined {
  if (iface.defaultRoute) return `it carries the node's default route`;
  const ip = iface.addresses.find((a) => nodeIps.has(a));
  if (ip) return `it holds the node's InternalIP ${ip}`;
  return undefined;
}

export class Reconciler {
  #config: AgentConfig;
  readonly #heldBy: (iface: string) => string | undefined;
  readonly #pinRoot: string;
  readonly #objectPath: string | undefined;
  readonly #log: Logger;
  readonly #open = new Map<string, AttachedCounter>();
  #problems = new Map<string, Problem>();
  /** the interfaces to report, in order: selected, then named-but-missing, then vanished-but-pinned */
  #wanted: string[] = [];
  #nodeProblem: string | undefined;
  #ready = false;

  constructor(opts: ReconcilerOptions) {
    this.#config = opts.config;
    this.#heldBy = opts.heldBy ?? (() => undefined);
    this.#pinRoot = opts.pinRoot;
    this.#objectPath = opts.objectPath;
    this.#log = opts.log;
  }

  get #owner(): string {
    return this.#config.xdpCounter;
  }

  get config(): AgentConfig {
    return this.#config;
  }

  /** A new spec of the same XdpCounter: the next reconcile applies it to what is attached, in place. */
  setConfig(config: AgentConfig): void {
    if (config.xdpCounter !== this.#config.xdpCounter)
      throw new Error(`a reconciler of ${this.#config.xdpCounter} cannot take ${config.xdpCounter}'s spec`);
    this.#config = config;
  }

  /** Ready once a reconcile attached every selected interface that can be attached. */
  get ready(): boolean {
    return this.#ready;
  }

  /** A node-level problem: no interface to count on, or the interfaces could not be listed. */
  get nodeProblem(): string | undefined {
    return this.#nodeProblem;
  }

  setNodeProblem(problem: string | undefined): void {
    this.#nodeProblem = problem;
  }

  reconcile(inventory: Inventory, nodeIps: ReadonlySet<string>): void {
    const config = this.#config;
    const patterns = config.interfaces;
    const selection = selectInterfaces(patterns, inventory);
    const present = new Map(inventory.interfaces.map((i) => [i.name, i]));
    const selected = new Set(selection.selected.map((i) => i.name));
    const problems = new Map<string, Problem>();
    const vanished: string[] = [];

    this.#followRenames(present, selected);
    // Detach what is no longer selected; keep the pins of vanished interfaces that still match.
    const pinned = pinnedInterfaces(this.#pinRoot, this.#owner);
    for (const name of new Set([...pinned, ...this.#open.keys()])) {
      if (selected.has(name)) continue;
      if (!present.has(name) && stillWanted(name, patterns)) {
        this.#close(name);
        vanished.push(name);
        continue;
      }
      this.#detach(name, "no longer selected");
    }

    for (const iface of selection.selected) {
      const { name } = iface;
      const holder = this.#open.has(name) || pinned.includes(name) ? undefined : this.#heldBy(name);
      if (holder) {
        problems.set(name, {
          reason: InterfaceReason.HeldByXdpCounter,
          error: `${name} is counted by XdpCounter ${holder} on this node (one XDP program per interface); counting starts here once it lets go`,
          heldBy: holder,
        });
        continue;
      }
      if (config.action === "drop") {
        const why = dropRefusal(iface, nodeIps);
        if (why) {
          if (this.#open.has(name) || pinned.includes(name)) this.#detach(name, "action drop refused");
          problems.set(name, {
            reason: InterfaceReason.DropRefused,
            error: `action drop refused on ${name}: ${why}, and dropping every packet there would cut the node off`,
          });
          continue;
        }
      }
      const open = this.#open.get(name);
      if (
        open &&
        open.ifindex === iface.ifindex &&
        open.progId === iface.xdpProgId &&
        open.action === config.action &&
        (config.attachMode === "auto" || open.mode === config.attachMode)
      ) {
        continue; // still ours, still as specified
      }
      this.#close(name);
      try {
        const counter = attachCounter({
          iface: name,
          owner: this.#owner,
          pinRoot: this.#pinRoot,
          mode: config.attachMode,
          action: config.action,
          objectPath: this.#objectPath,
        });
        this.#open.set(name, counter);
        this.#log.info("counter attached", {
          interface: name,
          outcome: counter.outcome,
          mode: counter.mode,
          action: counter.action,
          progId: counter.progId,
          ...(counter.fallback ? { fallback: counter.fallback.reason, why: counter.fallback.message } : {}),
        });
      } catch (err) {
        const problem = problemFor(err);
        problems.set(name, problem);
        if (this.#problems.get(name)?.error !== problem.error) {
          this.#log.warn("cannot count on interface", { interface: name, ...problem });
        }
      }
    }

    const node = config.nodeName;
    for (const name of [...selection.missing, ...vanished]) {
      problems.set(name, {
        reason: InterfaceReason.InterfaceNotFound,
        error: `no interface ${name} on node ${node}`,
      });
    }
    this.#problems = problems;
    this.#wanted = [
      ...new Set([...selection.selected.map((i) => i.name), ...selection.missing, ...vanished]),
    ];
    this.#nodeProblem =
      selection.problem ??
      (this.#wanted.length === 0
        ? `no interface on node ${node} matches spec.interfaces ${JSON.stringify(patterns)} (globs select only physical interfaces; name virtual ones exactly)`
        : undefined);
    this.#ready = [...problems.values()].every((p) => SETTLED.has(p.reason));
  }

  /**
   * An interface renamed while counting keeps its index and our link: its pins, under the old name, move to
   * the new one when the new name is selected, so the counter is adopted there instead of being taken for
   * a foreign program.
   */
  #followRenames(present: ReadonlyMap<string, NetInterface>, selected: ReadonlySet<string>): void {
    const pinned = pinnedInterfaces(this.#pinRoot, this.#owner);
    const byIndex = new Map([...present.values()].map((i) => [i.ifindex, i]));
    for (const old of pinned) {
      if (present.has(old)) continue;
      try {
        const ifindex = pinnedLinkIfindex({ iface: old, owner: this.#owner, pinRoot: this.#pinRoot });
        const now = ifindex ? byIndex.get(ifindex) : undefined;
        if (!now || !selected.has(now.name) || pinned.includes(now.name)) continue;
        this.#close(old);
        renameCounter({ iface: old, owner: this.#owner, pinRoot: this.#pinRoot }, now.name);
        this.#log.info("interface renamed: its counter follows", { from: old, interface: now.name });
      } catch (err) {
        this.#log.warn("cannot follow a renamed interface", { interface: old, error: messageOf(err) });
      }
    }
  }

  /** The state of every wanted interface, with counters read now. */
  states(): InterfaceState[] {
    return this.#wanted.map((name) => {
      const problem = this.#problems.get(name);
      const open = this.#open.get(name);
      if (open && !problem) {
        try {
          return {
            name,
            attached: true,
            mode: open.mode,
            counters: open.read(),
            problem: undefined,
            fallback: open.fallback,
          };
        } catch (err) {
          return {
            name,
            attached: true,
            mode: open.mode,
            counters: undefined,
            problem: { reason: InterfaceReason.ReadFailed, error: messageOf(err) },
          };
        }
      }
      let counters: Counters | undefined;
      try {
        counters = counterStatus({ iface: name, owner: this.#owner, pinRoot: this.#pinRoot }).counters;
      } catch {
        counters = undefined;
      }
      return { name, attached: false, mode: "", counters, problem };
    });
  }

  /** Clean mode: detach and unpin every counter of this XdpCounter on the node. Returns the interfaces. */
  cleanAll(reason: string): string[] {
    const names = [...new Set([...pinnedInterfaces(this.#pinRoot, this.#owner), ...this.#open.keys()])];
    for (const name of names) this.#detach(name, reason);
    this.#wanted = [];
    this.#problems = new Map();
    return names;
  }

  /** Closes file descriptors; everything attached stays attached and pinned. */
  close(): void {
    for (const name of [...this.#open.keys()]) this.#close(name);
  }

  #close(name: string): void {
    this.#open.get(name)?.close();
    this.#open.delete(name);
  }

  #detach(name: string, why: string): void {
    this.#close(name);
    try {
      const final = detachCounter({ iface: name, owner: this.#owner, pinRoot: this.#pinRoot });
      this.#log.info("counter detached", {
        interface: name,
        why,
        finalPackets: final
          ? Object.fromEntries(Object.entries(final).map(([a, c]) => [a, c.packets]))
          : null,
      });
    } catch (err) {
      this.#log.error("cannot detach counter", { interface: name, why, error: messageOf(err) });
    }
  }
}
