// Helpers for the CEL rules (x-kubernetes-validations) the CRD carries beside the zod checks.

/** `text` as a single-quoted CEL string literal: backslashes and quotes escaped, so a pattern reads as written. */
export function celString(text: string): string {
  return `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}
