// kwok for the scale tests: the pinned build's lookup, and kwok started beside a control plane to play the
// kubelets of fake Nodes; see README.md.
export {
  defaultKwokCacheRoot,
  type KwokBuild,
  kwokBinariesBuilt,
  kwokBinary,
  kwokBuild,
} from "./binaries.ts";
export {
  type FakeNode,
  fakeNodeAnnotation,
  fakeNodeManifest,
  type Kwok,
  type KwokOptions,
  kwokFlags,
  stageFiles,
  stagesConfig,
  startKwok,
} from "./kwok.ts";
