// Per-action counters as u64 decimal strings, one per XDP action the program can return.
//
// Two shapes: a node's and an interface's counters leave out the actions that counted 0 (an action that is
// absent counted 0, like Go's `omitempty`), since the program returns one configured action and the other
// four would be "0" on every node; the cluster totals always carry all five, so `kubectl get` shows 0
// rather than <none> (docs/adr/0001).
import { z } from "zod";
import { formatU64, parseU64, u64String } from "./u64.ts";

/** The XDP actions in the order of their kernel values (XDP_ABORTED = 0 … XDP_REDIRECT = 4). */
export const XDP_ACTIONS = ["aborted", "drop", "pass", "tx", "redirect"] as const;
export type XdpAction = (typeof XDP_ACTIONS)[number];

function actionFields(what: string) {
  return {
    aborted: u64String.describe(`${what} the program ended with XDP_ABORTED (an error in the program).`),
    drop: u64String.describe(`${what} dropped (XDP_DROP).`),
    pass: u64String.describe(`${what} passed on to the kernel's network stack (XDP_PASS).`),
    tx: u64String.describe(`${what} sent back out of the interface they came in on (XDP_TX).`),
    redirect: u64String.describe(`${what} redirected to another interface, CPU or socket (XDP_REDIRECT).`),
  };
}

/** Counters of a node or an interface: an action that is absent counted 0. */
export function actionCounters(what: string) {
  return z
    .object(actionFields(what))
    .partial()
    .describe(
      `${what} by XDP action, each an unsigned 64-bit decimal string. An action that is absent counted 0: agents leave zero counters out.`,
    );
}

/** Counters with every action present, "0" included: the cluster totals. */
export function completeActionCounters(what: string) {
  return z
    .object(actionFields(what))
    .describe(`${what} by XDP action, each an unsigned 64-bit decimal string; all five are always present.`);
}

export const packetCounters = actionCounters("Packets");
export const byteCounters = actionCounters("Bytes of packets");
export const completePacketCounters = completeActionCounters("Packets");
export const completeByteCounters = completeActionCounters("Bytes of packets");
/** A node's or an interface's counters: absent actions counted 0. Entries written before zeros were left out carry all five, and read the same. */
export type ActionCounters = z.infer<typeof packetCounters>;
/** All five actions present: the cluster totals. */
export type CompleteActionCounters = z.infer<typeof completePacketCounters>;
export type ActionTotals = Record<XdpAction, bigint>;

export function zeroTotals(): ActionTotals {
  return { aborted: 0n, drop: 0n, pass: 0n, tx: 0n, redirect: 0n };
}

/** All five actions at "0". */
export function zeroCounters(): CompleteActionCounters {
  return formatCounters(zeroTotals());
}

/** The counters as numbers; an absent action is 0n. */
export function parseCounters(counters: ActionCounters): ActionTotals {
  return addCounters(zeroTotals(), counters);
}

/** All five actions, "0" included: the shape of the cluster totals. */
export function formatCounters(totals: ActionTotals): CompleteActionCounters {
  const out = {} as CompleteActionCounters;
  for (const action of XDP_ACTIONS) out[action] = formatU64(totals[action]);
  return out;
}

/** Only the actions that counted something: the shape of a node's and an interface's counters. */
export function formatNonZeroCounters(totals: ActionTotals): ActionCounters {
  const out: ActionCounters = {};
  for (const action of XDP_ACTIONS) if (totals[action] !== 0n) out[action] = formatU64(totals[action]);
  return out;
}

/** One action's count; absent is 0n. */
export function counterOf(counters: ActionCounters, action: XdpAction): bigint {
  const text = counters[action];
  return text === undefined ? 0n : parseU64(text);
}

/**
 * Adds `counters` into `into`, exactly (bigint); an absent action adds 0n. Sums are not capped:
 * formatCounters refuses a total above 2^64−1.
 */
export function addCounters(into: ActionTotals, counters: ActionCounters): ActionTotals {
  for (const action of XDP_ACTIONS) into[action] += counterOf(counters, action);
  return into;
}
