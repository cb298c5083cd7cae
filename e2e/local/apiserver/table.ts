// Server-side printing: meta.k8s.io/v1 Table for `kubectl get`, from a CRD's additionalPrinterColumns or
// from the columns kubectl shows for the built-in kinds.
import { isObject, type KubeObject, type PrinterColumn, type ResourceInfo } from "./types.ts";

interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
  cell: (obj: KubeObject) => unknown;
}

/** duration.HumanDuration from k8s.io/apimachinery, as kubectl prints ages. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (h < 24 * 8) return h % 24 === 0 ? `${Math.floor(h / 24)}d` : `${Math.floor(h / 24)}d${h % 24}h`;
  const d = Math.floor(h / 24);
  if (d < 365 * 2) return `${d}d`;
  const y = Math.floor(d / 365);
  if (y < 8) return `${y}y${d % 365}d`;
  return `${y}y`;
}

function age(obj: KubeObject): string {
  const t = Date.parse(obj.metadata.creationTimestamp ?? "");
  return Number.isNaN(t) ? "<unknown>" : humanDuration(Date.now() - t);
}

function tokenize(path: string): string[] {
  const tokens: string[] = [];
  const p = path
    .trim()
    .replace(/^\{|\}$/g, "")
    .replace(/^\$/, "");
  let i = 0;
  while (i < p.length) {
    if (p[i] === ".") {
      i++;
      continue;
    }
    if (p[i] === "[") {
      const end = p.indexOf("]", i);
      tokens.push(p.slice(i, end < 0 ? p.length : end + 1));
      i = end < 0 ? p.length : end + 1;
      continue;
    }
    let j = i;
    while (j < p.length && p[j] !== "." && p[j] !== "[") j++;
    tokens.push(p.slice(i, j));
    i = j;
  }
  return tokens;
}

/**
 * Evaluates the JSONPath subset of printer columns: `.a.b`, `.a[0].b`, `.a[*].b` and filters
 * `.a[?(@.type=="Ready")].b`; several results are joined by commas.
 */
export function jsonPath(obj: unknown, path: string): unknown {
  let values: unknown[] = [obj];
  for (const token of tokenize(path)) {
    const next: unknown[] = [];
    const idx = /^\[(\*|-?\d+)\]$/.exec(token);
    const filter = /^\[\?\(@\.([\w.-]+)\s*==\s*["']([^"']*)["']\)\]$/.exec(token);
    for (const v of values) {
      if (filter) {
        if (Array.isArray(v))
          next.push(...v.filter((item) => String(jsonPath(item, `.${filter[1]}`)) === filter[2]));
      } else if (idx) {
        if (!Array.isArray(v)) continue;
        if (idx[1] === "*") next.push(...v);
        else {
          const i = Number(idx[1]);
          const item = v[i < 0 ? v.length + i : i];
          if (item !== undefined) next.push(item);
        }
      } else if (isObject(v) && v[token] !== undefined) next.push(v[token]);
    }
    values = next;
  }
  if (values.length === 0) return undefined;
  return values.length === 1
    ? values[0]
    : values.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(",");
}

const col = (
  name: string,
  cell: (o: KubeObject) => unknown,
  priority = 0,
  type = "string",
  format = "",
): Column => ({
  name,
  type,
  format,
  description: "",
  priority,
  cell,
});
const nameCol = col("Name", (o) => o.metadata.name ?? "", 0, "string", "name");
const ageCol = col("Age", age, 0, "string");
/** The wide columns of a workload with a pod template: its containers, their images, its selector. */
const templateColumns = [
  col("Containers", (o) => podContainers(o, (c) => c.name), 1),
  col("Images", (o) => podContainers(o, (c) => c.image), 1),
  col("Selector", (o) => selectorString(get(o, ".spec.selector")), 1),
];
const get = (o: unknown, path: string): unknown => jsonPath(o, path);
const num = (o: unknown, path: string): number => Number(get(o, path) ?? 0) || 0;

function selectorString(sel: unknown): string {
  if (!isObject(sel)) return "<none>";
  const parts = Object.entries(isObject(sel.matchLabels) ? sel.matchLabels : sel).map(
    ([k, v]) => `${k}=${String(v)}`,
  );
  return parts.length ? parts.join(",") : "<none>";
}

