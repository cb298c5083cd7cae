// Label keys and values as Kubernetes validates them (IsQualifiedName, IsValidLabelValue), for
// spec.nodeSelector and the tolerations' key and value: a nodeSelector that no Node label can ever have, or a
// toleration that no taint can ever match, is a mistake the API server tells at once, instead of an
// XdpCounter that silently counts nowhere. Each rule is written for zod and for the CRD with one message.
import { z } from "zod";
import { celString } from "./cel.ts";

/** An optional DNS-1123 subdomain and `/`, then a name of 1-63 characters: `kubernetes.io/os`, `pool`. */
const QUALIFIED_NAME =
  "([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?";
export const LABEL_KEY_PATTERN = `^${QUALIFIED_NAME}$`;
/** A toleration's key: a label key, or empty (with operator Exists: every taint). */
export const OPTIONAL_LABEL_KEY_PATTERN = `^(${QUALIFIED_NAME})?$`;
/** A pattern cannot count the prefix's characters across its dots, so its bound of 253 is a second rule. */
export const LONG_PREFIX_PATTERN = "^[^/]{254,}/";
export const LABEL_VALUE_PATTERN = "^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$";
export const MAX_LABEL_KEY = 253 + 1 + 63;
export const MAX_LABEL_VALUE = 63;

const keyRegex = new RegExp(LABEL_KEY_PATTERN);
const optionalKeyRegex = new RegExp(OPTIONAL_LABEL_KEY_PATTERN);
const longPrefixRegex = new RegExp(LONG_PREFIX_PATTERN);
const valueRegex = new RegExp(LABEL_VALUE_PATTERN);

const KEY_FORM =
  "an optional DNS subdomain prefix and /, then 1-63 letters, digits, - _ or ., beginning and ending with a letter or digit, such as kubernetes.io/os";
export const LABEL_KEY_MESSAGE = `must be a label key: ${KEY_FORM}`;
export const LABEL_KEYS_MESSAGE = `every key must be a label key: ${KEY_FORM}`;
export const OPTIONAL_LABEL_KEY_MESSAGE = `must be empty or a label key: ${KEY_FORM}`;
export const LONG_PREFIX_MESSAGE = "the prefix before / has at most 253 characters";
export const LABEL_VALUE_MESSAGE =
  "must be a label value: empty, or at most 63 letters, digits, - _ or ., beginning and ending with a letter or digit";

/** True when `text` is a label key that Kubernetes accepts. */
export function isLabelKey(text: string): boolean {
  return keyRegex.test(text) && !longPrefixRegex.test(text);
}

/** True when `text` is a label value that Kubernetes accepts (the empty value included). */
export function isLabelValue(text: string): boolean {
  return valueRegex.test(text);
}

/** The CEL rule, on a map, that every key is a label key (a map's keys have no schema of their own). */
export const LABEL_KEYS_CEL = `self.all(k, k.matches(${celString(LABEL_KEY_PATTERN)}) && !k.matches(${celString(LONG_PREFIX_PATTERN)}))`;

export const labelKey = z
  .string()
  .regex(keyRegex, LABEL_KEY_MESSAGE)
  .refine((text) => !longPrefixRegex.test(text), LONG_PREFIX_MESSAGE);

/** A toleration's key: empty or a label key; the prefix's bound is a CEL rule on the field. */
export const optionalLabelKey = z
  .string()
  .max(MAX_LABEL_KEY)
  .regex(optionalKeyRegex, OPTIONAL_LABEL_KEY_MESSAGE)
  .refine((text) => !longPrefixRegex.test(text), LONG_PREFIX_MESSAGE)
  .meta({
    "x-kubernetes-validations": [
      { rule: `!self.matches(${celString(LONG_PREFIX_PATTERN)})`, message: LONG_PREFIX_MESSAGE },
    ],
  });

export const labelValue = z.string().max(MAX_LABEL_VALUE).regex(valueRegex, LABEL_VALUE_MESSAGE);
