// Writes crds/xdpcounters.xdpcounter.dev.yaml from the zod schema. Run by `npm run generate:crd`.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { CRD_PATH, renderCrdYaml } from "./crd-yaml.ts";

mkdirSync(dirname(CRD_PATH), { recursive: true });
writeFileSync(CRD_PATH, renderCrdYaml());
console.log(`wrote ${CRD_PATH}`);
