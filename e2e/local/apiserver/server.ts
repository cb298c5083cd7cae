// The HTTP front end: routing of Kubernetes API paths, authentication, RBAC, content negotiation, and the
// startApiServer() entry point that tests use.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import {
  Api,
  type DeleteOptions,
  type FieldValidation,
  type ListOptions,
  type PatchType,
  type WriteOptions,
} from "./api.ts";
import { Authenticator, Authorizer, impersonate, serviceAccountUser, type UserInfo } from "./auth.ts";
import { decode, defaultMaxBodyBytes, mediaType, readBody, unsupportedMediaType } from "./body.ts";
import { bootstrapRbac } from "./bootstrap.ts";
import { aggregatedDiscovery, aggregatedDiscoveryType, wantsAggregated } from "./discovery.ts";
import { ApiError, badRequest, invalid, toApiError } from "./errors.ts";
import { checkEscalation } from "./escalation.ts";
import { Controllers } from "./gc.ts";
import { kubeconfigYaml } from "./kubeconfig.ts";
import { decodeProtobuf } from "./protobuf.ts";
import { Registry } from "./registry.ts";
import { review } from "./reviews.ts";
import { nonResource, type Route, route } from "./routing.ts";
import { parseFieldSelector, parseLabelSelector } from "./selectors.ts";
import { Store } from "./store.ts";
import { type IncludeObject, toTable } from "./table.ts";
import { servingCert } from "./tls.ts";
import { isObject, type KubeObject, type ResourceInfo } from "./types.ts";
import { serveWatch, Watches } from "./watch.ts";

export interface ApiServerOptions {
  port?: number;
  host?: string;
  /** CRD YAML files to create at start. */
  crds?: string[];
  /** How many changes watches can resume across (older resourceVersions get 410 Gone). */
  historySize?: number;
  /** How often watches with allowWatchBookmarks get a BOOKMARK. */
  bookmarkIntervalMs?: number;
  maxBodyBytes?: number;
  /** Largest object the store keeps (JSON bytes; default 1.5 MiB, etcd's request limit). */
  maxObjectBytes?: number;
  /** Extra names or addresses the serving certificate is valid for (loopback is always included). */
  tlsHosts?: string[];
  /** The address clients are told to use (default: host, or 127.0.0.1 when host is a wildcard). */
  advertiseHost?: string;
  /** Receives one line per request the server does not recognise (default: stderr). */
  logUnknown?: (line: string) => void;
}

export interface KubeconfigOptions {
  /** Server URL to write instead of the server's own (e.g. its address on a test network). */
  server?: string;
  /** The context's default namespace (default: "default"). */
  namespace?: string;
}

/** Who a kubeconfig or token speaks for. */
export type Identity =
  | "admin"
  | { namespace: string; serviceAccount: string }
  | { user: string; groups?: string[] };

export interface RequestRecord {
  method: string;
  url: string;
  accept: string;
  contentType: string;
  userAgent: string;
  status: number;
}

export interface ApiServer {
  url: string;
  /** PEM of the self-signed serving certificate: the CA clients must trust. */
  ca: string;
  adminToken: string;
  api: Api;
  /** Every request served, oldest first (bounded). */
  requests: RequestRecord[];
  tokenFor(namespace: string, serviceAccount: string): string;
  kubeconfigFor(identity?: Identity, opts?: KubeconfigOptions): string;
  writeKubeconfig(path: string, identity?: Identity, opts?: KubeconfigOptions): string;
  /**
   * Writes what a pod finds in /var/run/secrets/kubernetes.io/serviceaccount/ (token, ca.crt, namespace),
   * for clients that load their in-cluster configuration.
   */
  writeServiceAccountFiles(dir: string, namespace: string, serviceAccount: string): string;
  /** Creates objects from a YAML file (all documents) as the admin. */
  loadYaml(path: string): KubeObject[];
  stop(): Promise<void>;
}

