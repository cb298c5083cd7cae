// A real Kubernetes control plane for tests (etcd, kube-apiserver, kube-controller-manager, kube-scheduler)
// from the binaries e2e/kube/build.ts builds; see README.md.
export type { ComponentName, Ports } from "./components.ts";
export {
  type AuditEvent,
  type ControlPlane,
  type ControlPlaneOptions,
  firstServiceIp,
  startControlPlane,
} from "./controlplane.ts";
export { ControlPlaneError, ControlPlaneErrorCode } from "./errors.ts";
export type { KubeconfigUser } from "./kubeconfig.ts";
export { defaultStateRoot, removeAbandoned } from "./state.ts";
