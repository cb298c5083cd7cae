// Pure helpers of the local controllers: template hashes, node eligibility (nodeSelector, taints and
// tolerations), the pod a template makes, its environment and command line, and the status shapes.
import { createHash } from "node:crypto";
import type { KubeObject } from "../apiserver/index.ts";

export type Labels = Record<string, string>;

export interface Taint {
  key: string;
  value?: string;
  effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

export interface Toleration {
  key?: string;
  operator?: "Exists" | "Equal";
  value?: string;
  effect?: string;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    configMapKeyRef?: { name: string; key: string };
    secretKeyRef?: { name: string; key: string };
  };
}

export interface Probe {
  httpGet?: { path?: string; port: number | string; host?: string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
}

export interface PodSpec {
  nodeName?: string;
  serviceAccountName?: string;
  nodeSelector?: Labels;
  tolerations?: Toleration[];
  terminationGracePeriodSeconds?: number;
  containers: Container[];
  [key: string]: unknown;
}

export interface PodTemplate {
  metadata?: { labels?: Labels; annotations?: Record<string, string> };
  spec: PodSpec;
}

/** The finalizer the local kubelet puts on the pods it runs, so a deleted pod stays until its process is gone. */
export const KUBELET_FINALIZER = "local.xdp-counter.dev/kubelet";

/** Canonical JSON (sorted keys), so that a template's hash does not depend on key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v);
}

export function templateHash(template: unknown): string {
  return createHash("sha256").update(canonical(template)).digest("hex").slice(0, 10);
}

/** The tolerations the DaemonSet controller gives every daemon pod. */
const daemonTolerations: Toleration[] = [
  { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/pid-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" },
];

function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (!t.key) return t.operator === "Exists";
  if (t.key !== taint.key) return false;
  if (t.operator === "Exists") return true;
  return (t.value ?? "") === (taint.value ?? "");
}

/** Whether a daemon pod of this template belongs on the node: nodeSelector, and NoSchedule/NoExecute taints. */
export interface NodeSelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt";
  values?: string[];
}
export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

/** One requirement against a map (labels, or the fields: only metadata.name), as core/v1 evaluates it. */
function requirementMatches(r: NodeSelectorRequirement, map: Record<string, string>): boolean {
  const has = Object.hasOwn(map, r.key);
  const value = map[r.key];
  switch (r.operator) {
    case "In":
      return has && (r.values ?? []).includes(value as string);
    case "NotIn":
      return !has || !(r.values ?? []).includes(value as string);
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
    case "Gt":
    case "Lt": {
      const n = Number.parseInt(value ?? "", 10);
      const bound = Number.parseInt(r.values?.[0] ?? "", 10);
      if (!has || Number.isNaN(n) || Number.isNaN(bound)) return false;
      return r.operator === "Gt" ? n > bound : n < bound;
    }
    default:
      return false;
  }
}

/**
 * requiredDuringSchedulingIgnoredDuringExecution: the terms are ORed, a term's requirements ANDed; a term
 * with no requirements matches nothing. (The DaemonSet controller also re-checks it for running pods.)
 */
export function nodeAffinityMatches(terms: NodeSelectorTerm[], node: KubeObject): boolean {
  const labels = node.metadata.labels ?? {};
  const fields = { "metadata.name": node.metadata.name ?? "" };
  return terms.some((term) => {
    const exprs = term.matchExpressions ?? [];
    const flds = term.matchFields ?? [];
    if (exprs.length === 0 && flds.length === 0) return false;
    return (
      exprs.every((r) => requirementMatches(r, labels)) && flds.every((r) => requirementMatches(r, fields))
    );
  });
}