function containers(o: KubeObject, path: string): { name: string; image: string }[] {
  const list = get(o, path);
  return Array.isArray(list) ? (list as { name: string; image: string }[]) : [];
}

/** One field of each container of the pod template, comma-separated. */
function podContainers(o: KubeObject, field: (c: { name: string; image: string }) => string): string {
  return containers(o, ".spec.template.spec.containers").map(field).join(",");
}

const builtinColumns: Record<string, Column[]> = {
  "/pods": [
    nameCol,
    col("Ready", (o) => {
      const statuses = (get(o, ".status.containerStatuses") as { ready?: boolean }[] | undefined) ?? [];
      const total = containers(o, ".spec.containers").length;
      return `${statuses.filter((s) => Array.isArray(statuses) && s.ready).length}/${total}`;
    }),
    col("Status", (o) =>
      o.metadata.deletionTimestamp
        ? "Terminating"
        : String(get(o, ".status.reason") ?? get(o, ".status.phase") ?? ""),
    ),
    col(
      "Restarts",
      (o) =>
        ((get(o, ".status.containerStatuses") as { restartCount?: number }[] | undefined) ?? []).reduce(
          (a, s) => a + (s.restartCount ?? 0),
          0,
        ),
      0,
      "integer",
    ),
    ageCol,
    col("IP", (o) => get(o, ".status.podIP") ?? "<none>", 1),
    col("Node", (o) => get(o, ".spec.nodeName") ?? "<none>", 1),
    col("Nominated Node", (o) => get(o, ".status.nominatedNodeName") ?? "<none>", 1),
    col("Readiness Gates", () => "<none>", 1),
  ],
  "apps/daemonsets": [
    nameCol,
    col("Desired", (o) => num(o, ".status.desiredNumberScheduled"), 0, "integer"),
    col("Current", (o) => num(o, ".status.currentNumberScheduled"), 0, "integer"),
    col("Ready", (o) => num(o, ".status.numberReady"), 0, "integer"),
    col("Up-to-date", (o) => num(o, ".status.updatedNumberScheduled"), 0, "integer"),
    col("Available", (o) => num(o, ".status.numberAvailable"), 0, "integer"),
    col("Node Selector", (o) => selectorString(get(o, ".spec.template.spec.nodeSelector"))),
    ageCol,
    ...templateColumns,
  ],
  "apps/deployments": [
    nameCol,
    col("Ready", (o) => `${num(o, ".status.readyReplicas")}/${num(o, ".spec.replicas")}`),
    col("Up-to-date", (o) => num(o, ".status.updatedReplicas"), 0, "integer"),
    col("Available", (o) => num(o, ".status.availableReplicas"), 0, "integer"),
    ageCol,
    ...templateColumns,
  ],
  "apps/replicasets": [
    nameCol,
    col("Desired", (o) => num(o, ".spec.replicas"), 0, "integer"),
    col("Current", (o) => num(o, ".status.replicas"), 0, "integer"),
    col("Ready", (o) => num(o, ".status.readyReplicas"), 0, "integer"),
    ageCol,
  ],
  "/namespaces": [nameCol, col("Status", (o) => get(o, ".status.phase") ?? ""), ageCol],
  "/nodes": [
    nameCol,
    col("Status", (o) => {
      const ready = (
        (get(o, ".status.conditions") as { type: string; status: string }[] | undefined) ?? []
      ).find((c) => c.type === "Ready");
      return ready?.status === "True" ? "Ready" : ready ? "NotReady" : "Unknown";
    }),
    col("Roles", () => "<none>"),
    ageCol,
    col("Version", (o) => get(o, ".status.nodeInfo.kubeletVersion") ?? ""),
  ],
  "/configmaps": [
    nameCol,
    col(
      "Data",
      (o) => Object.keys({ ...(o.data as object), ...(o.binaryData as object) }).length,
      0,
      "integer",
    ),
    ageCol,
  ],
  "/secrets": [
    nameCol,
    col("Type", (o) => o.type ?? "Opaque"),
    col("Data", (o) => Object.keys((o.data as object) ?? {}).length, 0, "integer"),
    ageCol,
  ],
  "/serviceaccounts": [
    nameCol,
    col("Secrets", (o) => (Array.isArray(o.secrets) ? o.secrets.length : 0), 0, "integer"),
    ageCol,
  ],
  "/services": [
    nameCol,
    col("Type", (o) => get(o, ".spec.type") ?? "ClusterIP"),
    col("Cluster-IP", (o) => get(o, ".spec.clusterIP") ?? "<none>"),
    col("External-IP", () => "<none>"),
    col(
      "Port(s)",
      (o) =>
        ((get(o, ".spec.ports") as { port: number; protocol?: string }[] | undefined) ?? [])
          .map((p) => `${p.port}/${p.protocol ?? "TCP"}`)
          .join(",") || "<none>",
    ),
    ageCol,
  ],
  "/events": [
    col("Last Seen", (o) => {
      const t = Date.parse(String(o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp ?? ""));
      return Number.isNaN(t) ? "<unknown>" : humanDuration(Date.now() - t);
    }),
    col("Type", (o) => o.type ?? ""),
    col("Reason", (o) => o.reason ?? ""),
    col(
      "Object",
      (o) =>
        `${String(get(o, ".involvedObject.kind") ?? "").toLowerCase()}/${String(get(o, ".involvedObject.name") ?? "")}`,
    ),
    col("Message", (o) => o.message ?? ""),
  ],
  "coordination.k8s.io/leases": [nameCol, col("Holder", (o) => get(o, ".spec.holderIdentity") ?? ""), ageCol],
  "apiextensions.k8s.io/customresourcedefinitions": [
    nameCol,
    col("Created At", (o) => o.metadata.creationTimestamp ?? "", 0, "date"),
  ],
  "rbac.authorization.k8s.io/clusterroles": [
    nameCol,
    col("Created At", (o) => o.metadata.creationTimestamp ?? "", 0, "date"),
  ],
  "rbac.authorization.k8s.io/roles": [
    nameCol,
    col("Created At", (o) => o.metadata.creationTimestamp ?? "", 0, "date"),
  ],
  "rbac.authorization.k8s.io/rolebindings": [
    nameCol,
    col("Role", (o) => `${String(get(o, ".roleRef.kind"))}/${String(get(o, ".roleRef.name"))}`),
    ageCol,
  ],
  "rbac.authorization.k8s.io/clusterrolebindings": [
    nameCol,
    col("Role", (o) => `${String(get(o, ".roleRef.kind"))}/${String(get(o, ".roleRef.name"))}`),
    ageCol,
  ],
};

