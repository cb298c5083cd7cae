// The local control loop that plays the kubelet of every simulated node and the DaemonSet and Deployment
// controllers, for the project's objects. It reads and writes the in-process API server directly (as the
// system), level-triggered: every change in the store, every process event and a periodic resync run one
// reconcile of the whole (small) cluster, which writes only what differs.
//
// - DaemonSets: one pod per eligible node (nodeSelector, required node affinity, taints vs tolerations),
//   owned by the DaemonSet, labelled with controller-revision-hash; rolling replacement with maxUnavailable; pods on nodes that no
//   longer match are deleted; status kept up to date.
// - Deployments: one ReplicaSet per template hash, pods owned by it, run on the host (root namespaces) with a
//   surge of one; Deployment and ReplicaSet status.
// - Kubelet: runs every pod bound to a simulated node, and the host's pods (which carry KUBELET_FINALIZER), as
//   PodProcesses. A deleted pod (deletionTimestamp) keeps its object while its process stops (SIGTERM, SIGKILL
//   after the grace period): the API server's graceful deletion holds node pods, the finalizer host pods;
//   then the kubelet finishes the deletion with grace 0, as a real one does.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Api, KubeObject, ResourceInfo } from "../apiserver/index.ts";
import type { NodeNet } from "./network.ts";
import { inNode } from "./network.ts";
import { type HttpProbe, PodProcess } from "./pod-process.ts";
import {
  type Container,
  commandLine,
  controllerOf,
  fieldRef,
  KUBELET_FINALIZER,
  nodeMatches,
  nodeOptionsForSources,
  type PodSpec,
  type PodTemplate,
  type Probe,
  podReady,
  probePort,
  scaled,
  templateHash,
} from "./workloads.ts";

export interface ControllerOptions {
  api: Api;
  /** Simulated nodes by name. */
  nodes: Map<string, NodeNet>;
  /** Writes a kubeconfig for a ServiceAccount with the API server's address as seen from a node or the host. */
  kubeconfig(namespace: string, serviceAccount: string, node: NodeNet | undefined, path: string): void;
  commands: Record<string, string[]>;
  /** Working directory of pod processes. */
  cwd: string;
  /** Where pod logs and kubeconfigs go. */
  dir: string;
  probePeriodMs: number;
  backoffMs: { initial: number; max: number };
  resyncMs: number;
  log(line: string): void;
}

