// What "ready" means, probe by probe: etcd's /health, the API server's /readyz, the bootstrap RBAC the
// controller manager and the scheduler need before they start, their /healthz and their leader Leases. Each
// wait polls and fails early, with the component's last log lines, when a component exits.
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { type ApiClient, messageOf } from "../../../runtime/index.ts";
import { ControlPlaneError, ControlPlaneErrorCode } from "./errors.ts";
import type { ComponentProcess } from "./process.ts";

/** a probe that takes longer than this has failed, and is tried again */
const PROBE_TIMEOUT_MS = 5_000;
const POLL_INTERVAL_MS = 100;

/**
 * Polls `check` until it returns true. Fails as soon as one of `watched` exits (with its log's last lines), or
 * after `timeoutMs` (with the last lines of `focus`'s log and the last error `check` threw).
 */
export async function waitUntil(
  what: string,
  watched: ComponentProcess[],
  focus: ComponentProcess,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    const exited = watched.find((p) => !p.running);
    if (exited) {
      throw new ControlPlaneError(
        ControlPlaneErrorCode.Exited,
        `${exited.name} exited (${exited.describeExit()}) while waiting for ${what}; the last lines of ` +
          `${exited.logPath}:\n${exited.logTail()}`,
      );
    }
    try {
      if (await check()) return;
      last = "";
    } catch (err) {
      last = messageOf(err);
    }
    if (Date.now() > deadline) {
      throw new ControlPlaneError(
        ControlPlaneErrorCode.Timeout,
        `${what}: not within ${timeoutMs / 1000} s${last ? ` (last: ${last})` : ""}; the last lines of ` +
          `${focus.logPath}:\n${focus.logTail()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

interface TextResponse {
  status: number;
  text: string;
}

/** An anonymous GET over HTTP, or over HTTPS trusting only `ca`. */
function get(url: string, ca?: string): Promise<TextResponse> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith("https:") ? httpsRequest : httpRequest;
    const req = send(url, { method: "GET", timeout: PROBE_TIMEOUT_MS, ...(ca ? { ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer within ${PROBE_TIMEOUT_MS} ms`)));
    req.on("error", reject);
    req.end();
  });
}

/** etcd's /health says `"health":"true"`. */
export async function etcdHealthy(etcdUrl: string): Promise<boolean> {
  const res = await get(`${etcdUrl}/health`);
  return res.status === 200 && /"health":\s*"true"/.test(res.text);
}

/** A component's /healthz (anonymous: always allowed on its secure port) answers `ok`. */
export async function healthy(url: string, ca: string): Promise<boolean> {
  const res = await get(url, ca);
  return res.status === 200 && res.text.trim() === "ok";
}

export async function apiServerReady(client: ApiClient): Promise<boolean> {
  return (await client.call("GET", "/readyz", { timeoutMs: PROBE_TIMEOUT_MS })).status === 200;
}

interface ResourceAttributes {
  verb: string;
  resource: string;
  namespace?: string;
  group?: string;
  subresource?: string;
  name?: string;
}

/** Whether the API server's authorizer lets `user` do this now (a SubjectAccessReview). */
async function allowed(
  client: ApiClient,
  user: string,
  resourceAttributes: ResourceAttributes,
): Promise<boolean> {
  const res = await client.call("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
    body: {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: { user, resourceAttributes },
    },
    timeoutMs: PROBE_TIMEOUT_MS,
  });
  return res.status === 201 && (res.body as { status?: { allowed?: boolean } }).status?.allowed === true;
}

const AUTHENTICATION_CONFIGMAP =
  "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication";

/**
 * What the controller manager and the scheduler do first and may not do yet: read the authentication
 * ConfigMap (which must exist), take their Lease, and make their controllers' tokens or bind pods. The
 * bootstrap RBAC can reach the authorizer a moment after /readyz, and the controller manager exits when it
 * starts too early. Empty when both may start.
 */
export async function missingBootstrapRbac(client: ApiClient): Promise<string[]> {
  const kcm = "system:kube-controller-manager";
  const scheduler = "system:kube-scheduler";
  const readAuthConfig = {
    verb: "get",
    namespace: "kube-system",
    resource: "configmaps",
    name: "extension-apiserver-authentication",
  };
  const takeLease = {
    verb: "create",
    namespace: "kube-system",
    group: "coordination.k8s.io",
    resource: "leases",
  };
  const checks: [string, Promise<boolean>][] = [
    [
      "the authentication ConfigMap",
      client
        .call("GET", AUTHENTICATION_CONFIGMAP, { timeoutMs: PROBE_TIMEOUT_MS })
        .then((res) => res.status === 200),
    ],
    [`${kcm} may read it`, allowed(client, kcm, readAuthConfig)],
    [`${kcm} may create Leases`, allowed(client, kcm, takeLease)],
    [
      `${kcm} may create tokens`,
      allowed(client, kcm, {
        verb: "create",
        namespace: "kube-system",
        resource: "serviceaccounts",
        subresource: "token",
      }),
    ],
    [`${scheduler} may read it`, allowed(client, scheduler, readAuthConfig)],
    [`${scheduler} may create Leases`, allowed(client, scheduler, takeLease)],
    [
      `${scheduler} may bind pods`,
      allowed(client, scheduler, { verb: "create", resource: "pods", subresource: "binding" }),
    ],
  ];
  const missing: string[] = [];
  for (const [what, check] of checks) if (!(await check)) missing.push(what);
  return missing;
}

/** The leader Lease kube-system/<name> has a holder. */
export async function leaseHeld(client: ApiClient, name: string): Promise<boolean> {
  const res = await client.call("GET", `/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/${name}`, {
    timeoutMs: PROBE_TIMEOUT_MS,
  });
  return (
    res.status === 200 && Boolean((res.body as { spec?: { holderIdentity?: string } }).spec?.holderIdentity)
  );
}
