// Unsigned 64-bit counters as decimal strings: JSON numbers lose precision above 2^53 in JavaScript clients,
// and Kubernetes integers are int64, so a u64 travels as text and is computed on as bigint.
import { z } from "zod";
import { ApiError, ApiErrorCode } from "./errors.ts";

export const U64_MAX = (1n << 64n) - 1n;
export const U64_MAX_STRING = U64_MAX.toString();
/** Canonical decimal: no sign, no leading zeros, at most 20 digits. The range check is separate. */
export const U64_PATTERN = "^(0|[1-9][0-9]{0,19})$";
const u64Regex = new RegExp(U64_PATTERN);

/** True when `text` is the canonical decimal form of a value in [0, 2^64−1]. */
export function isU64String(text: string): boolean {
  return u64Regex.test(text) && BigInt(text) <= U64_MAX;
}

export function parseU64(text: string): bigint {
  if (!isU64String(text)) {
    throw new ApiError(ApiErrorCode.InvalidU64, `not an unsigned 64-bit decimal: ${JSON.stringify(text)}`);
  }
  return BigInt(text);
}

export function formatU64(value: bigint): string {
  if (value < 0n || value > U64_MAX) {
    throw new ApiError(ApiErrorCode.InvalidU64, `out of the unsigned 64-bit range: ${value}`);
  }
  return value.toString();
}

/**
 * The upper bound in CEL, for the CRD: CEL has no unsigned 64-bit integer to parse into, but for canonical
 * decimals (the pattern: no sign, no leading zeros) a shorter string is a smaller number, and strings of the
 * same length compare as numbers do, digit by digit.
 */
export const U64_MAX_CEL = `self.size() < ${U64_MAX_STRING.length} || self <= '${U64_MAX_STRING}'`;
const U64_MAX_MESSAGE = `must be at most ${U64_MAX_STRING} (2^64-1)`;

export const u64String = z
  .string()
  .max(U64_MAX_STRING.length)
  .regex(u64Regex, "must be a decimal integer without sign or leading zeros")
  .refine((text) => !u64Regex.test(text) || BigInt(text) <= U64_MAX, U64_MAX_MESSAGE)
  .meta({ "x-kubernetes-validations": [{ rule: U64_MAX_CEL, message: U64_MAX_MESSAGE }] });
