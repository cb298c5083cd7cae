// Where the API server is and how to authenticate to it, found as client-node's KubeConfig.loadFromDefault
// finds it: the files in KUBECONFIG, else ~/.kube/config, else the pod's service account. Read with node:fs and
// the `yaml` parser, so the common cases (a token, a token file, client certificates, in-cluster) never load
// @kubernetes/client-node. A kubeconfig whose user needs what only that library does (an `exec` credential
// plugin, an `auth-provider`, username and password) is handed to it, for that configuration only, through a
// dynamic import.
//
// KUBECONFIG may list several files (separated by ":"); they are merged as kubectl merges them: the first file
// that defines a cluster, user or context by a name wins, and the first current-context set wins. Relative
// paths in a file are relative to that file's folder.
import { existsSync, readFileSync } from "node:fs";
import { isIPv6 } from "node:net";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { messageOf, RuntimeError, RuntimeErrorCode } from "./errors.ts";

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
/** How long a token read from a file is used before the file is read again (projected tokens rotate). */
export const TOKEN_CACHE_MS = 10_000;

/** TLS settings of the connection; the same object for as long as they do not change. */
export interface TlsSettings {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  servername?: string;
}

export interface Credentials {
  tls: TlsSettings;
  /** headers to send (Authorization), possibly empty */
  headers: Record<string, string>;
}

/** A loaded configuration: the API server, and the credentials of each request. */
export interface ClusterAccess {
  /** the API server's URL, without a trailing slash */
  server: string;
  /** the namespace of the context, or of the service account */
  namespace: string | undefined;
  /** where the configuration came from, for logs and errors */
  source: string;
  /** true when @kubernetes/client-node produces the credentials (exec or auth-provider plugins, basic auth) */
  viaClientNode: boolean;
  /** Credentials for one request: token files are re-read (after TOKEN_CACHE_MS), plugins are asked. */
  credentials(): Promise<Credentials>;
}

export interface LoadOptions {
  /** the environment to read KUBECONFIG, HOME and KUBERNETES_SERVICE_HOST/PORT from (default process.env) */
  env?: Readonly<Record<string, string | undefined>>;
  /** the service account folder (default /var/run/secrets/kubernetes.io/serviceaccount) */
  serviceAccountDir?: string;
  tokenCacheMs?: number;
}

type Raw = Record<string, unknown>;
interface Named {
  name: string;
  value: Raw;
  /** the file that defined it */
  file: string;
}
interface Merged {
  clusters: Map<string, Named>;
  users: Map<string, Named>;
  contexts: Map<string, Named>;
  currentContext: string | undefined;
  /** the files, for messages */
  files: string[];
}

function configError(where: string, message: string, cause?: unknown): RuntimeError {
  return new RuntimeError(RuntimeErrorCode.KubeConfig, `${where}: ${message}`, cause ? { cause } : undefined);
}

const FILE_FIELDS = {
  cluster: ["certificate-authority"],
  user: ["client-certificate", "client-key", "tokenFile"],
} as const;

/**
 * The YAML parser, loaded on first use: an agent in a pod reads no kubeconfig file (its service account is
 * plain files), and the library costs several MiB of resident memory once loaded.
 */
type YamlParse = (text: string) => unknown;
let yamlParse: YamlParse | undefined;
async function loadYaml(): Promise<YamlParse> {
  yamlParse ??= (await import("yaml")).parse as YamlParse;
  return yamlParse;
}

