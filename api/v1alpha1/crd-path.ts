// Where the committed CRD YAML lives (crds/), for tests and tools that apply it.
import { join } from "node:path";
import { CRD_NAME, REPORT_CRD_NAME } from "./group.ts";

export const CRD_PATH = join(import.meta.dirname, "..", "..", "crds", `${CRD_NAME}.yaml`);
export const REPORT_CRD_PATH = join(import.meta.dirname, "..", "..", "crds", `${REPORT_CRD_NAME}.yaml`);