const system = { manager: "local-controllers", fieldValidation: "Ignore" as const };
const kubelet = { manager: "kubelet", fieldValidation: "Ignore" as const };

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class LocalControllers {
  readonly #o: ControllerOptions;
  readonly #ri: Record<"nodes" | "pods" | "daemonsets" | "deployments" | "replicasets", ResourceInfo>;
  /** Pod processes by pod uid. */
  readonly processes = new Map<string, PodProcess>();
  #paused = false;
  #stopped = false;
  #scheduled = false;
  #unsubscribe: () => void;
  #timer: NodeJS.Timeout;

  constructor(o: ControllerOptions) {
    this.#o = o;
    const r = o.api.registry;
    const get = (g: string, v: string, p: string) => {
      const ri = r.get(g, v, p);
      if (!ri) throw new Error(`the API server has no ${g}/${v} ${p}`);
      return ri;
    };
    this.#ri = {
      nodes: get("", "v1", "nodes"),
      pods: get("", "v1", "pods"),
      daemonsets: get("apps", "v1", "daemonsets"),
      deployments: get("apps", "v1", "deployments"),
      replicasets: get("apps", "v1", "replicasets"),
    };
    mkdirSync(join(o.dir, "logs"), { recursive: true });
    mkdirSync(join(o.dir, "pods"), { recursive: true });
    const watched = new Set(["/nodes", "/pods", "apps/daemonsets", "apps/deployments", "apps/replicasets"]);
    this.#unsubscribe = o.api.store.subscribe((e) => {
      if (watched.has(e.key)) this.schedule();
    });
    this.#timer = setInterval(() => this.schedule(), o.resyncMs);
    this.schedule();
  }

  /** While paused (API server outage), nothing is read or written; processes keep running and restarting. */
  set paused(v: boolean) {
    this.#paused = v;
    if (!v) this.schedule();
  }

  schedule(): void {
    if (this.#scheduled || this.#stopped) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#paused || this.#stopped) return;
      try {
        this.reconcile();
      } catch (err) {
        this.#o.log(`local controllers: ${(err as Error).stack ?? err}`);
      }
    });
  }

  #list(ri: ResourceInfo): KubeObject[] {
    return (this.#o.api.list(ri, undefined, { labels: [], fields: [] }) as unknown as { items: KubeObject[] })
      .items;
  }

  /** One pass over everything; each object's failure is logged and retried on the next pass. */
  reconcile(): void {
    const nodes = this.#list(this.#ri.nodes).filter((n) => this.#o.nodes.has(n.metadata.name ?? ""));
    for (const ds of this.#list(this.#ri.daemonsets)) this.#guard(ds, () => this.#daemonSet(ds, nodes));
    for (const d of this.#list(this.#ri.deployments)) this.#guard(d, () => this.#deployment(d));
    this.#podGc();
    this.#kubelet();
    for (const ds of this.#list(this.#ri.daemonsets)) this.#guard(ds, () => this.#daemonSetStatus(ds, nodes));
    for (const d of this.#list(this.#ri.deployments)) this.#guard(d, () => this.#deploymentStatus(d));
  }

  #guard(obj: KubeObject, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#o.log(
        `local controllers: ${obj.kind} ${obj.metadata.namespace}/${obj.metadata.name}: ${(err as Error).message}`,
      );
    }
  }

  #podsOwnedBy(uid: string | undefined): KubeObject[] {
    return this.#list(this.#ri.pods).filter((p) => controllerOf(p) === uid);
  }

  #createPod(
    owner: KubeObject,
    template: PodTemplate,
    labels: Record<string, string>,
    spec: Partial<PodSpec>,
  ): void {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        generateName: `${owner.metadata.name}-`,
        namespace: owner.metadata.namespace,
        labels: { ...(template.metadata?.labels ?? {}), ...labels },
        ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
        ownerReferences: [
          {
            apiVersion: owner.apiVersion,
            kind: owner.kind,
            name: owner.metadata.name ?? "",
            uid: owner.metadata.uid ?? "",
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
        // Pods on a node get the API server's graceful deletion; host pods have no node, so the kubelet's
        // finalizer keeps them while their process stops.
        ...(spec.nodeName ? {} : { finalizers: [KUBELET_FINALIZER] }),
      },
      spec: { ...structuredClone(template.spec), ...spec },
    };
    const created = this.#o.api.create(this.#ri.pods, owner.metadata.namespace, pod, system);
    this.#o.log(
      `created pod ${created.metadata.namespace}/${created.metadata.name}${spec.nodeName ? ` on ${spec.nodeName}` : ""}`,
    );
  }

  #deletePod(pod: KubeObject, why: string): void {
    if (pod.metadata.deletionTimestamp) return;
    this.#o.log(`deleting pod ${pod.metadata.namespace}/${pod.metadata.name}: ${why}`);
    this.#o.api.delete(this.#ri.pods, pod.metadata.namespace, pod.metadata.name ?? "", {});
  }

  // ---- DaemonSet controller ----

  #daemonSet(ds: KubeObject, nodes: KubeObject[]): void {
    if (ds.metadata.deletionTimestamp) return;
    const spec = ds.spec as {
      template: PodTemplate;
      updateStrategy?: { type?: string; rollingUpdate?: { maxUnavailable?: number | string } };
    };
    const hash = templateHash(spec.template);
    const pods = this.#podsOwnedBy(ds.metadata.uid);
    const eligible = nodes.filter((n) => nodeMatches(spec.template.spec, n));
    const eligibleNames = new Set(eligible.map((n) => n.metadata.name));
    const live = pods.filter((p) => !p.metadata.deletionTimestamp);
    const maxUnavailable = scaled(spec.updateStrategy?.rollingUpdate?.maxUnavailable, eligible.length, 1);

    for (const p of live) {
      const node = (p.spec as PodSpec).nodeName ?? "";
      if (!eligibleNames.has(node))
        this.#deletePod(p, `node ${node} no longer runs DaemonSet ${ds.metadata.name}`);
    }
    let unavailable = 0;
    const old: KubeObject[] = [];
    for (const node of eligible) {
      const name = node.metadata.name ?? "";
      const here = pods.filter((p) => (p.spec as PodSpec).nodeName === name);
      const running = here.filter((p) => !p.metadata.deletionTimestamp);
      if (running.length === 0) {
        unavailable++;
        // A predecessor still terminating keeps the node until it is gone (no surge).
        if (here.length === 0)
          this.#createPod(
            ds,
            spec.template,
            {
              "controller-revision-hash": hash,
              "pod-template-generation": String(ds.metadata.generation ?? 1),
            },
            { nodeName: name },
          );
        continue;
      }
      // Keep one: an updated one if any, ready first.
      running.sort(
        (a, b) =>
          Number(b.metadata.labels?.["controller-revision-hash"] === hash) -
            Number(a.metadata.labels?.["controller-revision-hash"] === hash) ||
          Number(podReady(b)) - Number(podReady(a)),
      );
      const [keep, ...extra] = running as [KubeObject, ...KubeObject[]];
      for (const p of extra) this.#deletePod(p, `more than one daemon pod on ${name}`);
      if (!podReady(keep)) unavailable++;
      if (keep.metadata.labels?.["controller-revision-hash"] !== hash) old.push(keep);
    }
    if (spec.updateStrategy?.type === "OnDelete") return;
    // Old pods that are not ready go first (they are unavailable anyway), then one by one within maxUnavailable.
    for (const p of old.filter((p) => !podReady(p))) this.#deletePod(p, "template changed");
    for (const p of old.filter(podReady)) {
      if (unavailable >= maxUnavailable) break;
      unavailable++;
      this.#deletePod(p, "template changed");
    }
  }

  #daemonSetStatus(ds: KubeObject, nodes: KubeObject[]): void {
    if (ds.metadata.deletionTimestamp) return;
    const spec = ds.spec as { template: PodTemplate };
    const hash = templateHash(spec.template);
    const live = this.#podsOwnedBy(ds.metadata.uid).filter((p) => !p.metadata.deletionTimestamp);
    const eligible = new Set(
      nodes.filter((n) => nodeMatches(spec.template.spec, n)).map((n) => n.metadata.name),
    );
    const byNode = new Map<string, KubeObject[]>();
    for (const p of live) {
      const n = (p.spec as PodSpec).nodeName ?? "";
      byNode.set(n, [...(byNode.get(n) ?? []), p]);
    }
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let updated = 0;
    for (const [node, ps] of byNode) {
      if (!eligible.has(node)) {
        misscheduled++;
        continue;
      }
      current++;
      if (ps.some(podReady)) ready++;
      if (ps.some((p) => p.metadata.labels?.["controller-revision-hash"] === hash)) updated++;
    }
    const desired = eligible.size;
    const status: Record<string, number> = {
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      desiredNumberScheduled: desired,
      numberReady: ready,
      observedGeneration: ds.metadata.generation ?? 1,
      updatedNumberScheduled: updated,
      numberAvailable: ready,
      numberUnavailable: desired - ready,
    };
    // As the API omits zero values of its omitempty fields.
    for (const k of ["updatedNumberScheduled", "numberAvailable", "numberUnavailable"])
      if (status[k] === 0) delete status[k];
    this.#writeStatus(this.#ri.daemonsets, ds, status, system);
  }

  #writeStatus(ri: ResourceInfo, obj: KubeObject, status: unknown, opts: typeof system): void {
    if (deepEqual(obj.status, status)) return;
    const next = structuredClone(obj);
    next.status = status;
    delete next.metadata.resourceVersion;
    this.#o.api.update(ri, obj.metadata.namespace, obj.metadata.name ?? "", next, opts, "status");
  }

  // ---- Deployment controller (ReplicaSets inside) ----

  #replicaSetsOf(d: KubeObject): KubeObject[] {
    return this.#list(this.#ri.replicasets).filter((rs) => controllerOf(rs) === d.metadata.uid);
  }

  #deployment(d: KubeObject): void {
    if (d.metadata.deletionTimestamp) return;
    const spec = d.spec as {
      replicas?: number;
      template: PodTemplate;
      selector?: { matchLabels?: Record<string, string> };
    };
    const replicas = spec.replicas ?? 1;
    const hash = templateHash(spec.template);
    const rsName = `${d.metadata.name}-${hash}`;
    const sets = this.#replicaSetsOf(d);
    let current = sets.find((rs) => rs.metadata.name === rsName);
    if (!current) {
      const labels = { ...(spec.template.metadata?.labels ?? {}), "pod-template-hash": hash };
      current = this.#o.api.create(
        this.#ri.replicasets,
        d.metadata.namespace,
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          metadata: {
            name: rsName,
            namespace: d.metadata.namespace,
            labels,
            ownerReferences: [
              {
                apiVersion: "apps/v1",
                kind: "Deployment",
                name: d.metadata.name ?? "",
                uid: d.metadata.uid ?? "",
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          },
          spec: {
            replicas,
            selector: { matchLabels: { ...(spec.selector?.matchLabels ?? {}), "pod-template-hash": hash } },
            template: { ...structuredClone(spec.template), metadata: { ...spec.template.metadata, labels } },
          },
        },
        system,
      );
      sets.push(current);
    }
    const all = sets.flatMap((rs) => this.#podsOwnedBy(rs.metadata.uid).map((p) => ({ rs, p })));
    const live = all.filter(({ p }) => !p.metadata.deletionTimestamp);
    const fresh = live.filter(({ rs }) => rs === current).map(({ p }) => p);
    const stale = live.filter(({ rs }) => rs !== current).map(({ p }) => p);
    const template = (current.spec as { template: PodTemplate }).template;
    // Host pods share the root network namespace, as hostNetwork pods share a node's: a surge pod would find
    // its predecessor's ports taken (and its readiness probe answered by it). So the old pods go first and the
    // new ones start once they are gone, as with strategy Recreate.
    for (const p of stale) this.#deletePod(p, "superseded");
    const predecessors = all.some(({ rs }) => rs !== current);
    if (!predecessors)
      for (let n = fresh.length; n < replicas; n++)
        this.#createPod(current, template, { "pod-template-hash": hash }, {});
    fresh.sort((a, b) => Number(podReady(a)) - Number(podReady(b)));
    for (const p of fresh.slice(0, Math.max(0, fresh.length - replicas))) this.#deletePod(p, "scaled down");
    for (const rs of sets) {
      if (rs === current) continue;
      if (!all.some((x) => x.rs === rs))
        this.#o.api.delete(this.#ri.replicasets, rs.metadata.namespace, rs.metadata.name ?? "", {});
    }
  }

  #deploymentStatus(d: KubeObject): void {
    if (d.metadata.deletionTimestamp) return;
    const spec = d.spec as { replicas?: number; template: PodTemplate };
    const replicas = spec.replicas ?? 1;
    const rsName = `${d.metadata.name}-${templateHash(spec.template)}`;
    let total = 0;
    let updated = 0;
    let ready = 0;
    for (const rs of this.#replicaSetsOf(d)) {
      const live = this.#podsOwnedBy(rs.metadata.uid).filter((p) => !p.metadata.deletionTimestamp);
      const rsReady = live.filter(podReady).length;
      total += live.length;
      ready += rsReady;
      if (rs.metadata.name === rsName) updated += live.length;
      const rsStatus: Record<string, number> = {
        replicas: live.length,
        fullyLabeledReplicas: live.length,
        readyReplicas: rsReady,
        availableReplicas: rsReady,
        observedGeneration: rs.metadata.generation ?? 1,
      };
      for (const k of ["fullyLabeledReplicas", "readyReplicas", "availableReplicas"])
        if (rsStatus[k] === 0) delete rsStatus[k];
      this.#writeStatus(this.#ri.replicasets, rs, rsStatus, system);
    }
    const old =
      (d.status as { conditions?: { type: string; status: string; reason: string }[] } | undefined)
        ?.conditions ?? [];
    const condition = (type: string, ok: boolean, reason: string, message: string) => {
      const prev = old.find((c) => c.type === type) as Record<string, string> | undefined;
      const status = ok ? "True" : "False";
      const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      const same = prev?.status === status && prev.reason === reason;
      return {
        type,
        status,
        lastUpdateTime: same ? prev.lastUpdateTime : now,
        lastTransitionTime: prev?.status === status ? prev.lastTransitionTime : now,
        reason,
        message,
      };
    };
    const complete = updated === replicas && total === replicas && ready >= replicas;
    const status: Record<string, unknown> = {
      observedGeneration: d.metadata.generation ?? 1,
      replicas: total,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: ready,
      unavailableReplicas: Math.max(0, replicas - ready),
      conditions: [
        condition(
          "Available",
          ready >= replicas,
          ready >= replicas ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
          ready >= replicas
            ? "Deployment has minimum availability."
            : "Deployment does not have minimum availability.",
        ),
        condition(
          "Progressing",
          true,
          complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
          complete
            ? `ReplicaSet "${rsName}" has successfully progressed.`
            : `ReplicaSet "${rsName}" is progressing.`,
        ),
      ],
    };
    for (const k of [
      "replicas",
      "updatedReplicas",
      "readyReplicas",
      "availableReplicas",
      "unavailableReplicas",
    ])
      if (status[k] === 0) delete status[k];
    this.#writeStatus(this.#ri.deployments, d, status, system);
  }

  // ---- Pod garbage collection: pods bound to nodes that no longer exist ----

  #podGc(): void {
    const names = new Set(this.#list(this.#ri.nodes).map((n) => n.metadata.name));
    for (const p of this.#list(this.#ri.pods)) {
      const node = (p.spec as PodSpec).nodeName;
      if (!node || names.has(node)) continue;
      // As the pod garbage collector: no kubelet will ever finish these, so they go at once (grace 0).
      this.#o.log(`deleting pod ${p.metadata.namespace}/${p.metadata.name}: node ${node} is gone`);
      this.#o.api.delete(this.#ri.pods, p.metadata.namespace, p.metadata.name ?? "", {
        gracePeriodSeconds: 0,
      });
    }
  }

  // ---- Kubelet ----

  #kubelet(): void {
    // This kubelet's pods: those bound to a simulated node, and the host's (Deployment pods, with the finalizer).
    const pods = this.#list(this.#ri.pods).filter((p) => {
      const nodeName = (p.spec as PodSpec).nodeName;
      return nodeName ? this.#o.nodes.has(nodeName) : p.metadata.finalizers?.includes(KUBELET_FINALIZER);
    });
    const seen = new Set<string>();
    for (const pod of pods) {
      const uid = pod.metadata.uid ?? "";
      seen.add(uid);
      const proc = this.processes.get(uid);
      if (pod.metadata.deletionTimestamp) {
        if (!proc) this.#release(pod);
        else if (!proc.stopping)
          void this.#terminate(proc, pod.metadata.deletionGracePeriodSeconds || undefined);
        continue;
      }
      const nodeName = (pod.spec as PodSpec).nodeName;
      const node = nodeName ? this.#o.nodes.get(nodeName) : undefined;
      if (!proc) {
        try {
          this.#start(pod, node);
        } catch (err) {
          // As the kubelet's CreateContainerConfigError: the pod stays Pending and says why.
          const message = (err as Error).message;
          const container = (pod.spec as PodSpec).containers[0];
          this.#writeStatus(
            this.#ri.pods,
            pod,
            {
              phase: "Pending",
              containerStatuses: [
                {
                  name: container?.name ?? "",
                  image: container?.image ?? "",
                  imageID: "",
                  ready: false,
                  started: false,
                  restartCount: 0,
                  state: { waiting: { reason: "CreateContainerConfigError", message } },
                },
              ],
            },
            kubelet,
          );
          continue;
        }
      }
      const p = this.processes.get(uid);
      if (p) this.#writeStatus(this.#ri.pods, pod, this.#podStatus(pod, p, node), kubelet);
    }
    for (const [uid, proc] of this.processes)
      if (!seen.has(uid) && !proc.stopping) void this.#terminate(proc);
  }

  #terminate(proc: PodProcess, graceSeconds?: number): Promise<void> {
    return proc.stop(graceSeconds).then(() => {
      this.processes.delete(proc.spec.uid);
      this.#o.log(`stopped pod ${proc.spec.namespace}/${proc.spec.name}`);
      this.schedule();
    });
  }

  /** The process is gone: the pod object may go (finalizer removed, graceful deletion finished with grace 0). */
  #release(pod: KubeObject): void {
    if (this.#paused) return;
    const ns = pod.metadata.namespace;
    const name = pod.metadata.name ?? "";
    if (pod.metadata.finalizers?.includes(KUBELET_FINALIZER)) {
      const next = structuredClone(pod);
      next.metadata.finalizers = (pod.metadata.finalizers ?? []).filter((f) => f !== KUBELET_FINALIZER);
      delete next.metadata.resourceVersion;
      this.#o.api.update(this.#ri.pods, ns, name, next, kubelet);
    }
    const left = this.#o.api.getStored(this.#ri.pods, ns, name);
    if (left && left.metadata.uid === pod.metadata.uid && (left.metadata.deletionGracePeriodSeconds ?? 0) > 0)
      this.#o.api.delete(this.#ri.pods, ns, name, {
        gracePeriodSeconds: 0,
        preconditions: { uid: pod.metadata.uid ?? "" },
      });
  }

  #start(pod: KubeObject, node: NodeNet | undefined): void {
    const spec = pod.spec as PodSpec;
    const container = spec.containers[0] as Container;
    const ip = node ? node.ip : "127.0.0.1";
    const ips = { podIP: ip, hostIP: ip };
    const ns = pod.metadata.namespace ?? "default";
    const id = `${ns}_${pod.metadata.name}`;
    const podDir = join(this.#o.dir, "pods", id);
    mkdirSync(podDir, { recursive: true });
    const kubeconfig = join(podDir, "kubeconfig");
    this.#o.kubeconfig(ns, spec.serviceAccountName ?? "default", node, kubeconfig);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
      HOME: process.env.HOME ?? "/root",
      HOSTNAME: node?.name ?? "localhost",
    };
    for (const e of container.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      else if (e.valueFrom?.fieldRef) env[e.name] = fieldRef(pod, e.valueFrom.fieldRef.fieldPath, ips);
      else if (e.valueFrom?.configMapKeyRef)
        env[e.name] = this.#keyRef("configmaps", ns, e.valueFrom.configMapKeyRef);
      else if (e.valueFrom?.secretKeyRef) env[e.name] = this.#keyRef("secrets", ns, e.valueFrom.secretKeyRef);
      else env[e.name] = "";
    }
    env.KUBECONFIG = kubeconfig;
    const argv = commandLine(container, this.#o.commands);
    const nodeOptions = nodeOptionsForSources(argv, env.NODE_OPTIONS);
    if (nodeOptions !== undefined) env.NODE_OPTIONS = nodeOptions;
    const proc = new PodProcess(
      {
        uid: pod.metadata.uid ?? "",
        namespace: ns,
        name: pod.metadata.name ?? "",
        node: node?.name,
        argv: node ? inNode(node, argv, this.#o.cwd) : argv,
        env,
        logFile: join(this.#o.dir, "logs", `${id}.log`),
        graceSeconds: spec.terminationGracePeriodSeconds ?? 30,
        readiness: this.#httpProbe(container, container.readinessProbe, ip, this.#o.probePeriodMs),
        // Liveness at the real pace: probing faster would kill slow starters that a kubelet leaves alone.
        liveness: this.#httpProbe(container, container.livenessProbe, ip, Number.POSITIVE_INFINITY),
        backoffMs: this.#o.backoffMs,
      },
      () => this.schedule(),
    );
    writeFileSync(join(podDir, "argv.json"), JSON.stringify(proc.spec.argv));
    this.processes.set(proc.spec.uid, proc);
    // Spawning from inside a node's namespaces: the cwd given to nsenter.
    proc.start();
    this.#o.log(`started pod ${ns}/${pod.metadata.name}${node ? ` on ${node.name}` : " on the host"}`);
  }

  /** A ConfigMap's or Secret's key, for env valueFrom (missing ones are empty, with a log line). */
  #keyRef(plural: "configmaps" | "secrets", ns: string, ref: { name: string; key: string }): string {
    const ri = this.#o.api.registry.get("", "v1", plural);
    const obj = ri ? this.#o.api.getStored(ri, ns, ref.name) : undefined;
    const value = (obj?.data as Record<string, string> | undefined)?.[ref.key];
    if (value === undefined) {
      this.#o.log(`${plural} ${ns}/${ref.name} has no key ${ref.key}: the variable is empty`);
      return "";
    }
    return plural === "secrets" ? Buffer.from(value, "base64").toString() : value;
  }

  #httpProbe(
    container: Container,
    probe: Probe | undefined,
    ip: string,
    maxPeriodMs: number,
  ): HttpProbe | undefined {
    if (!probe?.httpGet) return undefined;
    return {
      host: probe.httpGet.host ?? ip,
      port: probePort(container, probe.httpGet.port),
      path: probe.httpGet.path ?? "/",
      periodMs: Math.min((probe.periodSeconds ?? 10) * 1000, maxPeriodMs),
      timeoutMs: (probe.timeoutSeconds ?? 1) * 1000,
      failureThreshold: probe.failureThreshold ?? 3,
      initialDelayMs: (probe.initialDelaySeconds ?? 0) * 1000,
    };
  }

  #podStatus(pod: KubeObject, p: PodProcess, node: NodeNet | undefined): unknown {
    const ip = node ? node.ip : "127.0.0.1";
    const container = (pod.spec as PodSpec).containers[0] as Container;
    const started = p.createdAt;
    const ready = p.ready ? "True" : "False";
    const notReady = p.ready
      ? {}
      : { reason: "ContainersNotReady", message: `containers with unready status: [${container.name}]` };
    return {
      phase: "Running",
      conditions: [
        {
          type: "PodReadyToStartContainers",
          status: "True",
          lastProbeTime: null,
          lastTransitionTime: started,
        },
        { type: "Initialized", status: "True", lastProbeTime: null, lastTransitionTime: started },
        { type: "Ready", status: ready, lastProbeTime: null, lastTransitionTime: p.readySince, ...notReady },
        {
          type: "ContainersReady",
          status: ready,
          lastProbeTime: null,
          lastTransitionTime: p.readySince,
          ...notReady,
        },
        { type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: started },
      ],
      hostIP: ip,
      hostIPs: [{ ip }],
      podIP: ip,
      podIPs: [{ ip }],
      startTime: started,
      qosClass: "BestEffort",
      containerStatuses: [
        {
          name: container.name,
          image: container.image ?? "",
          imageID: "",
          containerID: p.pgid ? `local://${p.pgid}` : undefined,
          ready: p.ready,
          started: p.state.running !== undefined,
          restartCount: p.restartCount,
          state: p.state,
          lastState: p.lastState,
        },
      ],
    };
  }

  /** Stops every process (SIGTERM, SIGKILL after the grace period, at most `graceSeconds`). */
  async stop(graceSeconds = 5): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#unsubscribe();
    await Promise.all(
      [...this.processes.values()].map((p) => p.stop(Math.min(graceSeconds, p.spec.graceSeconds))),
    );
    this.processes.clear();
  }

  /** Stops the processes of one node now (the node is going away). */
  async stopNode(node: string): Promise<void> {
    await Promise.all(
      [...this.processes.values()]
        .filter((p) => p.spec.node === node)
        .map((p) => this.#terminate(p, Math.min(5, p.spec.graceSeconds))),
    );
  }
}
