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

const qualifiedNamePart = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const labelValuePattern = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";

/** A label or annotation key: an optional DNS subdomain prefix and a name part of at most 63 characters. */
function qualifiedNameErrors(key: string): string[] {
  const parts = key.split("/");
  const name = parts.length === 2 ? (parts[1] ?? "") : key;
  const errors: string[] = [];
  if (parts.length > 2)
    errors.push(
      `a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${qualifiedNamePart}') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    );
  if (parts.length === 2) {
    const prefix = parts[0] ?? "";
    if (prefix === "") errors.push("prefix part must be non-empty");
    else if (prefix.length > 253 || !new RegExp(`^${dns1123Subdomain}$`).test(prefix))
      errors.push(
        `prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '${dns1123Subdomain}')`,
      );
  }
  if (name.length === 0) errors.push("name part must be non-empty");
  else if (name.length > 63) errors.push("name part must be no more than 63 characters");
  if (name.length > 0 && !new RegExp(`^${qualifiedNamePart}$`).test(name))
    errors.push(
      `name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${qualifiedNamePart}')`,
    );
  return errors;
}

/** metadata.labels and annotation keys, with the API server's messages. */
export function validateMetadataMaps(labels: unknown, annotations: unknown): StatusCause[] {
  const causes: StatusCause[] = [];
  const invalid = (field: string, value: string, detail: string) =>
    causes.push({
      reason: "FieldValueInvalid",
      message: `Invalid value: ${JSON.stringify(value)}: ${detail}`,
      field,
    });
  if (labels && typeof labels === "object") {
    for (const [k, v] of Object.entries(labels)) {
      for (const e of qualifiedNameErrors(k)) invalid("metadata.labels", k, e);
      const value = String(v);
      if (typeof v !== "string")
        causes.push({
          reason: "FieldValueTypeInvalid",
          message: `Invalid value: ${JSON.stringify(v)}: must be a string`,
          field: `metadata.labels.${k}`,
        });
      else if (value.length > 63) invalid("metadata.labels", value, "must be no more than 63 characters");
      else if (!new RegExp(`^${labelValuePattern}$`).test(value))
        invalid(
          "metadata.labels",
          value,
          `a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '${labelValuePattern}')`,
        );
    }
  }
  if (annotations && typeof annotations === "object") {
    let total = 0;
    for (const [k, v] of Object.entries(annotations)) {
      for (const e of qualifiedNameErrors(k.toLowerCase())) invalid("metadata.annotations", k, e);
      total += k.length + String(v).length;
    }
    if (total > 256 * 1024)
      causes.push({
        reason: "FieldValueTooLong",
        message: `Too long: may not be more than 262144 bytes`,
        field: "metadata.annotations",
      });
  }
  return causes;
}
