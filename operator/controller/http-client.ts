// KubeClient over HTTPS, configured from a kubeconfig (or the in-cluster service account) by
// @kubernetes/client-node's KubeConfig: server, CA, token or client certificate.
import type { IncomingMessage } from "node:http";
import { type RequestOptions, request } from "node:https";
import { KubeConfig } from "@kubernetes/client-node";
import { ControllerError, ControllerErrorCode } from "./errors.ts";
import type { KubeClient, KubeObject, ListResult, PatchType, Query, WatchEvent } from "./kube-types.ts";

const CONTENT_TYPES: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  apply: "application/apply-patch+yaml",
};
const USER_AGENT = "xdp-counter-operator";
const REQUEST_TIMEOUT_MS = 30_000;

/** KubeConfig from KUBECONFIG (or ~/.kube/config), else in-cluster; or from the given kubeconfig text. */
export function loadKubeConfig(text?: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (text !== undefined) kc.loadFromString(text);
    else kc.loadFromDefault();
  } catch (error) {
    throw new ControllerError(ControllerErrorCode.Kubeconfig, `cannot load a kubeconfig: ${String(error)}`, {
      cause: error,
    });
  }
  if (!kc.getCurrentCluster()) {
    throw new ControllerError(ControllerErrorCode.Kubeconfig, "the kubeconfig has no current cluster");
  }
  return kc;
}

function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function readAll(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function statusError(method: string, path: string, code: number, body: string): ControllerError {
  let message = body.slice(0, 2000);
  let reason: string | undefined;
  try {
    const status = JSON.parse(body) as { message?: string; reason?: string };
    if (status.message) message = status.message;
    reason = status.reason;
  } catch {}
  const errorCode = code === 410 ? ControllerErrorCode.WatchExpired : ControllerErrorCode.ApiStatus;
  return new ControllerError(errorCode, `${method} ${path}: ${code} ${reason ?? ""}: ${message}`, {
    statusCode: code,
    path: path.split("?")[0] as string,
    ...(reason ? { reason } : {}),
  });
}

export class HttpKubeClient implements KubeClient {
  #kc: KubeConfig;
  #server: URL;
  #userAgent: string;

  constructor(kc: KubeConfig, options: { userAgent?: string } = {}) {
    this.#kc = kc;
    this.#userAgent = options.userAgent ?? USER_AGENT;
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new ControllerError(ControllerErrorCode.Kubeconfig, "the kubeconfig has no cluster");
    this.#server = new URL(cluster.server);
  }

  async #baseOptions(): Promise<RequestOptions> {
    const options: RequestOptions = { headers: {} };
    await this.#kc.applyToHTTPSOptions(options);
    return options;
  }

  async #request(
    method: string,
    path: string,
    body: unknown,
    contentType: string | undefined,
    signal?: AbortSignal,
    timeoutMs = REQUEST_TIMEOUT_MS,
  ): Promise<IncomingMessage> {
    // Token files (in-cluster) are re-read by client-node on each call, so take fresh options every time.
    const base = await this.#baseOptions();
    const url = new URL(path, this.#server);
    const headers: Record<string, string> = {
      ...(base.headers as Record<string, string>),
      Accept: "application/json",
      "User-Agent": this.#userAgent,
    };
    let payload: string | undefined;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      headers["Content-Type"] = contentType ?? "application/json";
      headers["Content-Length"] = String(Buffer.byteLength(payload));
    }
    return await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(
        {
          ...base,
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port,
          path: `${url.pathname}${url.search}`,
          method,
          headers,
          ...(signal ? { signal } : {}),
        },
        resolve,
      );
      req.on("error", (error) =>
        reject(
          new ControllerError(ControllerErrorCode.Connection, `${method} ${path}: ${error.message}`, {
            cause: error,
          }),
        ),
      );
      // No answer (or, for a watch, no data) for this long: the connection is dead even if no FIN came.
      req.setTimeout(timeoutMs, () =>
        req.destroy(new Error(`no response within ${Math.round(timeoutMs / 1000)}s`)),
      );
      req.end(payload);
    });
  }

  async #json(method: string, path: string, body?: unknown, contentType?: string): Promise<KubeObject> {
    const res = await this.#request(method, path, body, contentType);
    const text = await readAll(res);
    const code = res.statusCode ?? 0;
    if (code < 200 || code >= 300) throw statusError(method, path, code, text);
    return JSON.parse(text) as KubeObject;
  }

  async get(path: string): Promise<KubeObject | undefined> {
    try {
      return await this.#json("GET", path);
    } catch (error) {
      if (error instanceof ControllerError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  async list(path: string, query?: Query): Promise<ListResult> {
    const list = (await this.#json("GET", withQuery(path, query))) as unknown as {
      items?: KubeObject[];
      metadata?: { resourceVersion?: string };
    };
    return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? "" };
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
      // The server ends a watch after timeoutSeconds and sends bookmarks meanwhile; silence well past that is
      // a dead connection.
      const serverTimeout = Number(query.timeoutSeconds ?? 600);
      res = await this.#request("GET", target, undefined, undefined, signal, (serverTimeout + 60) * 1000);
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
    const code = res.statusCode ?? 0;
    if (code !== 200) throw statusError("GET", target, code, await readAll(res));
    onOpen?.();
    await new Promise<void>((resolve, reject) => {
      let buffer = "";
      let ended = false;
      const fail = (error: unknown) => {
        if (ended) return;
        ended = true;
        if (signal.aborted) resolve();
        else if (error instanceof ControllerError) reject(error);
        else
          reject(
            new ControllerError(ControllerErrorCode.Connection, `watch ${path} broke: ${String(error)}`, {
              cause: error,
            }),
          );
      };
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let newline = buffer.indexOf("\n");
        while (newline >= 0) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          newline = buffer.indexOf("\n");
          if (!line) continue;
          try {
            onEvent(JSON.parse(line) as WatchEvent);
          } catch (error) {
            res.destroy();
            fail(error);
            return;
          }
        }
      });
      res.on("end", () => {
        if (ended) return;
        ended = true;
        resolve();
      });
      res.on("error", fail);
      res.on("close", () => fail(new Error("connection closed")));
    });
  }
}
