// The CRD as the YAML text committed in crds/ (npm run generate:crd). Not exported from index.ts: the agent
// and the operator never render it, and the YAML library costs memory in every process that loads it.
import { stringify } from "yaml";
import { buildCrd, buildReportCrd } from "./crd.ts";

export { CRD_PATH, REPORT_CRD_PATH } from "./crd-path.ts";

const header = "# Generated from api/v1alpha1 by `npm run generate:crd`. Do not edit.\n";

export function renderCrdYaml(): string {
  return header + stringify(buildCrd(), { lineWidth: 0, aliasDuplicateObjects: false });
}

export function renderReportCrdYaml(): string {
  return header + stringify(buildReportCrd(), { lineWidth: 0, aliasDuplicateObjects: false });
}
