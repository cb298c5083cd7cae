// Where the Kubernetes and etcd binaries built by build.ts live, and the lookup tests use. The cache is outside
// the clone, keyed by the Kubernetes release and a hash of the module files (go.mod and go.sum of e2e/kube and
// e2e/kube/etcd), so a change of any pinned version builds into a new folder and never reuses an old one.
// A test never builds: a missing binary is an error that says how to build it.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The binaries build.ts makes, each from the Go module that pins it. All are built with CGO_ENABLED=0, static:
 * upstream's release links the kubelet with cgo, but the only packages of its (and kube-proxy's) build that use
 * C are the standard library's net and os/user, whose pure Go resolver and user lookups stand in (checked with
 * `go list -deps -f '{{.CgoFiles}}'`); and a cgo kubelet would recompile every package that imports net.
 */
export const kubeBinaries = {
  etcd: { module: "etcd", pkg: "go.etcd.io/etcd/server/v3" },
  "kube-apiserver": { module: ".", pkg: "k8s.io/kubernetes/cmd/kube-apiserver" },
  "kube-controller-manager": { module: ".", pkg: "k8s.io/kubernetes/cmd/kube-controller-manager" },
  "kube-scheduler": { module: ".", pkg: "k8s.io/kubernetes/cmd/kube-scheduler" },
  kubectl: { module: ".", pkg: "k8s.io/kubernetes/cmd/kubectl" },
  "kube-proxy": { module: ".", pkg: "k8s.io/kubernetes/cmd/kube-proxy" },
  kubelet: { module: ".", pkg: "k8s.io/kubernetes/cmd/kubelet" },
} as const;

export type KubeBinary = keyof typeof kubeBinaries;

/** The folder holding the Go modules (this folder). */
export const kubeModuleDir: string = import.meta.dirname;

/** The module files whose content keys the cache, relative to kubeModuleDir. */
export const kubeModuleFiles = ["go.mod", "go.sum", "etcd/go.mod", "etcd/go.sum"] as const;

/** The default cache root; `XDP_COUNTER_KUBE_CACHE` replaces it. */
export const defaultKubeCacheRoot = "/var/cache/xdp-counter/kube";

export function kubeCacheRoot(): string {
  return process.env.XDP_COUNTER_KUBE_CACHE || defaultKubeCacheRoot;
}

/** The version a module pins for a module path, read from its go.mod (`require path vX.Y.Z`). */
export function pinnedVersion(goMod: string, path: string): string {
  const escaped = path.replaceAll(".", "\\.");
  const match = new RegExp(`^[ \\t]*(?:require[ \\t]+)?${escaped}[ \\t]+(v\\S+)`, "m").exec(goMod);
  if (!match?.[1]) throw new Error(`${path} is not required in the go.mod`);
  return match[1];
}

export interface KubeBuild {
  /** The Kubernetes release, e.g. v1.37.2. */
  kubernetes: string;
  /** The etcd release, e.g. v3.7.3. */
  etcd: string;
  /** `<kubernetes>-<first 16 hex digits of the sha256 of the module files>`. */
  key: string;
  /** `<cache root>/<key>`; the binaries are in its `bin/`. */
  dir: string;
  bin: string;
}

/** The versions, cache key and folders of the build the module files describe. */
export function kubeBuild(): KubeBuild {
  const hash = createHash("sha256");
  for (const file of kubeModuleFiles) {
    // the name too, so moving a line from one file to another changes the key
    hash.update(`${file}\0`);
    hash.update(readFileSync(join(kubeModuleDir, file)));
    hash.update("\0");
  }
  const kubernetes = pinnedVersion(readFileSync(join(kubeModuleDir, "go.mod"), "utf8"), "k8s.io/kubernetes");
  const etcd = pinnedVersion(
    readFileSync(join(kubeModuleDir, "etcd", "go.mod"), "utf8"),
    "go.etcd.io/etcd/server/v3",
  );
  const key = `${kubernetes}-${hash.digest("hex").slice(0, 16)}`;
  const dir = join(kubeCacheRoot(), key);
  return { kubernetes, etcd, key, dir, bin: join(dir, "bin") };
}

/** True when every binary of the current build is in the cache. */
export function kubeBinariesBuilt(build: KubeBuild = kubeBuild()): boolean {
  return Object.keys(kubeBinaries).every((name) => existsSync(join(build.bin, name)));
}

/** The absolute path of a built binary; throws if it is not built (a test never builds). */
export function kubeBinary(name: KubeBinary): string {
  const build = kubeBuild();
  const path = join(build.bin, name);
  if (!existsSync(path)) {
    throw new Error(
      `${name} (Kubernetes ${build.kubernetes}, etcd ${build.etcd}) not built: run \`bash .ci/install\` ` +
        `(or \`node e2e/kube/build.ts\`); looked for ${path}`,
    );
  }
  return path;
}
