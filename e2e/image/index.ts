// How the product's image is built on a machine that cannot pull images: a private Docker engine and a local
// base made with debootstrap. Used by the image test beside this file and by the real nodes' image cache
// (e2e/local/node/images/product.ts).
export {
  BASE_RECIPE,
  debianMirror,
  ensureBaseRootfs,
  importChanges,
  NODE_VERSION,
  NPM_VERSION,
  SUITE,
} from "./base-image.ts";
export { DOCKER, DOCKERD, DockerEngine, DockerError, type RunResult } from "./docker-engine.ts";
