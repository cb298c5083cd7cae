// The test API server: a Kubernetes control plane double for the local cluster.
export type { Api } from "./api.ts";
export type { UserInfo } from "./auth.ts";
export { ApiError, type Status, StatusCodes, type StatusReason } from "./errors.ts";
export {
  type ApiServer,
  type ApiServerOptions,
  type Identity,
  type KubeconfigOptions,
  type RequestRecord,
  startApiServer,
} from "./server.ts";
export {
  call,
  eventually,
  openWatch,
  type Response,
  run,
  type WatchEvent,
  type WatchStream,
} from "./testclient.ts";
export type { KubeObject, ResourceInfo } from "./types.ts";
