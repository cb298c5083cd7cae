// Runs a snippet against the BPF core inside a test host's network namespace (interface names and indexes
// are per namespace) and returns what it put in `out`, with bigints as decimal strings.
import { nsExec } from "./netns.ts";

const core = new URL("../agent/bpf/index.ts", import.meta.url).pathname;

/** `body` sees `core` (agent/bpf's exports) and `out`, an object to fill. */
export async function inNs(ns: string, body: string): Promise<Record<string, unknown>> {
  const script = `import * as core from ${JSON.stringify(core)};\nconst out = {};\n${body}\nprocess.stdout.write(JSON.stringify(out, (_k, v) => typeof v === "bigint" ? v.toString() : v));`;
  return JSON.parse(await nsExec(ns, [process.execPath, "--input-type=module", "-e", script]));
}
