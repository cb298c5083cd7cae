// The flags of each control-plane component, all in this file, one function per component. Values that
// differ from the component's default carry a comment saying why; the rest are spelt out because a control
// plane that runs beside others must not fall back on a shared default (a fixed port, /var/run/kubernetes).
import type { Pki } from "./pki.ts";

export type ComponentName = "etcd" | "kube-apiserver" | "kube-controller-manager" | "kube-scheduler";

export interface Ports {
  etcdClient: number;
  etcdPeer: number;
  apiServer: number;
  controllerManager: number;
  scheduler: number;
}

/** Everything the flags refer to: where the files are and which ports were chosen. */
export interface Layout {
  id: string;
  dir: string;
  ports: Ports;
  pki: Pki;
  /** the services' virtual addresses; the first one is the `kubernetes` Service's */
  serviceClusterIpRange: string;
  /** where the API server listens and what it advertises (the `kubernetes` Service's endpoint) */
  apiServerAddress: string;
  controllerManagerKubeconfig: string;
  schedulerKubeconfig: string;
}

export function etcdUrl(layout: Layout): string {
  return `http://127.0.0.1:${layout.ports.etcdClient}`;
}

export function apiServerUrl(layout: Layout): string {
  return `https://${layout.apiServerAddress}:${layout.ports.apiServer}`;
}

export function etcdFlags(l: Layout): string[] {
  const peer = `http://127.0.0.1:${l.ports.etcdPeer}`;
  return [
    `--name=${l.id}`,
    `--data-dir=${l.dir}/etcd`,
    // plain HTTP on loopback only, as envtest and kwokctl run it: only the API server talks to it
    `--listen-client-urls=${etcdUrl(l)}`,
    `--advertise-client-urls=${etcdUrl(l)}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=${l.id}=${peer}`,
    "--initial-cluster-state=new",
    // a token of its own, so that no two test etcds could ever take each other for members of one cluster
    `--initial-cluster-token=${l.id}`,
    // the data is thrown away at stop: no fsync makes every write (and the tests) several times faster
    "--unsafe-no-fsync",
    "--log-level=warn",
  ];
}

export function apiServerFlags(l: Layout): string[] {
  const { pki } = l;
  return [
    `--etcd-servers=${etcdUrl(l)}`,
    `--bind-address=${l.apiServerAddress}`,
    `--advertise-address=${l.apiServerAddress}`,
    // the `kubernetes` Service's endpoint is the advertised address, which may not be a loopback one: with
    // nothing but loopback there is no endpoint to publish (the Service itself is still made)
    ...(l.apiServerAddress.startsWith("127.") ? ["--endpoint-reconciler-type=none"] : []),
    `--secure-port=${l.ports.apiServer}`,
    `--tls-cert-file=${pki.apiServer.cert}`,
    `--tls-private-key-file=${pki.apiServer.key}`,
    // not /var/run/kubernetes, which every API server on the machine would share
    `--cert-dir=${l.dir}/kube-apiserver`,
    // client certificates signed by this CA authenticate: the admin, the controller manager, the scheduler
    `--client-ca-file=${pki.ca.cert}`,
    "--authorization-mode=Node,RBAC",
    // on top of the defaults (PodSecurity is one already): what a production cluster enables, so that the
    // tests meet the same refusals (a kubelet writing another node's objects; setting blockOwnerDeletion
    // on an owner one may not delete)
    "--enable-admission-plugins=NodeRestriction,PodSecurity,OwnerReferencesPermissionEnforcement",
    // the agents are privileged pods (off by default)
    "--allow-privileged=true",
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${pki.serviceAccountPub}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    // addresses the API allocates Services from; nothing routes there outside the nodes' own rules
    `--service-cluster-ip-range=${l.serviceClusterIpRange}`,
    // nodes are reached at their address on the cluster network, never by a hostname this machine resolves
    "--kubelet-preferred-address-types=InternalIP",
    `--kubelet-client-certificate=${pki.apiServerKubeletClient.cert}`,
    `--kubelet-client-key=${pki.apiServerKubeletClient.key}`,
  ];
}

/** The flags the controller manager and the scheduler share: their identity, serving and health endpoint. */
function componentFlags(
  kubeconfig: string,
  port: number,
  serving: { cert: string; key: string },
  certDir: string,
) {
  return [
    `--kubeconfig=${kubeconfig}`,
    // delegated authentication and authorization of requests to its own endpoint, as the same user
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    "--bind-address=127.0.0.1",
    // not the fixed default port (10257, 10259), so two control planes can run side by side
    `--secure-port=${port}`,
    `--tls-cert-file=${serving.cert}`,
    `--tls-private-key-file=${serving.key}`,
    `--cert-dir=${certDir}`,
    // readiness is "holds its Lease in kube-system", as on a real cluster
    "--leader-elect=true",
  ];
}

/** `controllers`: the controller manager's `--controllers` (default `*`: the default ones). */
export function controllerManagerFlags(l: Layout, controllers: readonly string[] = ["*"]): string[] {
  const { pki } = l;
  return [
    ...componentFlags(
      l.controllerManagerKubeconfig,
      l.ports.controllerManager,
      pki.controllerManagerServing,
      `${l.dir}/kube-controller-manager`,
    ),
    // the default controllers (bootstrapsigner and tokencleaner stay off, as by default), or those asked for
    `--controllers=${controllers.join(",")}`,
    // the CA signs approved CertificateSigningRequests (kubelets' client and serving certificates)
    `--cluster-signing-cert-file=${pki.ca.cert}`,
    `--cluster-signing-key-file=${pki.ca.key}`,
    `--service-account-private-key-file=${pki.serviceAccountKey}`,
    // the CA put into every namespace's kube-root-ca.crt ConfigMap, which pods use to trust the API server
    `--root-ca-file=${pki.ca.cert}`,
    // each controller acts as its own ServiceAccount in kube-system with its own RBAC, as on a real cluster
    "--use-service-account-credentials=true",
    `--service-cluster-ip-range=${l.serviceClusterIpRange}`,
  ];
}

export function schedulerFlags(l: Layout): string[] {
  return componentFlags(
    l.schedulerKubeconfig,
    l.ports.scheduler,
    l.pki.schedulerServing,
    `${l.dir}/kube-scheduler`,
  );
}
