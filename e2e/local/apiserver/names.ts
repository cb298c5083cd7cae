// Object name rules (k8s.io/apimachinery/pkg/util/validation) and generateName suffixes.
import { randomInt } from "node:crypto";
import type { StatusCause } from "./errors.ts";

const dns1123Label = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const dns1123Subdomain = `${dns1123Label}(\\.${dns1123Label})*`;

export function validateSubdomain(name: string, field = "metadata.name"): StatusCause[] {
  const causes: StatusCause[] = [];
  if (name.length > 253)
    causes.push({
      reason: "FieldValueInvalid",
      message: `Invalid value: "${name}": must be no more than 253 characters`,
      field,
    });
  if (!new RegExp(`^${dns1123Subdomain}$`).test(name))
    causes.push({
      reason: "FieldValueInvalid",
      message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '${dns1123Subdomain}')`,
      field,
    });
  return causes;
}

export function validateLabel(name: string, field = "metadata.name"): StatusCause[] {
  const causes: StatusCause[] = [];
  if (name.length > 63)
    causes.push({
      reason: "FieldValueInvalid",
      message: `Invalid value: "${name}": must be no more than 63 characters`,
      field,
    });
  if (!new RegExp(`^${dns1123Label}$`).test(name))
    causes.push({
      reason: "FieldValueInvalid",
      message: `Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '${dns1123Label}')`,
      field,
    });
  return causes;
}

/** The five-character suffix generateName gets (k8s.io/apimachinery/pkg/util/rand alphabet). */
export function nameSuffix(): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  let s = "";
  for (let i = 0; i < 5; i++) s += alphabet[randomInt(alphabet.length)];
  return s;
}
