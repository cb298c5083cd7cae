// Go-style durations for the CLI's --interval ("500ms", "1s", "1m30s"). The API's reportInterval has its own
// stricter grammar (whole seconds, at least 1s) in api/v1alpha1/duration.ts.
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** Milliseconds in a duration string, or undefined if it is not one. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let ms = 0;
  for (const [, value, unit] of text.matchAll(PART))
    ms += Number(value) * (UNITS[unit as string] ?? Number.NaN);
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}