/** Parses one kubeconfig file's text into `merged`, first definition wins; relative paths made absolute. */
function mergeFile(
  merged: Merged,
  text: string,
  file: string,
  dir: string | undefined,
  parse: YamlParse,
): void {
  const where = `kubeconfig ${file}`;
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw configError(where, `not valid YAML: ${messageOf(err)}`, err);
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw configError(where, "not a YAML mapping");
  const d = doc as Raw;
  const lists = [
    ["clusters", "cluster", merged.clusters],
    ["users", "user", merged.users],
    ["contexts", "context", merged.contexts],
  ] as const;
  for (const [list, key, into] of lists) {
    const items = d[list] ?? [];
    if (!Array.isArray(items)) throw configError(where, `${list} is not a list`);
    items.forEach((item: unknown, i) => {
      const entry = item as Raw | null;
      const name = entry?.name;
      if (typeof name !== "string" || name === "") throw configError(where, `${list}[${i}] has no name`);
      const value = entry?.[key] ?? {};
      if (typeof value !== "object" || value === null || Array.isArray(value))
        throw configError(where, `${key} "${name}": ${key} is not a mapping`);
      if (into.has(name)) return;
      const copy: Raw = { ...(value as Raw) };
      if (dir !== undefined && (key === "cluster" || key === "user")) {
        for (const field of FILE_FIELDS[key]) {
          const path = copy[field];
          if (typeof path === "string" && path !== "" && !isAbsolute(path)) copy[field] = resolve(dir, path);
        }
        const exec = copy.exec as Raw | undefined;
        if (key === "user" && typeof exec?.command === "string" && exec.command.includes("/"))
          copy.exec = { ...exec, command: resolve(dir, exec.command) };
      }
      into.set(name, { name, value: copy, file });
    });
  }
  const current = d["current-context"];
  if (merged.currentContext === undefined && typeof current === "string" && current !== "")
    merged.currentContext = current;
  merged.files.push(file);
}

function str(where: string, raw: Raw, field: string): string | undefined {
  const v = raw[field];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw configError(where, `${field} is not a string`);
  return v;
}

function bool(where: string, raw: Raw, field: string): boolean {
  const v = raw[field];
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean") throw configError(where, `${field} is not true or false`);
  return v;
}

function base64(where: string, raw: Raw, field: string): Buffer | undefined {
  const v = str(where, raw, field);
  if (v === undefined) return undefined;
  if (!/^[A-Za-z0-9+/=\s]+$/.test(v)) throw configError(where, `${field} is not base64`);
  return Buffer.from(v, "base64");
}

function readFileField(where: string, raw: Raw, field: string): Buffer | undefined {
  const path = str(where, raw, field);
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw configError(where, `${field} ${path}: ${messageOf(err)}`, err);
  }
}

/** Reads a token file at most every `cacheMs`; an empty or unreadable file is a Credentials error. */
function tokenReader(path: string, cacheMs: number): () => string {
  let token = "";
  let readAt = Number.NEGATIVE_INFINITY;
  return () => {
    const now = performance.now();
    if (now - readAt < cacheMs) return token;
    let text: string;
    try {
      text = readFileSync(path, "utf8").trim();
    } catch (err) {
      throw new RuntimeError(RuntimeErrorCode.Credentials, `token file ${path}: ${messageOf(err)}`, {
        cause: err,
      });
    }
    if (text === "") throw new RuntimeError(RuntimeErrorCode.Credentials, `token file ${path} is empty`);
    token = text;
    readAt = now;
    return token;
  };
}

/** User fields only @kubernetes/client-node handles. */
const CLIENT_NODE_USER_FIELDS = ["exec", "auth-provider", "username", "password"];
/** User fields neither handles: refused rather than silently ignored. */
const UNSUPPORTED_USER_FIELDS = ["as", "as-uid", "as-groups", "as-user-extra"];

