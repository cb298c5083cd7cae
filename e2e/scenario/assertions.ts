// Assertions of the end-to-end scenario, made only through what a user sees: `kubectl get xdpcounter`,
// `kubectl get xdpcounterreports` and, on the nodes, `ip link` and the bpffs. Shared by the local cluster's
// suite and the kind script.
import assert from "node:assert/strict";
import { until } from "../local/wait.ts";
import type { ScenarioCluster } from "./cluster.ts";

export const PIN_DIR = "/sys/fs/bpf/xdp-counter";

type Action = "pass" | "drop" | "aborted" | "tx" | "redirect";

export interface Counts {
  /** Packets by node for one action, from the nodes' reports (an absent action counted 0). */
  nodes: Record<string, bigint>;
  /** status.totals.packets of that action (the totals carry all five actions). */
  total: bigint;
}

interface ReportList {
  items: { nodeName: string; xdpCounter: { uid: string }; packets?: Record<string, string> }[];
}

/**
 * Reads one action's counters of an XdpCounter: by node from its reports (`kubectl get xdpcr -l
 * xdpcounter.dev/xdpcounter=NAME`), in total from its status. The total is read first, so a report written
 * between the two reads shows in the nodes before it shows in the total, never the other way round.
 */
export async function readCounts(c: ScenarioCluster, name: string, action: Action = "pass"): Promise<Counts> {
  const x = await c.kubectl(["get", "xdpcounter", name, "-o", "json"]);
  assert.equal(x.code, 0, `kubectl get xdpcounter ${name}: ${x.stderr}`);
  const object = JSON.parse(x.stdout) as {
    metadata: { uid: string };
    status?: { totals?: { packets?: Record<string, string> } };
  };
  const r = await c.kubectl([
    "get",
    "xdpcounterreports",
    "-l",
    `xdpcounter.dev/xdpcounter=${name}`,
    "-o",
    "json",
  ]);
  assert.equal(r.code, 0, `kubectl get xdpcounterreports of ${name}: ${r.stderr}`);
  const nodes: Record<string, bigint> = {};
  for (const report of (JSON.parse(r.stdout) as ReportList).items) {
    if (report.xdpCounter.uid !== object.metadata.uid) continue; // an earlier XdpCounter's, not yet deleted
    nodes[report.nodeName] = BigInt(report.packets?.[action] ?? 0);
  }
  return { nodes, total: BigInt(object.status?.totals?.packets?.[action] ?? 0) };
}

function show(counts: Counts | undefined): string {
  if (!counts) return "nothing read";
  const nodes = Object.entries(counts.nodes).map(([n, v]) => `${n}=${v}`);
  return `${nodes.join(" ")} total=${counts.total}`;
}

function sum(values: Iterable<bigint>): bigint {
  let s = 0n;
  for (const v of values) s += v;
  return s;
}

/**
 * Waits until each node in `expected` shows exactly its count for `action` and the totals are the sum of all
 * nodes' reports; returns what it read last. Fails naming the last counts seen.
 */
export async function expectExactCounts(
  c: ScenarioCluster,
  name: string,
  expected: Record<string, bigint | number>,
  opts: { action?: Action; timeoutMs?: number } = {},
): Promise<Counts> {
  let last: Counts | undefined;
  const want = Object.entries(expected).map(([n, v]) => [n, BigInt(v)] as const);
  try {
    return await until(
      `${name}: ${want.map(([n, v]) => `${n}=${v}`).join(" ")}`,
      async () => {
        last = await readCounts(c, name, opts.action);
        const counts = last;
        const exact = want.every(([n, v]) => counts.nodes[n] === v);
        return exact && counts.total === sum(Object.values(counts.nodes)) ? counts : undefined;
      },
      opts.timeoutMs ?? 30_000,
    );
  } catch (err) {
    assert.fail(`${(err as Error).message}; last seen: ${show(last)}`);
  }
}

/** As expectExactCounts, but each node at least its count: for nodes that also carry background traffic. */
export async function expectAtLeastCounts(
  c: ScenarioCluster,
  name: string,
  expected: Record<string, bigint | number>,
  opts: { action?: Action; timeoutMs?: number } = {},
): Promise<Counts> {
  let last: Counts | undefined;
  const want = Object.entries(expected).map(([n, v]) => [n, BigInt(v)] as const);
  try {
    return await until(
      `${name}: ${want.map(([n, v]) => `${n}>=${v}`).join(" ")}`,
      async () => {
        last = await readCounts(c, name, opts.action);
        const counts = last;
        const enough = want.every(([n, v]) => (counts.nodes[n] ?? -1n) >= v);
        return enough && counts.total === sum(Object.values(counts.nodes)) ? counts : undefined;
      },
      opts.timeoutMs ?? 60_000,
    );
  } catch (err) {
    assert.fail(`${(err as Error).message}; last seen: ${show(last)}`);
  }
}

