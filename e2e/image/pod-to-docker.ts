// Runs the image the way the operator's agent DaemonSet runs it: the rendered pod's host network, capabilities,
// environment, host paths and mounts turned into `docker run` options, so the image test exercises the pod the
// operator actually renders rather than a hand-written approximation of it.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { DaemonSet } from "../../operator/index.ts";

export interface DockerRun {
  options: string[];
  /** What could not be carried over exactly, in words, for the test's diagnostics. */
  notes: string[];
}

/** The propagation of the mount at `path` on this machine: shared, slave or private. */
function propagation(path: string): "shared" | "slave" | "private" {
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const fields = line.split(" ");
    if (fields[4] !== path) continue;
    const optional = fields.slice(6, fields.indexOf("-"));
    if (optional.some((f) => f.startsWith("shared:"))) return "shared";
    if (optional.some((f) => f.startsWith("master:"))) return "slave";
    return "private";
  }
  return "private";
}

/**
 * `docker run` options for the first container of the rendered agent DaemonSet (renderAgentDaemonSet): its capabilities, no privilege
 * escalation, read-only root. `privileged` is how this machine can run a privileged container (see
 * privilegedOptions in the test), should a pod ask for one.
 */
export function agentRunOptions(
  ds: DaemonSet,
  privileged: string[],
  /** capabilities the engine cannot name (docker before 23 knows no BPF, PERFMON), and what stands for them */
  substitutes: Readonly<Record<string, string>> = {},
): DockerRun {
  const pod = ds.spec.template.spec;
  const container = pod.containers[0];
  if (!container) throw new Error("the DaemonSet has no container");
  const options: string[] = [];
  const notes: string[] = [];
  if (pod.hostNetwork) options.push("--network", "host");
  const sc = container.securityContext;
  // the rendered type says false today; honoured should a renderer ask for privileged again
  if ((sc as { privileged: boolean }).privileged) options.push(...privileged);
  // RuntimeDefault: docker's default seccomp profile stands for the node runtime's.
  for (const cap of sc.capabilities.drop) options.push("--cap-drop", cap);
  const added = new Set(sc.capabilities.add.map((cap) => substitutes[cap] ?? cap));
  for (const cap of added) options.push("--cap-add", cap);
  for (const cap of sc.capabilities.add.filter((c) => substitutes[c])) {
    notes.push(`this engine knows no CAP_${cap}: CAP_${substitutes[cap]} stands for it (the kernel lets it)`);
  }
  if (sc.allowPrivilegeEscalation === false) options.push("--security-opt", "no-new-privileges");
  if (sc.readOnlyRootFilesystem) options.push("--read-only");

  // runAsUser is not part of the rendered type today; read it if a later renderer sets it.
  const podContext = (pod as { securityContext?: { runAsUser?: number } }).securityContext;
  const containerContext = container.securityContext as { runAsUser?: number };
  const runAsUser = containerContext.runAsUser ?? podContext?.runAsUser;
  if (runAsUser === undefined) {
    options.push("--user", "0:0");
    notes.push(
      "the rendered pod sets no runAsUser, so it would run as the image's non-root user and could not count; " +
        "running as root here, as the pod must (docs/adr/0006)",
    );
  } else {
    options.push("--user", `${runAsUser}:${runAsUser}`);
  }

  // The container's environment (NODE_OPTIONS among it: the agent's Node.js options, and the name of the
  // agents' ConfigMap); what the kubelet would fill in from the downward API: spec.nodeName is this machine's
  // name, metadata.namespace the DaemonSet's namespace (its pods are created there).
  const fields: Record<string, string | undefined> = {
    "spec.nodeName": hostname(),
    "metadata.namespace": ds.metadata.namespace,
  };
  for (const variable of container.env) {
    if ("value" in variable) {
      options.push("--env", `${variable.name}=${variable.value}`);
      continue;
    }
    const value = fields[variable.valueFrom.fieldRef.fieldPath];
    if (value !== undefined) options.push("--env", `${variable.name}=${value}`);
    else notes.push(`${variable.name} from ${variable.valueFrom.fieldRef.fieldPath} is not set`);
  }

  for (const mount of container.volumeMounts) {
    const volume = pod.volumes.find((v) => v.name === mount.name);
    if (!volume) throw new Error(`volumeMount ${mount.name} has no volume`);
    const parts = ["type=bind", `source=${volume.hostPath.path}`, `target=${mount.mountPath}`];
    if (mount.readOnly) parts.push("readonly");
    if (mount.mountPropagation === "HostToContainer" || mount.mountPropagation === "Bidirectional") {
      const wanted = mount.mountPropagation === "HostToContainer" ? "rslave" : "rshared";
      if (propagation(volume.hostPath.path) === "private") {
        notes.push(
          `${volume.hostPath.path} is a private mount on this machine: ${mount.mountPropagation} dropped for ${mount.name}`,
        );
      } else {
        parts.push(`bind-propagation=${wanted}`);
      }
    }
    options.push("--mount", parts.join(","));
  }
  return { options, notes };
}