export function nodeMatches(spec: PodSpec, node: KubeObject): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const affinity = spec.affinity as
    | {
        nodeAffinity?: {
          requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] };
        };
      }
    | undefined;
  // Without nodeSelectorTerms (a real API server refuses that; the test server's server-side apply leaves
  // `requiredDuringSchedulingIgnoredDuringExecution: {}` behind when an applier drops the terms) no constraint.
  const terms = affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms && !nodeAffinityMatches(terms, node)) return false;
  const tolerations = [...(spec.tolerations ?? []), ...daemonTolerations];
  const taints = ((node.spec as { taints?: Taint[] } | undefined)?.taints ?? []).filter(
    (t) => t.effect !== "PreferNoSchedule",
  );
  return taints.every((taint) => tolerations.some((t) => tolerates(t, taint)));
}

export function controllerOf(obj: KubeObject): string | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller)?.uid;
}

export function podReady(pod: KubeObject): boolean {
  const conditions = (pod.status as { conditions?: { type: string; status: string }[] } | undefined)
    ?.conditions;
  return conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** "N" or "N%" of a total, rounded up (as the DaemonSet controller does for maxUnavailable), at least 1. */
export function scaled(value: number | string | undefined, total: number, fallback: number): number {
  if (value === undefined) return fallback;
  const n =
    typeof value === "number"
      ? value
      : value.endsWith("%")
        ? Math.ceil((total * Number.parseFloat(value)) / 100)
        : Number(value);
  return Number.isFinite(n) ? Math.max(1, n) : fallback;
}

export function fieldRef(pod: KubeObject, path: string, ips: { podIP: string; hostIP: string }): string {
  const spec = pod.spec as PodSpec;
  switch (path) {
    case "spec.nodeName":
      return spec.nodeName ?? "";
    case "spec.serviceAccountName":
      return spec.serviceAccountName ?? "default";
    case "metadata.name":
      return pod.metadata.name ?? "";
    case "metadata.namespace":
      return pod.metadata.namespace ?? "";
    case "metadata.uid":
      return pod.metadata.uid ?? "";
    case "status.podIP":
      return ips.podIP;
    case "status.hostIP":
      return ips.hostIP;
  }
  const m = /^metadata\.(labels|annotations)\['([^']+)'\]$/.exec(path);
  if (m)
    return (pod.metadata[m[1] as "labels" | "annotations"] as Labels | undefined)?.[m[2] as string] ?? "";
  throw new Error(`fieldRef ${path} is not supported by the local kubelet`);
}

/** The container's command line with the image's program mapped to a local command. */
export function commandLine(container: Container, commands: Record<string, string[]>): string[] {
  let argv = [...(container.command ?? []), ...(container.args ?? [])];
  if (!container.command?.length) {
    // No command: the image's entrypoint, named after the image (registry/path/NAME:tag).
    const image = (container.image ?? "").replace(/[@:][^/]*$/, "");
    argv = [image.slice(image.lastIndexOf("/") + 1), ...(container.args ?? [])];
  }
  const [program, ...rest] = argv;
  if (!program) throw new Error(`container ${container.name} has no command and no image`);
  // By the name the image runs it under, or by its file name (/usr/local/bin/xdp-counter → xdp-counter).
  const mapped = commands[program] ?? commands[program.slice(program.lastIndexOf("/") + 1)];
  return mapped ? [...mapped, ...rest] : argv;
}

/**
 * NODE_OPTIONS for a container whose command the cluster maps to TypeScript sources: `--jitless` removed.
 * Node.js strips types with a WebAssembly module, and `--jitless` turns WebAssembly off; the image runs the
 * compiled JavaScript with the options as rendered (e2e/image checks that).
 */
export function nodeOptionsForSources(
  argv: readonly string[],
  nodeOptions: string | undefined,
): string | undefined {
  if (nodeOptions === undefined || !argv.some((a) => a.endsWith(".ts"))) return nodeOptions;
  return nodeOptions
    .split(/\s+/)
    .filter((o) => o !== "" && o !== "--jitless")
    .join(" ");
}

export function probePort(container: Container, port: number | string): number {
  if (typeof port === "number") return port;
  const named = container.ports?.find((p) => p.name === port)?.containerPort;
  if (named === undefined) throw new Error(`container ${container.name} has no port named ${port}`);
  return named;
}
