// Per-action counters as u64 decimal strings, one per XDP action the program can return.
import { z } from "zod";
import { formatU64, parseU64, u64String } from "./u64.ts";

/** The XDP actions in the order of their kernel values (XDP_ABORTED = 0 … XDP_REDIRECT = 4). */
export const XDP_ACTIONS = ["aborted", "drop", "pass", "tx", "redirect"] as const;
export type XdpAction = (typeof XDP_ACTIONS)[number];

export function actionCounters(what: string) {
  return z
    .object({
      aborted: u64String.describe(`${what} the program ended with XDP_ABORTED (an error in the program).`),
      drop: u64String.describe(`${what} dropped (XDP_DROP).`),
      pass: u64String.describe(`${what} passed on to the kernel's network stack (XDP_PASS).`),
      tx: u64String.describe(`${what} sent back out of the interface they came in on (XDP_TX).`),
      redirect: u64String.describe(`${what} redirected to another interface, CPU or socket (XDP_REDIRECT).`),
    })
    .describe(`${what} by XDP action, each an unsigned 64-bit decimal string.`);
}

export const packetCounters = actionCounters("Packets");
export const byteCounters = actionCounters("Bytes of packets");
export type ActionCounters = z.infer<typeof packetCounters>;
export type ActionTotals = Record<XdpAction, bigint>;

export function zeroTotals(): ActionTotals {
  return { aborted: 0n, drop: 0n, pass: 0n, tx: 0n, redirect: 0n };
}

export function zeroCounters(): ActionCounters {
  return formatCounters(zeroTotals());
}

export function parseCounters(counters: ActionCounters): ActionTotals {
  const out = zeroTotals();
  for (const action of XDP_ACTIONS) out[action] = parseU64(counters[action]);
  return out;
}

export function formatCounters(totals: ActionTotals): ActionCounters {
  const out = {} as ActionCounters;
  for (const action of XDP_ACTIONS) out[action] = formatU64(totals[action]);
  return out;
}

/** Adds `counters` into `into`, exactly (bigint). Sums are not capped: formatCounters refuses a total above 2^64−1. */
export function addCounters(into: ActionTotals, counters: ActionCounters): ActionTotals {
  for (const action of XDP_ACTIONS) into[action] += parseU64(counters[action]);
  return into;
}