/**
 * Samples an XdpCounter's counters in the background and checks, when stopped, that no node's count and no
 * total ever went down (across restarts and rollouts). Entries that vanish (a node deselected) are not a
 * decrease, nor is the totals' fall by what they had counted.
 */
export function watchNeverDecreases(
  c: ScenarioCluster,
  name: string,
  action: Action = "pass",
): { stop(): Promise<number> } {
  let running = true;
  let samples = 0;
  const problems: string[] = [];
  const loop = (async () => {
    let prev: Counts | undefined;
    // What vanished entries had counted: the totals may fall by that much. Totals are compared only where
    // they are the sum of the entries beside them (an agent's write and the operator's totals are two writes).
    const lastOf = new Map<string, bigint>();
    let lost = 0n;
    let lastConsistent: bigint | undefined;
    while (running) {
      const r = await readCounts(c, name, action).catch(() => undefined);
      if (r) {
        samples++;
        for (const [n, v] of Object.entries(r.nodes)) {
          const before = prev?.nodes[n];
          if (before !== undefined && v < before) problems.push(`${n} ${before} → ${v}`);
          lastOf.set(n, v);
        }
        for (const [n, v] of lastOf)
          if (!(n in r.nodes)) {
            lost += v;
            lastOf.delete(n);
          }
        if (Object.values(r.nodes).reduce((a, b) => a + b, 0n) === r.total) {
          if (lastConsistent !== undefined && r.total + lost < lastConsistent)
            problems.push(`total ${lastConsistent - lost} → ${r.total}`);
          lastConsistent = r.total + lost;
        }
        prev = r;
      }
      await new Promise((res) => setTimeout(res, 200));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      assert.deepEqual(problems, [], `${name}'s counters went down`);
      return samples;
    },
  };
}

interface IpLink {
  ifname: string;
  xdp?: { prog?: { id?: number }; attached?: unknown[] };
}

/** The interfaces of a node with an XDP program attached (`ip -j link`), with the program's id. */
export async function xdpLinks(c: ScenarioCluster, node: string): Promise<string[]> {
  const r = await c.execOnNode(node, ["ip", "-j", "link", "show"]);
  assert.equal(r.code, 0, `ip link on ${node}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as IpLink[]).filter((l) => l.xdp).map((l) => l.ifname);
}

/** What xdp-counter pinned on a node: the entries under /sys/fs/bpf/xdp-counter (none when it is absent). */
export async function pinsOn(c: ScenarioCluster, node: string): Promise<string[]> {
  const r = await c.execOnNode(node, ["sh", "-c", `[ ! -d ${PIN_DIR} ] || find ${PIN_DIR} -mindepth 1`]);
  assert.equal(r.code, 0, `listing ${PIN_DIR} on ${node}: ${r.stderr}`);
  return r.stdout.split("\n").filter(Boolean);
}

/** Waits until every node has no XDP program on any interface and nothing under /sys/fs/bpf/xdp-counter. */
export async function expectNoXdpAnywhere(
  c: ScenarioCluster,
  nodes: string[],
  timeoutMs = 30_000,
): Promise<void> {
  let last = "";
  try {
    await until(
      "no XDP program and no pin on any node",
      async () => {
        const left: string[] = [];
        for (const n of nodes) {
          for (const l of await xdpLinks(c, n)) left.push(`${n}: xdp on ${l}`);
          for (const p of await pinsOn(c, n)) left.push(`${n}: pin ${p}`);
        }
        last = left.join(", ");
        return left.length === 0;
      },
      timeoutMs,
    );
  } catch (err) {
    assert.fail(`${(err as Error).message}; still there: ${last}`);
  }
}

/** Asserts that `kubectl` with `kubeconfig` is refused with 403 Forbidden. */
export async function expectForbidden(c: ScenarioCluster, kubeconfig: string, args: string[]): Promise<void> {
  const r = await c.kubectl(args, { kubeconfig });
  assert.notEqual(r.code, 0, `kubectl ${args.join(" ")} should be refused, got: ${r.stdout}`);
  assert.match(r.stderr, /Forbidden|forbidden/, `kubectl ${args.join(" ")}: ${r.stderr}`);
}

/** Asserts that `kubectl` with `kubeconfig` succeeds; returns its output. */
export async function expectAllowed(c: ScenarioCluster, kubeconfig: string, args: string[]): Promise<string> {
  const r = await c.kubectl(args, { kubeconfig });
  assert.equal(r.code, 0, `kubectl ${args.join(" ")} should be allowed: ${r.stderr}`);
  return r.stdout;
}

/** Asserts that `kubectl` (admin) succeeds; returns its output. */
export async function kubectlOk(c: ScenarioCluster, args: string[], input?: string): Promise<string> {
  const r = await c.kubectl(args, input === undefined ? {} : { input });
  assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}
