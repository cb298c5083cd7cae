// The user's manifest: examples/xdpcounter.yaml as shipped, with the fields a user edits for their cluster
// (which interfaces, how often to report) changed before `kubectl apply -f -`.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";

export const examplePath = join(import.meta.dirname, "..", "..", "examples", "xdpcounter.yaml");

export interface ExampleEdits {
  name?: string;
  interfaces?: string[];
  reportInterval?: string;
  action?: string;
  /** Any other spec fields, set as given. */
  spec?: Record<string, unknown>;
}

interface Manifest {
  metadata: { name: string };
  spec: Record<string, unknown>;
}

/** The example manifest's name (what `kubectl get xdpcounter NAME` takes). */
export function exampleName(): string {
  return (parse(readFileSync(examplePath, "utf8")) as Manifest).metadata.name;
}

/** examples/xdpcounter.yaml with `edits` applied, as YAML for `kubectl apply -f -`. */
export function exampleManifest(edits: ExampleEdits = {}): string {
  const m = parse(readFileSync(examplePath, "utf8")) as Manifest;
  if (edits.name) m.metadata.name = edits.name;
  if (edits.interfaces) m.spec.interfaces = edits.interfaces;
  if (edits.reportInterval) m.spec.reportInterval = edits.reportInterval;
  if (edits.action) m.spec.action = edits.action;
  Object.assign(m.spec, edits.spec ?? {});
  return stringify(m);
}