const writeTypes = ["application/json", "application/yaml"];
const protobufType = "application/vnd.kubernetes.protobuf";
const patchTypes: Record<string, PatchType> = {
  "application/merge-patch+json": "merge",
  "application/json-patch+json": "json",
  "application/strategic-merge-patch+json": "strategic",
  "application/apply-patch+yaml": "apply",
  "application/apply-patch+cbor": "apply",
};

function send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(code, {
    "Content-Type": typeof body === "string" ? "text/plain; charset=utf-8" : "application/json",
    "Content-Length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Sends JSON text made beforehand (an object's JSON shared with its watch events). */
function sendJson(
  res: ServerResponse,
  code: number,
  json: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  res.writeHead(code, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(json),
    ...headers,
  });
  res.end(json);
}

function verbFor(method: string, route: Route): string {
  switch (method) {
    case "GET":
    case "HEAD":
      return route.watch ? "watch" : route.name ? "get" : "list";
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return route.name ? "delete" : "deletecollection";
    default:
      return method.toLowerCase();
  }
}

function wantsTable(accept: string): boolean {
  return accept.split(",").some((a) => /;\s*as=Table/.test(a) && /g=meta\.k8s\.io/.test(a));
}

function managerFrom(query: URLSearchParams, req: IncomingMessage): string {
  const explicit = query.get("fieldManager");
  if (explicit) return explicit;
  const agent = req.headers["user-agent"] ?? "";
  return (agent.split("/")[0] ?? "").slice(0, 128) || "unknown";
}

export async function startApiServer(options: ApiServerOptions = {}): Promise<ApiServer> {
  const host = options.host ?? "127.0.0.1";
  const store = new Store(options.historySize ?? 1000);
  const registry = new Registry();
  const api = new Api(store, registry);
  if (options.maxObjectBytes) api.maxObjectBytes = options.maxObjectBytes;
  const controllers = new Controllers(api);
  api.onChange = () => controllers.schedule();
  const authn = new Authenticator(store);
  const authz = new Authorizer(store);
  const watches = new Watches();
  api.onResourceRemoved = (key) => watches.closeKey(key);
  api.checkWriter = (user, ri, obj) => checkEscalation(authz, store, user, ri, obj);
  const maxBody = options.maxBodyBytes ?? defaultMaxBodyBytes;
  const bookmarkIntervalMs = options.bookmarkIntervalMs ?? 5000;
  const logUnknown =
    options.logUnknown ?? ((line: string) => console.error(`apiserver: unknown request ${line}`));
  const requests: RequestRecord[] = [];
  const admin: WriteOptions = { manager: "apiserver-bootstrap", fieldValidation: "Strict" };

  const nsInfo = registry.get("", "v1", "namespaces") as ResourceInfo;
  for (const name of ["default", "kube-system", "kube-public", "kube-node-lease"])
    api.create(nsInfo, undefined, { metadata: { name } }, admin);
  bootstrapRbac(api, admin);

  const loadYaml = (path: string): KubeObject[] => {
    const out: KubeObject[] = [];
    for (const doc of parseAllDocuments(readFileSync(path, "utf8"))) {
      const obj = doc.toJS() as KubeObject | null;
      if (!obj) continue;
      const [group, version] = obj.apiVersion.includes("/")
        ? obj.apiVersion.split("/")
        : ["", obj.apiVersion];
      const ri = registry.byKind(group ?? "", obj.kind, version);
      if (!ri) throw new Error(`${path}: no resource for ${obj.apiVersion} ${obj.kind}`);
      out.push(
        api.create(ri, obj.metadata?.namespace ?? (ri.namespaced ? "default" : undefined), obj, admin),
      );
    }
    return out;
  };
  for (const file of options.crds ?? []) loadYaml(file);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const query = url.searchParams;
    const method = req.method ?? "GET";
    const accept = String(req.headers.accept ?? "");

    if (/^\/(healthz|livez|readyz)$/.test(path)) return send(res, 200, "ok");
    const user: UserInfo = impersonate(authz, authn.authenticate(req.headers.authorization), req.headers);

    const r = route(registry, path);
    if (!r) {
      authz.authorizePath(user, method === "GET" || method === "HEAD" ? "get" : method.toLowerCase(), path);
      if (method !== "GET" && method !== "HEAD")
        throw new ApiError(
          "MethodNotAllowed",
          `the server does not allow this method on the requested resource`,
        );
      if ((path === "/api" || path === "/apis") && wantsAggregated(accept))
        return send(res, 200, aggregatedDiscovery(registry, path === "/api"), {
          "Content-Type": aggregatedDiscoveryType,
        });
      const doc = nonResource(registry, path, `${host}:${(req.socket.address() as AddressInfo).port}`);
      if (doc === undefined) {
        logUnknown(`${method} ${req.url} accept=${accept}`);
        throw new ApiError("NotFound", "the server could not find the requested resource");
      }
      return send(
        res,
        200,
        doc,
        path.startsWith("/openapi/v3/") ? { "Cache-Control": "public, immutable" } : {},
      );
    }

    const { ri, namespace, name, subresource } = r;
    authz.authorizeResource(user, {
      verb: verbFor(method, r),
      apiGroup: ri.group,
      resource: ri.plural,
      ...(subresource ? { subresource } : {}),
      ...(name ? { name } : {}),
      ...(ri.namespaced && namespace ? { namespace } : {}),
      // a namespace's own namespace is itself, as the API server's request info has it
      ...(ri.group === "" && ri.plural === "namespaces" && name ? { namespace: name } : {}),
    });
    if (ri.namespaced && namespace === undefined && method !== "GET" && method !== "HEAD")
      throw new ApiError(
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
      );

    if (ri.verbs && !ri.verbs.includes(verbFor(method, r)))
      throw new ApiError(
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
      );
    if (ri.group === "authorization.k8s.io" && method === "POST") {
      const raw = await readBody(req, maxBody);
      const type = mediaType(req.headers["content-type"]);
      const body =
        type === protobufType
          ? decodeProtobuf(raw)
          : decode(raw, type === "application/yaml" ? "yaml" : "json");
      return send(res, 201, review(authz, ri, user, body));
    }

    const list: ListOptions = {
      labels: parseLabelSelector(query.get("labelSelector")),
      fields: parseFieldSelector(query.get("fieldSelector")),
      ...(query.get("limit") ? { limit: Number(query.get("limit")) } : {}),
      ...(query.get("continue") ? { continueToken: query.get("continue") as string } : {}),
    };
    const table = wantsTable(accept);
    const include = (query.get("includeObject") ?? "Metadata") as IncludeObject;
    const warnings: string[] = [];
    const fieldValidation = (query.get("fieldValidation") ?? "Warn") as FieldValidation;
    if (!["Strict", "Warn", "Ignore"].includes(fieldValidation))
      throw badRequest(
        `fieldValidation must be one of "Ignore", "Warn", or "Strict", got ${fieldValidation}`,
      );
    const write: WriteOptions & { force?: boolean } = {
      manager: managerFrom(query, req),
      user,
      fieldValidation,
      warnings,
      dryRun: query.getAll("dryRun").includes("All"),
    };
    const headers = (): Record<string, string> =>
      warnings.length ? { Warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(", ") } : {};
    const watchParam = query.get("watch");
    const watching = r.watch || watchParam === "true" || watchParam === "1";

    if (method === "GET" || method === "HEAD") {
      if (watching) {
        if (name) list.fields.push({ field: "metadata.name", op: "=", value: name });
        const timeout = query.get("timeoutSeconds");
        return serveWatch(
          api,
          {
            ri,
            namespace,
            list,
            resourceVersion: query.get("resourceVersion") ?? undefined,
            allowBookmarks: query.get("allowWatchBookmarks") === "true",
            sendInitialEvents: query.get("sendInitialEvents") === "true",
            timeoutSeconds: timeout ? Number(timeout) : undefined,
            asTable: table,
          },
          res,
          { bookmarkIntervalMs },
          watches,
        );
      }
      if (name) {
        if (!table) return sendJson(res, 200, api.getJson(ri, namespace, name));
        const obj = api.get(ri, namespace, name);
        return send(
          res,
          200,
          table ? toTable(ri, [obj], include, { resourceVersion: obj.metadata.resourceVersion }) : obj,
        );
      }
      const result = api.list(ri, namespace, list) as unknown as { metadata: object; items: KubeObject[] };
      return send(res, 200, table ? toTable(ri, result.items, include, result.metadata) : result);
    }

    if (method === "DELETE") {
      const body = await readBody(req, maxBody);
      let opts: DeleteOptions = {};
      if (body.length) {
        const parsed =
          mediaType(req.headers["content-type"]) === protobufType
            ? decodeProtobuf(body)
            : decode(body, "json");
        if (isObject(parsed)) opts = parsed as DeleteOptions;
      }
      const orphan = (opts as { orphanDependents?: boolean }).orphanDependents;
      const policy =
        query.get("propagationPolicy") ??
        opts.propagationPolicy ??
        (orphan === true ? "Orphan" : orphan === false ? "Background" : undefined);
      if (policy && !["Background", "Foreground", "Orphan"].includes(policy))
        throw invalid("DeleteOptions", "meta.k8s.io", "", [
          {
            reason: "FieldValueNotSupported",
            message: `Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"`,
            field: "propagationPolicy",
          },
        ]);
      const graceParam = query.get("gracePeriodSeconds");
      const grace = graceParam !== null ? Number(graceParam) : opts.gracePeriodSeconds;
      const deleteOpts: DeleteOptions = {
        ...(policy ? { propagationPolicy: policy as DeleteOptions["propagationPolicy"] } : {}),
        ...(grace !== undefined && Number.isFinite(grace) ? { gracePeriodSeconds: grace } : {}),
        ...(orphan === false ? { acceptedStatus: true } : {}),
        ...(opts.preconditions ? { preconditions: opts.preconditions } : {}),
        dryRun: write.dryRun || (Array.isArray(opts.dryRun) && (opts.dryRun as string[]).includes("All")),
      };
      if (!name) return send(res, 200, api.deleteCollection(ri, namespace, list, deleteOpts));
      if (subresource)
        throw new ApiError(
          "MethodNotAllowed",
          "the server does not allow this method on the requested resource",
        );
      const result = api.delete(ri, namespace, name, deleteOpts);
      return send(res, result.code, result.body);
    }

    if (method === "POST" || method === "PUT") {
      if (method === "POST" && (name || subresource))
        throw new ApiError(
          "MethodNotAllowed",
          "the server does not allow this method on the requested resource",
        );
      if (method === "PUT" && !name)
        throw new ApiError(
          "MethodNotAllowed",
          "the server does not allow this method on the requested resource",
        );
      const type = mediaType(req.headers["content-type"]) || "application/json";
      if (!writeTypes.includes(type) && type !== protobufType) throw unsupportedMediaType(type, writeTypes);
      const raw = await readBody(req, maxBody);
      const body =
        type === protobufType
          ? decodeProtobuf(raw)
          : decode(raw, type === "application/json" ? "json" : "yaml");
      if (method === "POST") return sendJson(res, 201, api.createJson(ri, namespace, body, write), headers());
      return sendJson(
        res,
        200,
        api.updateJson(ri, namespace, name as string, body, write, subresource),
        headers(),
      );
    }

    if (method === "PATCH") {
      if (!name)
        throw new ApiError(
          "MethodNotAllowed",
          "the server does not allow this method on the requested resource",
        );
      const type = mediaType(req.headers["content-type"]);
      const patchType = patchTypes[type];
      if (!patchType)
        throw unsupportedMediaType(type, [
          "application/json-patch+json",
          "application/merge-patch+json",
          "application/apply-patch+yaml",
          ...(ri.crd ? [] : ["application/strategic-merge-patch+json"]),
        ]);
      const force = query.get("force");
      if (force !== null && patchType !== "apply")
        throw invalid("PatchOptions", "meta.k8s.io", "", [
          {
            reason: "FieldValueForbidden",
            message: "Forbidden: may not be specified for non-apply patch",
            field: "force",
          },
        ]);
      if (patchType === "apply" && !query.get("fieldManager"))
        throw invalid("PatchOptions", "meta.k8s.io", "", [
          {
            reason: "FieldValueRequired",
            message: "Required value: is required for apply patch",
            field: "fieldManager",
          },
        ]);
      write.force = force === "true";
      const raw = await readBody(req, maxBody);
      const body = decode(raw, patchType === "apply" ? "yaml" : "json");
      const existed = patchType === "apply" ? api.has(ri, namespace, name) : true;
      const result = api.patchJson(ri, namespace, name, patchType, body, write, subresource);
      return sendJson(res, existed ? 200 : 201, result, headers());
    }
    throw new ApiError("MethodNotAllowed", "the server does not allow this method on the requested resource");
  }

  const tls = servingCert([
    host,
    ...(options.advertiseHost ? [options.advertiseHost] : []),
    ...(options.tlsHosts ?? []),
  ]);
  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const record: RequestRecord = {
      method: req.method ?? "",
      url: req.url ?? "",
      accept: String(req.headers.accept ?? ""),
      contentType: String(req.headers["content-type"] ?? ""),
      userAgent: String(req.headers["user-agent"] ?? ""),
      status: 0,
    };
    requests.push(record);
    if (requests.length > 2000) requests.shift();
    req.on("error", () => res.destroy());
    handle(req, res)
      .catch((err: unknown) => {
        const e = toApiError(err);
        if (e.reason === "InternalError") console.error("apiserver: internal error", err);
        const close = e.reason === "RequestEntityTooLarge";
        send(res, e.code, e.toStatus(), close ? { Connection: "close" } : {});
        if (close) res.on("finish", () => req.destroy());
      })
      .finally(() => {
        record.status = res.statusCode;
      });
  });
  server.keepAliveTimeout = 5000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const advertised = options.advertiseHost ?? (host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host);
  const url = `https://${advertised.includes(":") ? `[${advertised}]` : advertised}:${port}`;

  const tokenFor = (namespace: string, serviceAccount: string) =>
    authn.mint(serviceAccountUser(namespace, serviceAccount));
  const credentials = (identity: Identity = "admin"): { token: string; userName: string } => {
    if (identity === "admin") return { token: authn.adminToken, userName: "admin" };
    if ("serviceAccount" in identity)
      return {
        token: tokenFor(identity.namespace, identity.serviceAccount),
        userName: `system:serviceaccount:${identity.namespace}:${identity.serviceAccount}`,
      };
    return {
      token: authn.mint({
        name: identity.user,
        groups: [...(identity.groups ?? []), "system:authenticated"],
      }),
      userName: identity.user,
    };
  };
  const kubeconfigFor = (identity?: Identity, opts: KubeconfigOptions = {}) =>
    kubeconfigYaml({
      server: opts.server ?? url,
      caData: tls.cert,
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
      ...credentials(identity),
    });

  let stopped: Promise<void> | undefined;
  return {
    url,
    ca: tls.cert,
    adminToken: authn.adminToken,
    api,
    requests,
    tokenFor,
    kubeconfigFor,
    writeKubeconfig(path: string, identity?: Identity, opts?: KubeconfigOptions) {
      writeFileSync(path, kubeconfigFor(identity, opts), { mode: 0o600 });
      return path;
    },
    writeServiceAccountFiles(dir: string, namespace: string, serviceAccount: string) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "token"), tokenFor(namespace, serviceAccount), { mode: 0o600 });
      writeFileSync(join(dir, "ca.crt"), tls.cert);
      writeFileSync(join(dir, "namespace"), namespace);
      return dir;
    },
    loadYaml,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        controllers.stop();
        watches.closeAll();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
