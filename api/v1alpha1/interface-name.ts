// Interface names and glob patterns in spec.interfaces. A Linux interface name is 1–15 bytes (IFNAMSIZ 16
// with its NUL) and may not hold `/` or whitespace; we take the characters real names use (letters, digits,
// `.`, `_`, `-`) and the glob characters `*`, `?`, `[`, `]` and `!` (negation inside brackets).
import { z } from "zod";

export const INTERFACE_PATTERN = "^[A-Za-z0-9._*?!\\[\\]-]{1,15}$";
const interfaceRegex = new RegExp(INTERFACE_PATTERN);
export const MAX_INTERFACES = 32;

/** True when every `[` opens a bracket expression that a later `]` closes, and no `]` stands alone. */
export function hasBalancedBrackets(pattern: string): boolean {
  let open = false;
  for (const char of pattern) {
    if (char === "[") {
      if (open) return false;
      open = true;
    } else if (char === "]") {
      if (!open) return false;
      open = false;
    }
  }
  return !open;
}

export const interfacePattern = z
  .string()
  .regex(
    interfaceRegex,
    "must be 1-15 characters of an interface name (letters, digits, . _ -) or glob (* ? [ ] !), without / or whitespace",
  )
  .refine((name) => name !== "." && name !== "..", "cannot be . or ..")
  .refine(hasBalancedBrackets, "has an unbalanced [ or ]")
  .meta({
    "x-kubernetes-validations": [{ rule: "self != '.' && self != '..'", message: "cannot be . or .." }],
  })
  .describe("An interface name such as eth0, or a glob pattern such as eth* or ens[0-9]*.");
