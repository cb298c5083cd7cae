// The control plane's certificates and keys, made with openssl (node:crypto cannot sign certificates): one CA
// that signs every serving and client certificate (and, through the controller manager, the CSRs of kubelets),
// a client certificate per component whose subject is its Kubernetes user and groups, serving certificates
// for the API server, the controller manager and the scheduler, and the service-account signing key pair.
// Keys are ECDSA P-256: quick to make, and accepted everywhere Kubernetes reads a key.
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import { ControlPlaneError, ControlPlaneErrorCode } from "./errors.ts";

export interface CertFiles {
  cert: string;
  key: string;
}

export interface Pki {
  dir: string;
  ca: CertFiles;
  /** the CA certificate, PEM */
  caPem: string;
  apiServer: CertFiles;
  /** the API server's client certificate towards kubelets */
  apiServerKubeletClient: CertFiles;
  admin: CertFiles;
  controllerManager: CertFiles;
  controllerManagerServing: CertFiles;
  scheduler: CertFiles;
  schedulerServing: CertFiles;
  /** the service-account token signing key (private) and its public half */
  serviceAccountKey: string;
  serviceAccountPub: string;
}

export interface PkiOptions {
  /** names and addresses the API server's certificate is valid for, besides loopback */
  apiServerHosts: string[];
  /** days the certificates are valid (default 30) */
  days?: number;
}

/** The in-cluster names of the API server (the `kubernetes` Service), which pods use. */
export const apiServerServiceNames = [
  "kubernetes",
  "kubernetes.default",
  "kubernetes.default.svc",
  "kubernetes.default.svc.cluster.local",
];

const loopback = ["127.0.0.1", "::1", "localhost"];

function openssl(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("openssl", args, { cwd }, (err, _stdout, stderr) => {
      if (!err) resolve();
      else
        reject(
          new ControlPlaneError(
            ControlPlaneErrorCode.Certificates,
            `openssl ${args[0]} failed: ${stderr.trim() || err.message}`,
            { cause: err },
          ),
        );
    });
  });
}

const keyArgs = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** An openssl configuration with one extensions section, for `req -x509 -extensions leaf`. */
function leafConfig(usage: "serverAuth" | "clientAuth", hosts: string[]): string {
  const lines = [
    "[req]",
    "distinguished_name = dn",
    "prompt = no",
    "[dn]",
    "[leaf]",
    "basicConstraints = critical,CA:FALSE",
    "keyUsage = critical,digitalSignature,keyEncipherment",
    `extendedKeyUsage = ${usage}`,
    "subjectKeyIdentifier = hash",
    "authorityKeyIdentifier = keyid",
  ];
  if (hosts.length > 0)
    lines.push(`subjectAltName = ${hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(",")}`);
  return `${lines.join("\n")}\n`;
}

const caConfig = [
  "[req]",
  "distinguished_name = dn",
  "prompt = no",
  "[dn]",
  "[ca]",
  "basicConstraints = critical,CA:TRUE",
  "keyUsage = critical,digitalSignature,keyCertSign,cRLSign",
  "subjectKeyIdentifier = hash",
  "",
].join("\n");

/** `/O=group/O=group/CN=user`: Kubernetes reads the user from CN and the groups from each O. */
function subject(cn: string, groups: string[] = []): string {
  return `${groups.map((g) => `/O=${g}`).join("")}/CN=${cn}`;
}

/** A CA in `dir` (`NAME.crt`, `NAME.key`) valid for `days`; returns absolute paths. */
export async function makeCa(
  dir: string,
  name = "ca",
  cn = "xdp-counter-controlplane-ca",
  days = 30,
): Promise<CertFiles> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, `${name}.cnf`), caConfig);
  const f = { cert: `${name}.crt`, key: `${name}.key` };
  await openssl(
    [
      "req",
      "-x509",
      ...keyArgs,
      "-config",
      `${name}.cnf`,
      "-extensions",
      "ca",
      "-days",
      String(days),
      "-subj",
      `/CN=${cn}`,
      "-keyout",
      f.key,
      "-out",
      f.cert,
    ],
    dir,
  );
  return { cert: join(dir, f.cert), key: join(dir, f.key) };
}

/**
 * A certificate signed by `ca`, in `dir` (`NAME.crt`, `NAME.key`): `subj` as openssl takes it, for serving or
 * for clients, valid for `hosts` (IPs or DNS names) and `days`; returns absolute paths.
 */
export async function issueCert(
  dir: string,
  name: string,
  ca: CertFiles,
  subj: string,
  usage: "serverAuth" | "clientAuth",
  hosts: string[] = [],
  days = 30,
): Promise<CertFiles> {
  const f = { cert: `${name}.crt`, key: `${name}.key` };
  writeFileSync(join(dir, `${name}.cnf`), leafConfig(usage, hosts));
  await openssl(
    [
      "req",
      "-x509",
      ...keyArgs,
      "-config",
      `${name}.cnf`,
      "-extensions",
      "leaf",
      "-CA",
      ca.cert,
      "-CAkey",
      ca.key,
      "-days",
      String(days),
      "-subj",
      subj,
      "-keyout",
      f.key,
      "-out",
      f.cert,
    ],
    dir,
  );
  return { cert: join(dir, f.cert), key: join(dir, f.key) };
}

/** Makes every key and certificate of a control plane in `dir`. */
export async function makePki(dir: string, options: PkiOptions): Promise<Pki> {
  const days = options.days ?? 30;
  const ca = await makeCa(dir, "ca", "xdp-counter-controlplane-ca", days);
  const leaf = (name: string, subj: string, usage: "serverAuth" | "clientAuth", hosts: string[] = []) =>
    issueCert(dir, name, ca, subj, usage, hosts, days);

  const [apiServer, apiServerKubeletClient, admin, controllerManager, controllerManagerServing] =
    await Promise.all([
      leaf("apiserver", "/CN=kube-apiserver", "serverAuth", [
        ...loopback,
        ...apiServerServiceNames,
        ...options.apiServerHosts,
      ]),
      // kubelets authorize the API server's requests (logs, exec) by this user; in system:masters it may do all
      leaf(
        "apiserver-kubelet-client",
        subject("kube-apiserver-kubelet-client", ["system:masters"]),
        "clientAuth",
      ),
      leaf("admin", subject("xdp-counter-admin", ["system:masters"]), "clientAuth"),
      leaf("controller-manager", subject("system:kube-controller-manager"), "clientAuth"),
      leaf("controller-manager-serving", "/CN=kube-controller-manager", "serverAuth", loopback),
    ]);
  const [scheduler, schedulerServing] = await Promise.all([
    leaf("scheduler", subject("system:kube-scheduler"), "clientAuth"),
    leaf("scheduler-serving", "/CN=kube-scheduler", "serverAuth", loopback),
    openssl(
      ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", "sa.key"],
      dir,
    ),
  ]);
  await openssl(["pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir);

  return {
    dir,
    ca,
    caPem: readFileSync(ca.cert, "utf8"),
    apiServer,
    apiServerKubeletClient,
    admin,
    controllerManager,
    controllerManagerServing,
    scheduler,
    schedulerServing,
    serviceAccountKey: join(dir, "sa.key"),
    serviceAccountPub: join(dir, "sa.pub"),
  };
}
