// The CRD as the YAML text committed in crds/, and where that file lives.
import { join } from "node:path";
import { stringify } from "yaml";
import { buildCrd } from "./crd.ts";
import { CRD_NAME } from "./group.ts";

export const CRD_PATH = join(import.meta.dirname, "..", "..", "crds", `${CRD_NAME}.yaml`);

export function renderCrdYaml(): string {
  const header = "# Generated from api/v1alpha1 by `npm run generate:crd`. Do not edit.\n";
  return header + stringify(buildCrd(), { lineWidth: 0, aliasDuplicateObjects: false });
}
