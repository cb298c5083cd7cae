// The KubeClient of the operator and the agent over the runtime's HTTPS client (configuration from a kubeconfig
// or the in-cluster service account; one kept-alive connection pool), with its failures as RuntimeErrors:
// KubeConfig when the configuration cannot be loaded, Connection when the connection fails or a watch breaks,
// ApiStatus for an error Status, WatchExpired for 410 Gone.
import type { IncomingMessage } from "node:http";
import { ApiClient, type ApiRequest, readBody, readLines } from "../api-client.ts";
import { RuntimeError, RuntimeErrorCode } from "../errors.ts";
import {
  type ClusterAccess,
  type LoadOptions,
  loadClusterAccess,
  loadKubeconfigText,
} from "../kubeconfig.ts";
import type {
  DeleteOptions,
  KubeClient,
  KubeObject,
  ListResult,
  PatchType,
  Query,
  WatchEvent,
} from "./kube-types.ts";

const CONTENT_TYPES: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  apply: "application/apply-patch+yaml",
};
const USER_AGENT = "xdp-counter-operator";
const REQUEST_TIMEOUT_MS = 30_000;
/** How long a watch that asked for bookmarks may stay silent before its connection is taken for dead (default). */
export const WATCH_IDLE_WITH_BOOKMARKS_MS = 180_000;

/** The cluster from KUBECONFIG (or ~/.kube/config), else in-cluster; or from the given kubeconfig text. */
export async function loadKubeConfig(text?: string, options: LoadOptions = {}): Promise<ClusterAccess> {
  try {
    return text !== undefined ? await loadKubeconfigText(text, options) : await loadClusterAccess(options);
  } catch (error) {
    throw new RuntimeError(
      RuntimeErrorCode.KubeConfig,
      `cannot load a kubeconfig: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

function statusError(method: string, path: string, code: number, body: string): RuntimeError {
  let message = body.slice(0, 2000);
  let reason: string | undefined;
  try {
    const status = JSON.parse(body) as { message?: string; reason?: string };
    if (status.message) message = status.message;
    reason = status.reason;
  } catch {}
  const errorCode = code === 410 ? RuntimeErrorCode.WatchExpired : RuntimeErrorCode.ApiStatus;
  return new RuntimeError(errorCode, `${method} ${path}: ${code} ${reason ?? ""}: ${message}`, {
    statusCode: code,
    path: path.split("?")[0] as string,
    ...(reason ? { reason } : {}),
  });
}

/** A failure to reach the server or to make credentials, as a Connection error (the request may be retried). */
function connectionError(error: unknown): unknown {
  if (error instanceof RuntimeError)
    return new RuntimeError(RuntimeErrorCode.Connection, error.message, { cause: error });
  return error;
}

export class HttpKubeClient implements KubeClient {
  readonly #client: ApiClient;
  readonly #watchIdleMs: number;

  constructor(access: ClusterAccess, options: { userAgent?: string; watchIdleMs?: number } = {}) {
    this.#client = new ApiClient(access, {
      userAgent: options.userAgent ?? USER_AGENT,
      timeoutMs: REQUEST_TIMEOUT_MS,
    });
    this.#watchIdleMs = options.watchIdleMs ?? WATCH_IDLE_WITH_BOOKMARKS_MS;
  }

  async #open(method: string, path: string, req: ApiRequest = {}): Promise<IncomingMessage> {
    try {
      return await this.#client.open(method, path, req);
    } catch (error) {
      throw connectionError(error);
    }
  }

  async #read(res: IncomingMessage, method: string, path: string): Promise<string> {
    try {
      return await readBody(res, `${method} ${path}`);
    } catch (error) {
      throw connectionError(error);
    }
  }

  async #json(method: string, path: string, body?: unknown, contentType?: string): Promise<KubeObject> {
    const res = await this.#open(method, path, { body, ...(contentType ? { contentType } : {}) });
    const text = await this.#read(res, method, path);
    const code = res.statusCode ?? 0;
    if (code < 200 || code >= 300) throw statusError(method, path, code, text);
    return JSON.parse(text) as KubeObject;
  }

  async get(path: string): Promise<KubeObject | undefined> {
    try {
      return await this.#json("GET", path);
    } catch (error) {
      if (error instanceof RuntimeError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  async list(path: string, query?: Query): Promise<ListResult> {
    const list = (await this.#json("GET", withQuery(path, query))) as unknown as {
      items?: KubeObject[];
      metadata?: { resourceVersion?: string; continue?: string };
    };
    return {
      items: list.items ?? [],
      resourceVersion: list.metadata?.resourceVersion ?? "",
      ...(list.metadata?.continue ? { continue: list.metadata.continue } : {}),
    };
  }

  create(path: string, body: unknown): Promise<KubeObject> {
    return this.#json("POST", path, body);
  }

  replace(path: string, body: unknown): Promise<KubeObject> {
    return this.#json("PUT", path, body);
  }

  patch(path: string, body: unknown, type: PatchType, query?: Query): Promise<KubeObject> {
    return this.#json("PATCH", withQuery(path, query), body, CONTENT_TYPES[type]);
  }

  async delete(path: string, options: DeleteOptions = {}): Promise<void> {
    try {
      await this.#json("DELETE", path, { apiVersion: "v1", kind: "DeleteOptions", ...options });
    } catch (error) {
      if (error instanceof RuntimeError && error.statusCode === 404) return;
      throw error;
    }
  }

  async watch(
    path: string,
    query: Query,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
    onOpen?: () => void,
  ): Promise<void> {
    const target = withQuery(path, { ...query, watch: true });
    let res: IncomingMessage;
    try {
      // The server ends a watch after timeoutSeconds; silence well past that is a dead connection (a peer gone
      // without a FIN: a cut link, a dropped NAT entry). With bookmarks asked for, the API server writes one
      // every minute (measured on v1.37: the first 120 s after the watch began, then every 60 s), so three
      // minutes of silence already mean a dead connection: a watch cut off by a network partition is noticed
      // within 3 minutes of it, not only when its timeout has passed (up to 11 minutes).
      const serverTimeout = Number(query.timeoutSeconds ?? 600);
      const idleMs = Math.min(
        (serverTimeout + 60) * 1000,
        query.allowWatchBookmarks ? this.#watchIdleMs : Number.POSITIVE_INFINITY,
      );
      res = await this.#open("GET", target, { signal, timeoutMs: idleMs });
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
    const code = res.statusCode ?? 0;
    if (code !== 200) throw statusError("GET", target, code, await this.#read(res, "GET", target));
    onOpen?.();
    try {
      await readLines(res, (line) => onEvent(JSON.parse(line) as WatchEvent), signal);
    } catch (error) {
      if (error instanceof RuntimeError) throw error;
      const broke = error instanceof RuntimeError ? error.cause : error;
      throw new RuntimeError(RuntimeErrorCode.Connection, `watch ${path} broke: ${String(broke)}`, {
        cause: error,
      });
    }
  }

  /** Closes the pooled connections. */
  close(): void {
    this.#client.close();
  }
}
