// The subset of apps/v1 DaemonSet and core/v1 PodSpec that the operator renders.
import type { Toleration } from "../../api/v1alpha1/index.ts";

export type EnvVar =
  | { name: string; value: string }
  | { name: string; valueFrom: { fieldRef: { apiVersion: "v1"; fieldPath: string } } };

export type Probe = {
  httpGet: { path: string; port: number; scheme: "HTTP" };
  initialDelaySeconds?: number;
  periodSeconds: number;
  timeoutSeconds: number;
  failureThreshold: number;
};

export type Container = {
  name: string;
  image: string;
  imagePullPolicy: string;
  command: string[];
  env: EnvVar[];
  ports: { name: string; containerPort: number; protocol: "TCP" }[];
  securityContext: {
    privileged: false;
    runAsUser: 0;
    runAsNonRoot: false;
    allowPrivilegeEscalation: false;
    readOnlyRootFilesystem: true;
    capabilities: { drop: ["ALL"]; add: string[] };
    seccompProfile: { type: "RuntimeDefault" };
  };
  resources: { requests: Record<string, string>; limits?: Record<string, string> };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean; mountPropagation?: string }[];
  readinessProbe: Probe;
  livenessProbe: Probe;
};

export type OwnerReference = {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: true;
};

export type DaemonSet = {
  apiVersion: "apps/v1";
  kind: "DaemonSet";
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    ownerReferences?: OwnerReference[];
  };
  spec: {
    selector: { matchLabels: Record<string, string> };
    updateStrategy: { type: "RollingUpdate"; rollingUpdate: { maxUnavailable: number | string } };
    template: {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: {
        serviceAccountName: string;
        priorityClassName?: string;
        hostNetwork: true;
        dnsPolicy: "ClusterFirstWithHostNet";
        terminationGracePeriodSeconds: number;
        nodeSelector: Record<string, string>;
        tolerations: Toleration[];
        containers: Container[];
        volumes: { name: string; hostPath: { path: string; type: string } }[];
      };
    };
  };
};
