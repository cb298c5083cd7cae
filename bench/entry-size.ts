// The size of one node's entry in status.nodes, as agents wrote it before and as they write it now (zero
// actions left out, docs/adr/0001), measured on a real kube-apiserver and etcd (e2e/local/controlplane, the API
// server alone): the object's JSON as the server returns it, managedFields included (the agents' field manager
// lists every field it wrote, per node). The
// node names, counters and interface are bench/scale.ts's: a long cloud node name, one interface `eth0`, 12-
// and 15-digit pass counters, and, for an action change, drop counters beside them.
// A third format, which the API does not take, measures what leaving a single interface's counters out
// (the node's counters being that interface's) would save, on a copy of the CRD that allows it.
//   node bench/entry-size.ts        prints the table
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { buildNodeEntry } from "../agent/cluster/node-entry.ts";
import type { InterfaceState } from "../agent/cluster/reconciler.ts";
import {
  type ActionCounters,
  CRD_PATH,
  formatCounters,
  type NodeStatus,
  nodeEntryPatch,
  parseCounters,
  XDP_ACTIONS,
} from "../api/v1alpha1/index.ts";
import { startControlPlane } from "../e2e/local/controlplane/index.ts";
import { ETCD_LIMIT_BYTES, nodeName } from "./scale.ts";

export const ENTRIES = 100;

export const ENTRY_FORMATS = [
  "all five actions",
  "zero actions left out",
  "zero actions and the interface's counters left out",
] as const;
export type EntryFormat = (typeof ENTRY_FORMATS)[number];
export type EntryCounters = "pass" | "pass and drop";
export interface EntrySize {
  format: EntryFormat;
  counters: EntryCounters;
  /** `"<node name>":{…},` in status.nodes alone */
  entryBytes: number;
  /** what one more entry adds to the object (entry and managedFields), averaged over ENTRIES entries */
  objectBytesPerEntry: number;
  /** the object without entries: metadata, spec, the agents' managedFields entry */
  baseBytes: number;
  /** entries that fit under etcd's 1.5 MiB request limit */
  nodesUnderLimit: number;
}

/** Node i's only interface, with bench/scale.ts's counters. */
function states(i: number, counters: EntryCounters): InterfaceState[] {
  const p = 100_000_000_000n + BigInt(i) * 7_919_113n;
  const c = Object.fromEntries(XDP_ACTIONS.map((a) => [a, { packets: 0n, bytes: 0n }])) as NonNullable<
    InterfaceState["counters"]
  >;
  c.pass = { packets: p, bytes: p * 742n };
  if (counters === "pass and drop") c.drop = { packets: p / 1000n, bytes: (p / 1000n) * 60n };
  return [{ name: "eth0", attached: true, mode: "native", counters: c, problem: undefined }];
}

/** The entry as agents wrote it before zero actions were left out: all five, "0" included. */
function withAllFive(entry: NodeStatus): NodeStatus {
  const all = (c: ActionCounters) => formatCounters(parseCounters(c));
  return {
    ...entry,
    packets: all(entry.packets),
    bytes: all(entry.bytes),
    interfaces: entry.interfaces.map((i) => ({ ...i, packets: all(i.packets), bytes: all(i.bytes) })),
  };
}

/** The entry without its interfaces' counters: not what the API takes. */
function withoutInterfaceCounters(entry: NodeStatus): Record<string, unknown> {
  return { ...entry, interfaces: entry.interfaces.map(({ packets: _, bytes: __, ...rest }) => rest) };
}

/** A copy of the CRD, under another group, whose interfaces may leave their counters out. */
function crdWithoutInterfaceCounters(dir: string): string {
  const crd = parse(readFileSync(CRD_PATH, "utf8"));
  crd.metadata.name = "xdpcounters.variant.xdpcounter.dev";
  crd.spec.group = "variant.xdpcounter.dev";
  const nodes = crd.spec.versions[0].schema.openAPIV3Schema.properties.status.properties.nodes;
  const item = nodes.additionalProperties.properties.interfaces.items;
  item.required = item.required.filter((f: string) => f !== "packets" && f !== "bytes");
  const path = join(dir, "variant-crd.yaml");
  writeFileSync(path, stringify(crd));
  return path;
}

