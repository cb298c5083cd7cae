// Leader election through a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it: the leader
// renews the Lease every retry period; another replica takes it over only when it has seen the same Lease
// record unchanged for a whole lease duration (its own clock, so clocks need not agree). Writes carry the
// resourceVersion, so two candidates cannot both win.
import { randomUUID } from "node:crypto";
import { messageOf, RuntimeError } from "../errors.ts";
import type { KubeClient, KubeObject } from "./kube-types.ts";
import { leasesPath } from "./paths.ts";

export type LeaderElectionOptions = {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  /** The Lease's owner, if any (the operator's Deployment): the Lease then goes with it. */
  owner?: { apiVersion: string; kind: string; name: string; uid: string };
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it gives up leadership. */
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onEvent?: (event: {
    type: "acquired" | "lost" | "released" | "error";
    holder?: string;
    reason?: string;
  }) => void;
};

type LeaseSpec = {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
};

/** metav1.MicroTime: RFC 3339 with microseconds. */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export class LeaderElector {
  readonly identity: string;
  #o: Required<Omit<LeaderElectionOptions, "onEvent" | "owner">> &
    Pick<LeaderElectionOptions, "onEvent" | "owner">;
  #observed: { record: string; at: number } | undefined;
  #leader = false;
  #abort = new AbortController();
  #inflight: Promise<boolean> | undefined;

  constructor(options: LeaderElectionOptions) {
    this.#o = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...options };
    // Two processes started with the same identity must not both believe they hold the Lease.
    this.identity = `${options.identity}_${randomUUID().slice(0, 8)}`;
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  #path(): string {
    return leasesPath(this.#o.namespace, this.#o.name);
  }

  /** One attempt to take or keep the Lease; true when this replica holds it afterwards. */
  async tryAcquireOrRenew(now = new Date()): Promise<boolean> {
    const { client } = this.#o;
    const durationSeconds = Math.ceil(this.#o.leaseDurationMs / 1000);
    const lease = await client.get(this.#path());
    if (!lease) {
      const spec: LeaseSpec = {
        holderIdentity: this.identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: 0,
      };
      try {
        await client.create(leasesPath(this.#o.namespace), {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: {
            name: this.#o.name,
            namespace: this.#o.namespace,
            ...(this.#o.owner ? { ownerReferences: [{ ...this.#o.owner }] } : {}),
          },
          spec,
        });
        return true;
      } catch (error) {
        if (error instanceof RuntimeError && error.statusCode === 409) return false;
        throw error;
      }
    }
    const spec = (lease.spec ?? {}) as LeaseSpec;
    const record = JSON.stringify(spec);
    if (!this.#observed || this.#observed.record !== record) this.#observed = { record, at: now.getTime() };
    const holder = spec.holderIdentity ?? "";
    const mine = holder === this.identity;
    const durationMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    const expired = holder === "" || this.#observed.at + durationMs <= now.getTime();
    if (!mine && !expired) return false;
    const next: LeaseSpec = {
      ...spec,
      holderIdentity: this.identity,
      leaseDurationSeconds: durationSeconds,
      renewTime: microTime(now),
      acquireTime: mine && spec.acquireTime ? spec.acquireTime : microTime(now),
      leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
    };
    try {
      const updated = await client.replace(this.#path(), { ...lease, spec: next } satisfies KubeObject);
      this.#observed = { record: JSON.stringify(updated.spec ?? {}), at: now.getTime() };
      return true;
    } catch (error) {
      if (error instanceof RuntimeError && error.statusCode === 409) return false;
      throw error;
    }
  }

  #sleep(ms: number): Promise<void> {
    const signal = this.#abort.signal;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done);
    });
  }

  #attempt(): Promise<boolean> {
    this.#inflight = this.tryAcquireOrRenew().catch((error: unknown) => {
      this.#o.onEvent?.({ type: "error", reason: messageOf(error) });
      return false;
    });
    return this.#inflight;
  }

  /**
   * Waits until this replica leads and calls `onStartedLeading`; then renews until `stop()` or until renewals
   * fail for longer than the renew deadline, when it calls `onStoppedLeading` (the process should then exit:
   * another replica may already be acting).
   */
  async run(onStartedLeading: () => void, onStoppedLeading: () => void): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted && !(await this.#attempt())) await this.#sleep(this.#o.retryPeriodMs);
    if (signal.aborted) return;
    this.#leader = true;
    this.#o.onEvent?.({ type: "acquired", holder: this.identity });
    onStartedLeading();
    let lastRenew = Date.now();
    while (!signal.aborted) {
      await this.#sleep(this.#o.retryPeriodMs);
      if (signal.aborted) break;
      if (await this.#attempt()) {
        lastRenew = Date.now();
      } else if (Date.now() - lastRenew > this.#o.renewDeadlineMs) {
        this.#leader = false;
        this.#o.onEvent?.({ type: "lost", holder: this.identity });
        onStoppedLeading();
        return;
      }
    }
  }

  /** Stops campaigning; a leader hands the Lease back at once (holder emptied) so a successor need not wait. */
  async stop(): Promise<void> {
    this.#abort.abort();
    // A renewal still in flight would otherwise land after the release and hold the Lease again.
    await this.#inflight;
    if (!this.#leader) return;
    this.#leader = false;
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const lease = await this.#o.client.get(this.#path());
        const spec = (lease?.spec ?? {}) as LeaseSpec;
        if (!lease || spec.holderIdentity !== this.identity) return;
        await this.#o.client.replace(this.#path(), {
          ...lease,
          spec: { ...spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: microTime(new Date()) },
        });
        this.#o.onEvent?.({ type: "released", holder: this.identity });
        return;
      } catch (error) {
        this.#o.onEvent?.({ type: "error", reason: messageOf(error) });
      }
    }
  }
}
