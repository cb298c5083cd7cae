// Label and field selectors as the API server parses them (k8s.io/apimachinery/pkg/labels and pkg/fields).
import { badRequest } from "./errors.ts";

export type LabelRequirement =
  | { op: "exists" | "!"; key: string }
  | { op: "=" | "!="; key: string; value: string }
  | { op: "in" | "notin"; key: string; values: string[] };

export type Labels = Record<string, string>;

/** Splits on commas that are not inside parentheses. */
function splitTop(input: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of input) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== "");
}

const labelKey = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const labelValue = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

function checkKey(key: string, selector: string): string {
  if (!labelKey.test(key))
    throw badRequest(`unable to parse requirement: invalid label key "${key}" in "${selector}"`);
  return key;
}
function checkValue(value: string, selector: string): string {
  if (!labelValue.test(value))
    throw badRequest(`unable to parse requirement: invalid label value: "${value}" in "${selector}"`);
  return value;
}

export function parseLabelSelector(selector: string | null | undefined): LabelRequirement[] {
  if (!selector) return [];
  return splitTop(selector).map((part): LabelRequirement => {
    const setMatch = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part);
    if (setMatch) {
      const values = (setMatch[3] ?? "")
        .split(",")
        .map((v) => v.trim())
        .map((v) => checkValue(v, selector));
      return { op: setMatch[2] as "in" | "notin", key: checkKey(setMatch[1] ?? "", selector), values };
    }
    const cmp = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (cmp) {
      const op = cmp[2] === "!=" ? "!=" : "=";
      return {
        op,
        key: checkKey(cmp[1] ?? "", selector),
        value: checkValue((cmp[3] ?? "").trim(), selector),
      };
    }
    if (part.startsWith("!")) return { op: "!", key: checkKey(part.slice(1).trim(), selector) };
    return { op: "exists", key: checkKey(part, selector) };
  });
}

export function matchesLabels(reqs: LabelRequirement[], labels: Labels | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.hasOwn(l, r.key);
    switch (r.op) {
      case "exists":
        return has;
      case "!":
        return !has;
      case "=":
        return has && l[r.key] === r.value;
      case "!=":
        return !has || l[r.key] !== r.value;
      case "in":
        return has && r.values.includes(l[r.key] ?? "");
      case "notin":
        return !has || !r.values.includes(l[r.key] ?? "");
    }
    return false;
  });
}

/** Parses a label selector object (matchLabels + matchExpressions) into requirements. */
export function labelSelectorFromObject(sel: {
  matchLabels?: Labels;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}): LabelRequirement[] {
  const reqs: LabelRequirement[] = [];
  for (const [key, value] of Object.entries(sel.matchLabels ?? {})) reqs.push({ op: "=", key, value });
  for (const e of sel.matchExpressions ?? []) {
    if (e.operator === "In") reqs.push({ op: "in", key: e.key, values: e.values ?? [] });
    else if (e.operator === "NotIn") reqs.push({ op: "notin", key: e.key, values: e.values ?? [] });
    else if (e.operator === "Exists") reqs.push({ op: "exists", key: e.key });
    else if (e.operator === "DoesNotExist") reqs.push({ op: "!", key: e.key });
  }
  return reqs;
}

export function formatLabelSelector(reqs: LabelRequirement[]): string {
  return reqs
    .map((r) => {
      switch (r.op) {
        case "exists":
          return r.key;
        case "!":
          return `!${r.key}`;
        case "=":
          return `${r.key}=${r.value}`;
        case "!=":
          return `${r.key}!=${r.value}`;
        default:
          return `${r.key} ${r.op} (${r.values.join(",")})`;
      }
    })
    .join(",");
}

export interface FieldRequirement {
  field: string;
  op: "=" | "!=";
  value: string;
}

export function parseFieldSelector(selector: string | null | undefined): FieldRequirement[] {
  if (!selector) return [];
  return splitTop(selector).map((part) => {
    const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(part);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${part}'`);
    return { field: (m[1] ?? "").trim(), op: m[2] === "!=" ? "!=" : "=", value: (m[3] ?? "").trim() };
  });
}

/** Reads a dotted field path (`spec.nodeName`) from an object as the string a field selector compares. */
export function fieldValue(obj: unknown, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split(".")) {
    if (cur === null || typeof cur !== "object") return "";
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined || cur === null) return "";
  return typeof cur === "object" ? JSON.stringify(cur) : String(cur);
}

export function matchesFields(reqs: FieldRequirement[], obj: unknown): boolean {
  return reqs.every((r) => (fieldValue(obj, r.field) === r.value) === (r.op === "="));
}
