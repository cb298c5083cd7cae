// Helpers of the local cluster tests: the probe pod's command, probe DaemonSets as YAML, polling.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { join } from "node:path";
import type { Cluster } from "../index.ts";

export const probePod = join(import.meta.dirname, "probe-pod.ts");
export const probeRbac = join(import.meta.dirname, "probe-rbac.yaml");
export const probeDaemonSetFile = join(import.meta.dirname, "daemonset.yaml");
export const probeChart = join(import.meta.dirname, "charts", "probe");
/** The probe image's program, mapped to the probe script. */
export const commands = { "probe-pod": [process.execPath, probePod] };

export interface ProbeLine {
  node?: string;
  pod?: string;
  podIP?: string;
  interfaces?: string[];
  bpffs?: boolean;
  pins?: string[];
  extra?: string;
  api?: string;
  status?: number;
  error?: string;
  signal?: string;
}

export function probeLines(log: string): ProbeLine[] {
  return log
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as ProbeLine);
}

export { until } from "../wait.ts";

export interface ProbeDaemonSet {
  name: string;
  nodeSelector?: Record<string, string>;
  tolerations?: { key: string; operator: string; effect?: string; value?: string }[];
  extra?: string;
  port?: number;
  /** A liveness probe on this path, every second, failing after two misses. */
  livenessPath?: string;
}

/** A DaemonSet of probe pods in the namespace "probe" (made by probeManifests), as YAML. */
export function probeDaemonSet(d: ProbeDaemonSet): string {
  return JSON.stringify({
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: d.name, namespace: "probe" },
    spec: {
      selector: { matchLabels: { app: d.name } },
      template: {
        metadata: { labels: { app: d.name } },
        spec: {
          serviceAccountName: "probe",
          hostNetwork: true,
          terminationGracePeriodSeconds: 5,
          ...(d.nodeSelector ? { nodeSelector: d.nodeSelector } : {}),
          ...(d.tolerations ? { tolerations: d.tolerations } : {}),
          containers: [
            {
              name: "probe",
              image: "example.invalid/xdp-counter/probe-pod:1",
              env: [
                { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
                { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                { name: "PORT", value: String(d.port ?? 18081) },
                { name: "EXTRA", value: d.extra ?? "" },
              ],
              readinessProbe: { httpGet: { path: "/readyz", port: d.port ?? 18081 }, periodSeconds: 10 },
              ...(d.livenessPath
                ? {
                    livenessProbe: {
                      httpGet: { path: d.livenessPath, port: d.port ?? 18081 },
                      periodSeconds: 1,
                      failureThreshold: 2,
                    },
                  }
                : {}),
            },
          ],
        },
      },
    },
  });
}

export async function kubectlOk(c: Cluster, args: string[], input?: string): Promise<string> {
  const r = await c.kubectl(args, input === undefined ? {} : { input });
  assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

export async function getJson<T = Record<string, unknown>>(c: Cluster, args: string[]): Promise<T> {
  return JSON.parse(await kubectlOk(c, ["get", ...args, "-o", "json"])) as T;
}

export type Pod = {
  metadata: {
    name: string;
    uid: string;
    labels: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
    deletionTimestamp?: string;
  };
  spec: { nodeName?: string };
  status: {
    phase: string;
    podIP?: string;
    hostIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { restartCount: number; ready: boolean }[];
  };
};

export async function podsOf(c: Cluster, app: string): Promise<Pod[]> {
  return (await getJson<{ items: Pod[] }>(c, ["pods", "-n", "probe", "-l", `app=${app}`])).items;
}

export function isReady(p: Pod): boolean {
  return p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

export function processAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A port nobody listens on in the root namespace's loopback right now (for pods on the host). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