function crdColumns(columns: PrinterColumn[]): Column[] {
  if (columns.length === 0) return [nameCol, ageCol];
  return [
    nameCol,
    ...columns.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? "",
      description: c.description ?? "",
      priority: c.priority ?? 0,
      cell: (o: KubeObject) => {
        const v = jsonPath(o, c.jsonPath);
        if (v === undefined) return null;
        if (c.type === "date" && typeof v === "string") {
          const t = Date.parse(v);
          return Number.isNaN(t) ? v : humanDuration(Date.now() - t);
        }
        return v;
      },
    })),
  ];
}

function columnsFor(ri: ResourceInfo): Column[] {
  if (ri.crd) return crdColumns(ri.printerColumns ?? []);
  return builtinColumns[`${ri.group}/${ri.plural}`] ?? [nameCol, ageCol];
}

export type IncludeObject = "None" | "Metadata" | "Object";

/** Builds the Table for a list of objects (or a single one). */
export function toTable(
  ri: ResourceInfo,
  objects: KubeObject[],
  include: IncludeObject,
  listMeta: object,
): object {
  const columns = columnsFor(ri);
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: listMeta,
    columnDefinitions: columns.map(({ cell: _c, ...d }) => d),
    rows: objects.map((o) => {
      const row: Record<string, unknown> = { cells: columns.map((c) => c.cell(o) ?? null) };
      if (include === "Object") row.object = o;
      else if (include === "Metadata")
        row.object = { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata };
      return row;
    }),
  };
}
