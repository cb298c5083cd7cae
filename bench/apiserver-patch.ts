// How many node-entry writes per second the test API server takes on one large XdpCounter: the write the
// scale part (bench/scale.ts) makes N agents send. One XdpCounter whose status.nodes holds N entries built as
// the scale part builds them, a watch on xdpcounters open as the operator keeps one, then M JSON merge
// patches of single entries on /status (the agent's field manager), one at a time and with C in flight.
// Timed until every answer and every watch event has arrived. With --baseline REV, the server of that commit
// (its e2e/local/apiserver, taken with `git archive`) is measured in the same run, the two alternating
// round by round.
//
//   node bench/apiserver-patch.ts [--entries 1000,1800] [--patches 200] [--concurrency 32] [--rounds 3]
//                                 [--baseline REV] [--json FILE]
//
// For a CPU profile of the server: node --cpu-prof --cpu-prof-dir DIR bench/apiserver-patch.ts --rounds 1,
// then node bench/cpu-profile.ts DIR/*.cpuprofile (where the time went, by function).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { buildNodeEntry } from "../agent/cluster/node-entry.ts";
import { CRD_PATH, nodeEntryPatch } from "../api/v1alpha1/index.ts";
import type { ApiServer, ApiServerOptions } from "../e2e/local/apiserver/index.ts";
import { nodeName, SyntheticCounters } from "./scale.ts";
import { round, summarize } from "./stats.ts";

const XDPC = "/apis/xdpcounter.dev/v1alpha1/xdpcounters";
const NAME = "patch-bench";
const FIELD_MANAGER = "xdp-counter-agent";
const repo = join(import.meta.dirname, "..");

type Start = (o: ApiServerOptions) => Promise<ApiServer>;

interface Implementation {
  label: string;
  start: Start;
}

/** The test API server of another commit, unpacked beside the project's node_modules. */
async function implementationAt(rev: string, dirs: string[]): Promise<Implementation> {
  const dir = mkdtempSync(join(tmpdir(), "xdp-counter-apiserver-"));
  dirs.push(dir);
  const tar = execFileSync("git", ["-C", repo, "archive", rev, "e2e/local/apiserver"]);
  execFileSync("tar", ["-x", "-C", dir], { input: tar });
  symlinkSync(join(repo, "node_modules"), join(dir, "node_modules"));
  const mod = (await import(pathToFileURL(join(dir, "e2e/local/apiserver/index.ts")).href)) as {
    startApiServer: Start;
  };
  return { label: rev, start: mod.startApiServer };
}

interface Client {
  send(method: string, path: string, body: string | undefined, contentType?: string): Promise<string>;
  /** A watch on xdpcounters from `rv`: counts events without decoding them, as cheaply as a client can. */
  watch(rv: string): { events: () => number; close: () => void };
  close(): void;
}