async function fromMerged(merged: Merged, opts: LoadOptions): Promise<ClusterAccess> {
  const where = `kubeconfig ${merged.files.join(delimiter)}`;
  const contextName = merged.currentContext;
  if (contextName === undefined) throw configError(where, "current-context is not set");
  const context = merged.contexts.get(contextName);
  if (!context) throw configError(where, `current-context "${contextName}" is not defined in contexts`);
  const cx = `kubeconfig ${context.file}: context "${contextName}"`;
  const clusterName = str(cx, context.value, "cluster");
  if (clusterName === undefined) throw configError(cx, "names no cluster");
  const cluster = merged.clusters.get(clusterName);
  if (!cluster)
    throw configError(
      `kubeconfig ${context.file}`,
      `context "${contextName}" names cluster "${clusterName}", which is not defined`,
    );
  const userName = str(cx, context.value, "user");
  const user = userName === undefined ? undefined : merged.users.get(userName);
  if (userName !== undefined && !user)
    throw configError(
      `kubeconfig ${context.file}`,
      `context "${contextName}" names user "${userName}", which is not defined`,
    );
  const namespace = str(cx, context.value, "namespace");
  const source = `kubeconfig ${merged.files.join(delimiter)} (context "${contextName}")`;

  const cw = `kubeconfig ${cluster.file}: cluster "${clusterName}"`;
  const server = str(cw, cluster.value, "server");
  if (server === undefined) throw configError(cw, "server is not set");
  try {
    new URL(server);
  } catch (err) {
    throw configError(cw, `server "${server}" is not a URL`, err);
  }
  const uw = user ? `kubeconfig ${user.file}: user "${user.name}"` : "";
  if (user) {
    for (const field of UNSUPPORTED_USER_FIELDS)
      if (user.value[field] !== undefined) throw configError(uw, `${field} (impersonation) is not supported`);
    if (CLIENT_NODE_USER_FIELDS.some((f) => user.value[f] !== undefined))
      return await viaClientNode(merged, contextName, namespace, source);
  }
  if (cluster.value["proxy-url"] !== undefined) throw configError(cw, "proxy-url is not supported");

  const tls: TlsSettings = { rejectUnauthorized: !bool(cw, cluster.value, "insecure-skip-tls-verify") };
  const ca =
    base64(cw, cluster.value, "certificate-authority-data") ??
    readFileField(cw, cluster.value, "certificate-authority");
  if (ca) tls.ca = ca;
  const servername = str(cw, cluster.value, "tls-server-name");
  if (servername) tls.servername = servername;
  let token: () => string | undefined = () => undefined;
  if (user) {
    const cert =
      base64(uw, user.value, "client-certificate-data") ??
      readFileField(uw, user.value, "client-certificate");
    const key = base64(uw, user.value, "client-key-data") ?? readFileField(uw, user.value, "client-key");
    if ((cert === undefined) !== (key === undefined))
      throw configError(
        uw,
        cert
          ? "client-certificate is set without client-key"
          : "client-key is set without client-certificate",
      );
    if (cert && key) {
      tls.cert = cert;
      tls.key = key;
    }
    // As client-go: a token file, re-read while it rotates, takes precedence over a literal token.
    const tokenFile = str(uw, user.value, "tokenFile");
    const literal = str(uw, user.value, "token");
    if (tokenFile !== undefined) token = tokenReader(tokenFile, opts.tokenCacheMs ?? TOKEN_CACHE_MS);
    else if (literal !== undefined) token = () => literal;
  }
  return staticAccess(server, namespace, source, tls, token);
}

function staticAccess(
  server: string,
  namespace: string | undefined,
  source: string,
  tls: TlsSettings,
  token: () => string | undefined,
): ClusterAccess {
  return {
    server: server.replace(/\/+$/, ""),
    namespace,
    source,
    viaClientNode: false,
    credentials: async (): Promise<Credentials> => {
      const t = token();
      const headers: Record<string, string> = t === undefined ? {} : { Authorization: `Bearer ${t}` };
      return { tls, headers };
    },
  };
}

/** The configuration handed to @kubernetes/client-node, loaded only now (it costs ~80 MiB of memory). */
async function viaClientNode(
  merged: Merged,
  contextName: string,
  namespace: string | undefined,
  source: string,
): Promise<ClusterAccess> {
  const { KubeConfig } = await import("@kubernetes/client-node");
  const kc = new KubeConfig();
  const section = (m: Map<string, Named>, key: string) =>
    [...m.values()].map((n) => ({ name: n.name, [key]: n.value }));
  // JSON is YAML: the merged configuration, with paths already absolute.
  try {
    kc.loadFromString(
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: section(merged.clusters, "cluster"),
        users: section(merged.users, "user"),
        contexts: section(merged.contexts, "context"),
        "current-context": contextName,
      }),
    );
  } catch (err) {
    throw configError(source, messageOf(err), err);
  }
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw configError(source, "no server");
  let last: TlsSettings | undefined;
  return {
    server: server.replace(/\/+$/, ""),
    namespace,
    source,
    viaClientNode: true,
    credentials: async () => {
      const o: Record<string, unknown> & { headers: Record<string, string> } = { headers: {} };
      try {
        await kc.applyToHTTPSOptions(o);
      } catch (err) {
        throw new RuntimeError(RuntimeErrorCode.Credentials, `${source}: ${messageOf(err)}`, { cause: err });
      }
      const tls: TlsSettings = { rejectUnauthorized: o.rejectUnauthorized !== false };
      if (o.ca) tls.ca = Buffer.from(o.ca as Buffer | string);
      if (o.cert) tls.cert = Buffer.from(o.cert as Buffer | string);
      if (o.key) tls.key = Buffer.from(o.key as Buffer | string);
      if (typeof o.servername === "string") tls.servername = o.servername;
      if (!last || !sameTls(last, tls)) last = tls;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(o.headers)) headers[k] = String(v);
      if (typeof o.auth === "string")
        headers.Authorization = `Basic ${Buffer.from(o.auth).toString("base64")}`;
      return { tls: last, headers };
    },
  };
}

