// Writes the CRDs (XdpCounter, XdpCounterReport) from the zod schema into crds/ and into the chart's crds/.
// Run by `npm run generate:crd`.
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { CRD_PATH, REPORT_CRD_PATH, renderCrdYaml, renderReportCrdYaml } from "./crd-yaml.ts";

for (const [path, text] of [
  [CRD_PATH, renderCrdYaml()],
  [REPORT_CRD_PATH, renderReportCrdYaml()],
] as const) {
  const chartCopy = join(dirname(path), "..", "charts", "xdp-counter", "crds", basename(path));
  for (const target of [path, chartCopy]) {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
    console.log(`wrote ${target}`);
  }
}
