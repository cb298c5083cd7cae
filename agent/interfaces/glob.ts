// Shell-style globs for interface names, as spec.interfaces takes them: `*` (any run of characters), `?`
// (one character), `[abc]`, `[a-z]` and `[!a-z]` (one character in, or not in, a set). Interface names hold
// no `/`, so there are no path rules; the whole name must match.

/** True when the pattern has glob characters, i.e. it is not a plain interface name. */
export function isGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

const escapeChar = (char: string): string => (/[\\^$.*+?()[\]{}|/-]/.test(char) ? `\\${char}` : char);

/** The regular expression a glob stands for, anchored at both ends. */
export function globToRegExp(pattern: string): RegExp {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] as string;
    if (char === "*") out += ".*";
    else if (char === "?") out += ".";
    else if (char === "[") {
      const close = pattern.indexOf("]", i + 2);
      if (close < 0) {
        out += "\\[";
        continue;
      }
      let body = pattern.slice(i + 1, close);
      let negate = false;
      if (body.startsWith("!") || body.startsWith("^")) {
        negate = true;
        body = body.slice(1);
      }
      let set = "";
      for (let j = 0; j < body.length; j++) {
        const c = body[j] as string;
        // a-z is a range; a dash at either end is a literal dash
        if (c === "-" && j > 0 && j < body.length - 1) set += "-";
        else set += c === "]" || c === "\\" || c === "^" || c === "-" ? `\\${c}` : c;
      }
      out += `[${negate ? "^" : ""}${set}]`;
      i = close;
    } else out += escapeChar(char);
  }
  return new RegExp(`^${out}$`);
}

/** Whether an interface name matches a glob (or equals a plain name). */
export function matchesGlob(name: string, pattern: string): boolean {
  if (!isGlob(pattern)) return name === pattern;
  return globToRegExp(pattern).test(name);
}
