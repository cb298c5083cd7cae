// The end-to-end scenario's shared parts: what it needs of a cluster, the user's manifest, the assertions.
export {
  type Counts,
  expectAllowed,
  expectAtLeastCounts,
  expectExactCounts,
  expectForbidden,
  expectNoXdpAnywhere,
  kubectlOk,
  PIN_DIR,
  pinsOn,
  readCounts,
  watchNeverDecreases,
  xdpLinks,
} from "./assertions.ts";
export type { CommandResult, ScenarioCluster } from "./cluster.ts";
export { type ExampleEdits, exampleManifest, exampleName, examplePath } from "./manifest.ts";