function client(server: ApiServer, concurrency: number): Client {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, ca: server.ca });
  const headers = { Authorization: `Bearer ${server.adminToken}` };
  const watches: (() => void)[] = [];
  return {
    send(method, path, body, contentType = "application/merge-patch+json") {
      return new Promise((resolve, reject) => {
        const attempt = (retries: number) => {
          const req = request(
            new URL(path, server.url),
            {
              method,
              agent,
              headers: body === undefined ? headers : { ...headers, "Content-Type": contentType },
            },
            (res) => {
              const chunks: Buffer[] = [];
              const ok = (res.statusCode ?? 0) < 300;
              // a patch's answer (the whole object) is read to its end, kept only if it is an error
              const keep = !ok || method !== "PATCH";
              res.on("data", (c: Buffer) => {
                if (keep) chunks.push(c);
              });
              res.on("end", () => {
                const text = Buffer.concat(chunks).toString();
                if (ok) resolve(text);
                else reject(new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 300)}`));
              });
              res.on("error", (err) => reject(new Error(`${method} ${path}: ${err.message}`)));
            },
          );
          // A connection reset: a kept-alive one the server closed while idle (the request never reached
          // it), or one dropped while the server was too busy to answer for long. Sent again, at most
          // twice: a node-entry patch written twice writes the same entry.
          req.on("error", (err: NodeJS.ErrnoException) => {
            if (retries > 0 && err.code === "ECONNRESET") attempt(retries - 1);
            else reject(new Error(`${method} ${path}: ${err.message}`));
          });
          req.end(body);
        };
        attempt(2);
      });
    },
    watch(rv) {
      let events = 0;
      const req = request(
        new URL(`${XDPC}?watch=true&allowWatchBookmarks=true&resourceVersion=${rv}`, server.url),
        { headers, ca: server.ca },
        (res) => {
          res.on("data", (c: Buffer) => {
            for (let i = c.indexOf(10); i >= 0; i = c.indexOf(10, i + 1)) events++;
          });
          res.on("error", () => undefined);
        },
      );
      req.on("error", () => undefined);
      req.end();
      const close = () => req.destroy();
      watches.push(close);
      return { events: () => events, close };
    },
    close() {
      for (const w of watches) w();
      agent.destroy();
    },
  };
}

/** Entry patches for nodes `from`, `from + step`, … (mod n), with counters read now. */
function entryPatches(sources: SyntheticCounters[], count: number, from: number, step: number): string[] {
  const n = sources.length;
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    const i = (from + k * step) % n;
    const entry = buildNodeEntry({
      states: sources[i]?.states() ?? [],
      generation: 1,
      now: new Date(),
    });
    out.push(JSON.stringify(nodeEntryPatch(nodeName(i + 1), entry)));
  }
  return out;
}

const statusPath = `${XDPC}/${NAME}/status?fieldManager=${FIELD_MANAGER}`;

async function waitFor(check: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

interface Measured {
  sequential: number;
  concurrent: number;
  objectBytes: number;
  watchEvents: number;
}

/** One server: fill, watch, then the sequential and the concurrent phase. Patches per second of each. */
async function measureOnce(
  impl: Implementation,
  entries: number,
  patches: number,
  concurrency: number,
): Promise<Measured> {
  const server = await impl.start({ crds: [CRD_PATH], logUnknown: () => undefined });
  const c = client(server, concurrency);
  try {
    const created = JSON.parse(
      await c.send(
        "POST",
        XDPC,
        JSON.stringify({
          apiVersion: "xdpcounter.dev/v1alpha1",
          kind: "XdpCounter",
          metadata: { name: NAME },
          spec: { interfaces: ["eth0"], reportInterval: "10s" },
        }),
        "application/json",
      ),
    ) as { metadata: { resourceVersion: string } };
    const sources = Array.from({ length: entries }, (_, i) => new SyntheticCounters(i, 1000));
    // filled as the scale part fills missing entries: 100 nodes per merge patch
    for (let k = 0; k < entries; k += 100) {
      const nodes: Record<string, unknown> = {};
      for (const p of entryPatches(sources, Math.min(100, entries - k), k, 1))
        Object.assign(nodes, (JSON.parse(p) as { status: { nodes: object } }).status.nodes);
      await c.send("PATCH", statusPath, JSON.stringify({ status: { nodes } }));
    }
    const filled = await c.send("GET", `${XDPC}/${NAME}`, undefined);
    const objectBytes = Buffer.byteLength(filled);
    const w = c.watch(created.metadata.resourceVersion);
    // the watch replays the fill, then each patch adds one event
    await waitFor(() => w.events() >= Math.ceil(entries / 100), "the watch to replay the fill");
    const base = w.events();

    const seqBodies = entryPatches(sources, patches, 0, 7);
    let t = performance.now();
    for (const body of seqBodies) await c.send("PATCH", statusPath, body);
    await waitFor(() => w.events() >= base + patches, "the sequential phase's watch events");
    const sequential = patches / ((performance.now() - t) / 1000);

    const concBodies = entryPatches(sources, patches, 3, 11);
    let next = 0;
    t = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < concBodies.length) {
          const body = concBodies[next++] as string;
          await c.send("PATCH", statusPath, body);
        }
      }),
    );
    await waitFor(() => w.events() >= base + 2 * patches, "the concurrent phase's watch events");
    const concurrent = patches / ((performance.now() - t) / 1000);
    return { sequential, concurrent, objectBytes, watchEvents: w.events() };
  } finally {
    c.close();
    await server.stop();
  }
}

const USAGE = `usage: node bench/apiserver-patch.ts [--entries 1000,1800] [--patches 200] [--concurrency 32] [--rounds 3] [--baseline REV] [--json FILE]`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      entries: { type: "string", default: "1000,1800" },
      patches: { type: "string", default: "200" },
      concurrency: { type: "string", default: "32" },
      rounds: { type: "string", default: "3" },
      baseline: { type: "string" },
      json: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const sizes = values.entries.split(",").map(Number);
  const patches = Number(values.patches);
  const concurrency = Number(values.concurrency);
  const rounds = Number(values.rounds);
  const dirs: string[] = [];
  try {
    const { startApiServer } = await import("../e2e/local/apiserver/index.ts");
    const impls: Implementation[] = [{ label: "this tree", start: startApiServer }];
    if (values.baseline) impls.unshift(await implementationAt(values.baseline, dirs));
    const results: Record<string, unknown>[] = [];
    for (const entries of sizes) {
      const runs = new Map<string, Measured[]>(impls.map((i) => [i.label, []]));
      for (let r = 0; r < rounds; r++) {
        for (const impl of impls) {
          const m = await measureOnce(impl, entries, patches, concurrency);
          runs.get(impl.label)?.push(m);
          console.error(
            `${entries} entries, ${impl.label}, round ${r + 1}: sequential ${round(m.sequential, 1)}/s, ${concurrency} in flight ${round(m.concurrent, 1)}/s (object ${m.objectBytes} B)`,
          );
        }
      }
      for (const impl of impls) {
        const ms = runs.get(impl.label) ?? [];
        const seq = summarize(ms.map((m) => m.sequential));
        const conc = summarize(ms.map((m) => m.concurrent));
        results.push({
          server: impl.label,
          entries,
          objectBytes: ms[0]?.objectBytes,
          patches,
          concurrency,
          rounds,
          sequentialPerSecond: {
            median: round(seq.median, 1),
            min: round(seq.min, 1),
            max: round(seq.max, 1),
          },
          concurrentPerSecond: {
            median: round(conc.median, 1),
            min: round(conc.min, 1),
            max: round(conc.max, 1),
          },
        });
      }
    }
    console.log(
      `| server | entries | object B | sequential patches/s: median (min–max) | ${concurrency} in flight |`,
    );
    console.log("| --- | ---: | ---: | ---: | ---: |");
    for (const r of results as {
      server: string;
      entries: number;
      objectBytes: number;
      sequentialPerSecond: { median: number; min: number; max: number };
      concurrentPerSecond: { median: number; min: number; max: number };
    }[]) {
      const s = r.sequentialPerSecond;
      const c = r.concurrentPerSecond;
      console.log(
        `| ${r.server} | ${r.entries} | ${r.objectBytes} | ${s.median} (${s.min}–${s.max}) | ${c.median} (${c.min}–${c.max}) |`,
      );
    }
    if (values.json) writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

await main();