export async function measureEntrySizes(): Promise<EntrySize[]> {
  const dir = mkdtempSync(join(tmpdir(), "xdp-counter-entry-size-"));
  const cp = await startControlPlane({
    components: "apiserver",
    crds: [CRD_PATH, crdWithoutInterfaceCounters(dir)],
  }).catch((err) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  const call = (method: string, path: string, body?: unknown, contentType?: string) =>
    cp.client.call(method, path, {
      ...(body === undefined ? {} : { body }),
      ...(contentType ? { contentType } : {}),
    });
  try {
    const out: EntrySize[] = [];
    let seq = 0;
    for (const counters of ["pass", "pass and drop"] as const) {
      for (const format of ENTRY_FORMATS) {
        const variant = format === "zero actions and the interface's counters left out";
        const group = variant ? "variant.xdpcounter.dev" : "xdpcounter.dev";
        const base = `/apis/${group}/v1alpha1/xdpcounters`;
        const name = `size-${seq++}`;
        const created = await call("POST", base, {
          apiVersion: `${group}/v1alpha1`,
          kind: "XdpCounter",
          metadata: { name },
          spec: {},
        });
        if (created.status !== 201) throw new Error(`create ${name}: ${created.text}`);
        const entryOf = (i: number): Record<string, unknown> => {
          const entry = buildNodeEntry({
            states: states(i, counters),
            generation: 1,
            now: new Date("2026-11-25T13:02:41.861Z"),
          });
          if (format === "all five actions") return withAllFive(entry);
          return variant ? withoutInterfaceCounters(entry) : entry;
        };
        const write = async (i: number): Promise<void> => {
          const res = await call(
            "PATCH",
            `${base}/${name}/status?fieldManager=xdp-counter-agent`,
            // as the agent writes it (nulls for absent actions), except the variant the API does not take
            variant
              ? { status: { nodes: { [nodeName(i)]: entryOf(i) } } }
              : nodeEntryPatch(nodeName(i), entryOf(i) as NodeStatus),
            "application/merge-patch+json",
          );
          if (res.status >= 300) throw new Error(`write ${nodeName(i)}: ${res.status} ${res.text}`);
        };
        const objectBytes = async (): Promise<number> =>
          Buffer.byteLength(JSON.stringify((await call("GET", `${base}/${name}`)).body));
        await write(0);
        const one = await objectBytes();
        for (let i = 1; i <= ENTRIES; i++) await write(i);
        const perEntry = ((await objectBytes()) - one) / ENTRIES;
        const empty = one - perEntry;
        out.push({
          format,
          counters,
          entryBytes: Buffer.byteLength(`${JSON.stringify({ [nodeName(0)]: entryOf(0) }).slice(1, -1)},`),
          objectBytesPerEntry: Math.round(perEntry),
          baseBytes: Math.round(empty),
          nodesUnderLimit: Math.floor((ETCD_LIMIT_BYTES - empty) / perEntry),
        });
      }
    }
    return out;
  } finally {
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function entrySizeTable(rows: readonly EntrySize[]): string {
  const lines = [
    "| counters | format | entry B | object B per entry | 1,000 nodes | 5,000 nodes | nodes under 1.5 MiB |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    const at = (n: number) =>
      `${Math.round((r.baseBytes + n * r.objectBytesPerEntry) / 1000).toLocaleString("en")} kB`;
    lines.push(
      `| ${r.counters} | ${r.format} | ${r.entryBytes} | ${r.objectBytesPerEntry} | ${at(1000)} | ${at(5000)} | ${r.nodesUnderLimit.toLocaleString("en")} |`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) console.log(entrySizeTable(await measureEntrySizes()));
