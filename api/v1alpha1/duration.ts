// Report intervals as Go-style duration strings (`10s`, `1m30s`, `1h`), the form kubectl users know from
// Kubernetes and from CEL's duration(). Only whole hours, minutes and seconds: a report interval below one
// second is refused, so there is no need for `ms`, `us` or `ns`.
import { z } from "zod";
import { ApiError, ApiErrorCode } from "./errors.ts";

export const MIN_REPORT_INTERVAL_MS = 1_000;
export const MAX_REPORT_INTERVAL_MS = 3_600_000;
export const DEFAULT_REPORT_INTERVAL = "1m";

/**
 * Hours, minutes and seconds in that order, each at most 4 digits. The first component present has no
 * leading zero and is not zero, so `0s`, `0m30s` and `00h` are refused by the pattern alone, and since
 * there are no sub-second units every accepted value is at least 1s. The upper bound is checked by the
 * zod refine and, in the CRD, by a CEL rule (a pattern cannot compare sums).
 */
export const DURATION_PATTERN =
  "^([1-9][0-9]{0,3}h([0-9]{1,4}m)?([0-9]{1,4}s)?|[1-9][0-9]{0,3}m([0-9]{1,4}s)?|[1-9][0-9]{0,3}s)$";
const durationRegex = new RegExp(DURATION_PATTERN);
const componentRegex = /([0-9]+)([hms])/g;
const unitMs = { h: 3_600_000, m: 60_000, s: 1_000 } as const;

/** Milliseconds of a duration string that matches DURATION_PATTERN. */
export function parseDuration(text: string): number {
  if (!durationRegex.test(text)) {
    throw new ApiError(
      ApiErrorCode.InvalidDuration,
      `not a duration like 10s, 1m30s or 1h: ${JSON.stringify(text)}`,
    );
  }
  let ms = 0;
  for (const [, digits, unit] of text.matchAll(componentRegex)) {
    ms += Number(digits) * unitMs[unit as keyof typeof unitMs];
  }
  return ms;
}

/** The shortest duration string for whole seconds (`90000` → `1m30s`, `3600000` → `1h`). */
export function formatDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms <= 0 || ms % 1_000 !== 0) {
    throw new ApiError(ApiErrorCode.InvalidDuration, `not a positive whole number of seconds: ${ms}ms`);
  }
  const seconds = ms / 1_000;
  const h = Math.floor(seconds / 3_600);
  const m = Math.floor((seconds % 3_600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${m > 0 ? `${m}m` : ""}${s > 0 ? `${s}s` : ""}`;
  if (m > 0) return `${m}m${s > 0 ? `${s}s` : ""}`;
  return `${s}s`;
}

/** The CEL rule the CRD carries for the bounds; kept beside the zod refine that says the same. */
export const REPORT_INTERVAL_CEL = "duration(self) >= duration('1s') && duration(self) <= duration('1h')";

export const reportInterval = z
  .string()
  .max(16)
  .regex(durationRegex, "must be a duration of hours, minutes and seconds such as 10s, 1m30s or 1h")
  .refine(
    (text) => !durationRegex.test(text) || parseDuration(text) <= MAX_REPORT_INTERVAL_MS,
    "must be at most 1h",
  )
  .meta({
    "x-kubernetes-validations": [{ rule: REPORT_INTERVAL_CEL, message: "must be between 1s and 1h" }],
  });