function sameTls(a: TlsSettings, b: TlsSettings): boolean {
  const eq = (x?: Buffer, y?: Buffer) => (x === undefined ? y === undefined : y !== undefined && x.equals(y));
  return (
    a.rejectUnauthorized === b.rejectUnauthorized &&
    a.servername === b.servername &&
    eq(a.ca, b.ca) &&
    eq(a.cert, b.cert) &&
    eq(a.key, b.key)
  );
}

function emptyMerged(): Merged {
  return { clusters: new Map(), users: new Map(), contexts: new Map(), currentContext: undefined, files: [] };
}

/** The configuration in kubeconfig text (relative paths are relative to `path`'s folder, else the cwd). */
export async function loadKubeconfigText(
  text: string,
  options: LoadOptions & { path?: string } = {},
): Promise<ClusterAccess> {
  const merged = emptyMerged();
  const name = options.path ?? "(text)";
  mergeFile(
    merged,
    text,
    name,
    options.path ? dirname(resolve(options.path)) : process.cwd(),
    await loadYaml(),
  );
  return await fromMerged(merged, options);
}

/** The kubeconfig files, in order (merged, first definition wins). */
export async function loadKubeconfigFiles(
  files: string[],
  options: LoadOptions = {},
): Promise<ClusterAccess> {
  const merged = emptyMerged();
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw configError(`kubeconfig ${file}`, `cannot read: ${messageOf(err)}`, err);
    }
    mergeFile(merged, text, file, dirname(resolve(file)), await loadYaml());
  }
  return await fromMerged(merged, options);
}

/** The pod's service account: KUBERNETES_SERVICE_HOST/PORT, and token, ca.crt, namespace in `dir`. */
export function loadInCluster(options: LoadOptions = {}): ClusterAccess {
  const env = options.env ?? process.env;
  const dir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const where = `in-cluster configuration (${dir})`;
  if (!host || !port)
    throw configError(where, "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
  // As client-node: these ports are plain HTTP (a proxy in the pod); anything else is HTTPS.
  const scheme = port === "80" || port === "8080" || port === "8001" ? "http" : "https";
  const server = `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  const tokenPath = join(dir, "token");
  if (!existsSync(tokenPath)) throw configError(where, `token file ${tokenPath} does not exist`);
  const tls: TlsSettings = { rejectUnauthorized: true };
  const caPath = join(dir, "ca.crt");
  try {
    tls.ca = readFileSync(caPath);
  } catch (err) {
    throw configError(where, `ca.crt ${caPath}: ${messageOf(err)}`, err);
  }
  let namespace: string | undefined;
  try {
    namespace = readFileSync(join(dir, "namespace"), "utf8").trim() || undefined;
  } catch {
    // no namespace file: no default namespace
  }
  const token = tokenReader(tokenPath, options.tokenCacheMs ?? TOKEN_CACHE_MS);
  return staticAccess(server, namespace, "in-cluster", tls, token);
}

/**
 * As client-node's loadFromDefault: the files in KUBECONFIG, else ~/.kube/config if it exists, else the
 * service account if its token exists; else an error that says what to set.
 */
export async function loadClusterAccess(options: LoadOptions = {}): Promise<ClusterAccess> {
  const env = options.env ?? process.env;
  const list = (env.KUBECONFIG ?? "").split(delimiter).filter((f) => f !== "");
  if (list.length > 0) return await loadKubeconfigFiles(list, options);
  const home = env.HOME;
  const homeConfig = join(home ?? "", ".kube", "config");
  if (home && existsSync(homeConfig)) return await loadKubeconfigFiles([homeConfig], options);
  const dir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  if (existsSync(join(dir, "token"))) return loadInCluster(options);
  throw new RuntimeError(
    RuntimeErrorCode.KubeConfig,
    "no Kubernetes API server configured: set KUBECONFIG, or run in a pod with a service account",
  );
}
