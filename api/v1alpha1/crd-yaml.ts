// The CRD as the YAML text committed in crds/ (npm run generate:crd). Not exported from index.ts: the agent
// and the operator never render it, and the YAML library costs memory in every process that loads it.
import { stringify } from "yaml";
import { buildCrd } from "./crd.ts";

export { CRD_PATH } from "./crd-path.ts";

export function renderCrdYaml(): string {
  const header = "# Generated from api/v1alpha1 by `npm run generate:crd`. Do not edit.\n";
  return header + stringify(buildCrd(), { lineWidth: 0, aliasDuplicateObjects: false });
}
