// Where a CPU profile's time went: the functions with the most self time and the most inclusive time (a
// function's own samples plus those of everything it called, counted once per sample even when recursive).
//
//   node bench/cpu-profile.ts FILE.cpuprofile [--top 25]
//
// For profiles written by `node --cpu-prof` (e.g. of the operator: `node --cpu-prof operator/main.ts`).
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: "string", default: "25" } },
});
const file = positionals[0];
if (!file) {
  console.error("usage: node bench/cpu-profile.ts FILE.cpuprofile [--top 25]");
  process.exit(2);
}
const top = Number(values.top);
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (n: ProfileNode): string =>
  `${n.callFrame.functionName || "(anonymous)"} ${basename(n.callFrame.url) || "(native)"}:${n.callFrame.lineNumber + 1}`;

// microseconds per node, from the samples
const time = new Map<number, number>();
profile.samples.forEach((id, i) => {
  time.set(id, (time.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
for (const [id, us] of time) {
  total += us;
  const node = byId.get(id);
  if (!node) continue;
  self.set(label(node), (self.get(label(node)) ?? 0) + us);
  const counted = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const n = byId.get(cur);
    if (!n) break;
    const l = label(n);
    if (counted.has(l)) continue;
    counted.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + us);
  }
}

const table = (m: Map<string, number>): string =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(
      ([name, us]) =>
        `${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)} %  ${name}`,
    )
    .join("\n");

console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled`);
console.log(`\nself time\n${table(self)}`);
console.log(`\ninclusive time\n${table(inclusive)}`);
