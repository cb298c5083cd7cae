// What the apiextensions server does with CustomResourceDefinition objects themselves: validation of the
// basics, defaults, the cleanup finalizer, and the status its controllers maintain.

import type { StatusCause } from "./errors.ts";
import { systemFinalizers } from "./finalizers.ts";
import type { CrdSpec } from "./registry.ts";
import { isObject, type KubeObject } from "./types.ts";

function timestamp(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

export function validateCrd(obj: KubeObject): StatusCause[] {
  const spec = obj.spec as CrdSpec | undefined;
  const causes: StatusCause[] = [];
  if (!spec || !isObject(spec))
    return [{ reason: "FieldValueRequired", message: "Required value", field: "spec" }];
  if (!spec.group)
    causes.push({ reason: "FieldValueRequired", message: "Required value", field: "spec.group" });
  if (!spec.names?.plural)
    causes.push({ reason: "FieldValueRequired", message: "Required value", field: "spec.names.plural" });
  if (!spec.names?.kind)
    causes.push({ reason: "FieldValueRequired", message: "Required value", field: "spec.names.kind" });
  if (spec.scope !== "Namespaced" && spec.scope !== "Cluster")
    causes.push({
      reason: "FieldValueNotSupported",
      message: `Unsupported value: ${JSON.stringify(spec.scope ?? "")}: supported values: "Cluster", "Namespaced"`,
      field: "spec.scope",
    });
  if (!Array.isArray(spec.versions) || spec.versions.length === 0)
    causes.push({
      reason: "FieldValueInvalid",
      message: "Invalid value: null: must have exactly one version marked as storage version",
      field: "spec.versions",
    });
  else if (spec.versions.filter((v) => v.storage).length !== 1)
    causes.push({
      reason: "FieldValueInvalid",
      message: `Invalid value: ${JSON.stringify(spec.versions.map((v) => v.name))}: must have exactly one version marked as storage version`,
      field: "spec.versions",
    });
  const expected = `${spec.names?.plural}.${spec.group}`;
  if (spec.group && spec.names?.plural && obj.metadata.name !== expected)
    causes.push({
      reason: "FieldValueInvalid",
      message: `Invalid value: "${obj.metadata.name}": must be spec.names.plural+"."+spec.group`,
      field: "metadata.name",
    });
  if (!obj.metadata.finalizers?.includes(systemFinalizers.crdCleanup) && !obj.metadata.deletionTimestamp)
    obj.metadata.finalizers = [...(obj.metadata.finalizers ?? []), systemFinalizers.crdCleanup];
  if (!isObject((obj.spec as Record<string, unknown>).conversion))
    (obj.spec as Record<string, unknown>).conversion = { strategy: "None" };
  return causes;
}

function condition(
  type: string,
  status: string,
  reason: string,
  message: string,
  old: unknown,
): Record<string, unknown> {
  const prev = Array.isArray(old) ? old.find((c) => isObject(c) && c.type === type) : undefined;
  const lastTransitionTime = isObject(prev) && prev.status === status ? prev.lastTransitionTime : timestamp();
  return { type, status, lastTransitionTime, reason, message };
}

/** CRD status as the apiextensions controllers would set it: names accepted, established. */
export function crdStatus(crd: KubeObject, old: KubeObject | undefined): void {
  const spec = crd.spec as CrdSpec;
  const oldConditions = isObject(old?.status) ? old.status.conditions : undefined;
  const storage = spec.versions?.find((v) => v.storage)?.name;
  const prevStored =
    isObject(old?.status) && Array.isArray(old.status.storedVersions) ? old.status.storedVersions : [];
  const names = {
    plural: spec.names.plural,
    singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
    kind: spec.names.kind,
    listKind: spec.names.listKind ?? `${spec.names.kind}List`,
    ...(spec.names.shortNames ? { shortNames: spec.names.shortNames } : {}),
    ...(spec.names.categories ? { categories: spec.names.categories } : {}),
  };
  if (crd.metadata.deletionTimestamp) return;
  crd.status = {
    conditions: [
      condition("NamesAccepted", "True", "NoConflicts", "no conflicts found", oldConditions),
      condition(
        "Established",
        "True",
        "InitialNamesAccepted",
        "the initial names have been accepted",
        oldConditions,
      ),
    ],
    acceptedNames: names,
    storedVersions: [...new Set([...(prevStored as string[]), ...(storage ? [storage] : [])])],
  };
}

export function crdTerminating(crd: KubeObject): void {
  const status = isObject(crd.status) ? crd.status : {};
  const conditions = Array.isArray(status.conditions)
    ? status.conditions.filter((c) => isObject(c) && c.type !== "Terminating")
    : [];
  conditions.push({
    type: "Terminating",
    status: "True",
    lastTransitionTime: timestamp(),
    reason: "InstanceDeletionInProgress",
    message: "CustomResource deletion is in progress",
  });
  crd.status = { ...status, conditions };
}
