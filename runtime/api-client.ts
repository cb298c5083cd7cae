// The HTTPS client of the agent and the operator: plain node:https requests to the API server with the
// method, content type, query and timeout each call needs, over one keep-alive connection pool, so periodic
// requests (an agent's report every second) reuse a connection instead of opening one each. Credentials are
// taken per request (a rotated token file is read again). Transport failures are RuntimeErrors with code
// Connection; HTTP statuses are the caller's to judge.
import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type RequestOptions,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { messageOf, RuntimeError, RuntimeErrorCode } from "./errors.ts";
import type { ClusterAccess, TlsSettings } from "./kubeconfig.ts";

export interface ApiRequest {
  /** sent as JSON */
  body?: unknown;
  /** the body's Content-Type (default application/json) */
  contentType?: string;
  /** no response (or, once streaming, no data) for this long fails the request */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ApiResponse {
  status: number;
  /** the body as text ("" when empty) */
  text: string;
  /** the body parsed as JSON; the text when it is not JSON; undefined when empty */
  body: unknown;
}

export interface ApiClientOptions {
  /** the User-Agent header, the component's name */
  userAgent: string;
  /** default timeout of a request (default 30 s) */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** Errors of a request sent on a kept-alive socket the server had closed meanwhile: safe to send again. */
const STALE_SOCKET = new Set(["ECONNRESET", "EPIPE"]);

export class ApiClient {
  readonly access: ClusterAccess;
  readonly server: string;
  readonly #userAgent: string;
  readonly #timeoutMs: number;
  readonly #https: boolean;
  #tls: TlsSettings | undefined;
  #agent: HttpAgent | undefined;

  constructor(access: ClusterAccess, options: ApiClientOptions) {
    this.access = access;
    this.server = access.server;
    this.#userAgent = options.userAgent;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#https = new URL(access.server).protocol === "https:";
  }

  /** The connection pool for these TLS settings: one for as long as they stay the same. */
  #agentFor(tls: TlsSettings): HttpAgent {
    if (this.#agent && this.#tls === tls) return this.#agent;
    // New TLS settings (a plugin's rotated client certificate): idle connections go, requests running on the
    // old pool (a watch) finish there.
    if (this.#agent) dropIdle(this.#agent);
    this.#tls = tls;
    this.#agent = this.#https
      ? new HttpsAgent({ keepAlive: true, ...tls })
      : new HttpAgent({ keepAlive: true });
    return this.#agent;
  }

  /**
   * Sends a request and resolves with the response once its head arrived; the body is the caller's to read
   * (readBody, readLines). `path` is the API path with its query.
   */
  async open(method: string, path: string, req: ApiRequest = {}): Promise<IncomingMessage> {
    let credentials: Awaited<ReturnType<ClusterAccess["credentials"]>>;
    try {
      credentials = await this.access.credentials();
    } catch (err) {
      if (err instanceof RuntimeError) throw err;
      throw new RuntimeError(RuntimeErrorCode.Credentials, `${this.access.source}: ${messageOf(err)}`, {
        cause: err,
      });
    }
    const url = new URL(`${this.server}${path}`);
    const headers: Record<string, string> = {
      ...credentials.headers,
      Accept: "application/json",
      "User-Agent": this.#userAgent,
    };
    const payload = req.body === undefined ? undefined : JSON.stringify(req.body);
    if (payload !== undefined) {
      headers["Content-Type"] = req.contentType ?? "application/json";
      headers["Content-Length"] = String(Buffer.byteLength(payload));
    }
    const options: RequestOptions = {
      method,
      headers,
      agent: this.#agentFor(credentials.tls),
      ...(req.signal ? { signal: req.signal } : {}),
    };
    const timeoutMs = req.timeoutMs ?? this.#timeoutMs;
    try {
      return await this.#send(url, options, payload, timeoutMs);
    } catch (first) {
      const { error, reused } = first as { error: unknown; reused: boolean };
      const code = (error as { code?: string }).code;
      // The server closed an idle kept-alive connection just as we sent on it: send once more, on a new one.
      // The other idle connections are dropped first: a server closes idle connections by age, so those
      // kept since the same time are likely closed too, and the pool would hand the retry one of them.
      if (reused && code && STALE_SOCKET.has(code) && !req.signal?.aborted) {
        dropIdle(options.agent as HttpAgent);
        try {
          return await this.#send(url, options, payload, timeoutMs);
        } catch (second) {
          throw connectionError(method, path, (second as { error: unknown }).error);
        }
      }
      throw connectionError(method, path, error);
    }
  }

  #send(url: URL, options: RequestOptions, payload: string | undefined, timeoutMs: number) {
    return new Promise<IncomingMessage>((resolve, reject) => {
      const send = this.#https ? httpsRequest : httpRequest;
      let response: IncomingMessage | undefined;
      const r: ClientRequest = send(url, options, (res) => {
        response = res;
        resolve(res);
      });
      r.on("error", (error) => reject({ error, reused: r.reusedSocket }));
      // No answer (or, streaming, no data) for this long: the connection is dead even if no FIN came. A body
      // being read fails with this reason rather than a bare "aborted".
      r.setTimeout(timeoutMs, () => {
        const error = new Error(`no response within ${timeoutMs} ms`);
        response?.destroy(error);
        r.destroy(error);
      });
      r.end(payload);
    });
  }

  /** A request whose whole body is read: status, text, and the JSON it holds. */
  async call(method: string, path: string, req: ApiRequest = {}): Promise<ApiResponse> {
    const res = await this.open(method, path, req);
    const text = await readBody(res, `${method} ${path}`);
    let body: unknown = text === "" ? undefined : text;
    try {
      if (text !== "") body = JSON.parse(text);
    } catch {
      // not JSON: keep the text for the error message
    }
    return { status: res.statusCode ?? 0, text, body };
  }

  /** Closes the pooled connections (open requests go on until they end). */
  close(): void {
    this.#agent?.destroy();
    this.#agent = undefined;
    this.#tls = undefined;
  }
}

/** Closes a pool's idle connections; requests running on it go on. */
function dropIdle(agent: HttpAgent): void {
  for (const sockets of Object.values(agent.freeSockets)) for (const s of sockets ?? []) s.destroy();
}

function connectionError(method: string, path: string, error: unknown): RuntimeError {
  return new RuntimeError(RuntimeErrorCode.Connection, `${method} ${path}: ${messageOf(error)}`, {
    cause: error,
  });
}

/** The whole body of a response as text; a connection that breaks meanwhile is a Connection error. */
export async function readBody(res: IncomingMessage, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of res) chunks.push(chunk as Buffer);
  } catch (err) {
    throw new RuntimeError(RuntimeErrorCode.Connection, `${what}: ${messageOf(err)}`, { cause: err });
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Streams a response's body line by line (a watch: one JSON event a line) to `onLine` until the server ends
 * it (resolves) or it breaks (rejects with a Connection error). An aborted `signal` resolves. When `onLine`
 * throws, the stream is closed and the promise rejects with what it threw.
 */
export function readLines(
  res: IncomingMessage,
  onLine: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let buffer = "";
    let ended = false;
    const fail = (error: unknown, fromHandler = false) => {
      if (ended) return;
      ended = true;
      if (signal?.aborted) resolve();
      else if (fromHandler) reject(error);
      else
        reject(
          new RuntimeError(RuntimeErrorCode.Connection, `stream broke: ${messageOf(error)}`, {
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
          onLine(line);
        } catch (error) {
          res.destroy();
          fail(error, true);
          return;
        }
      }
    });
    res.on("end", () => {
      if (ended) return;
      ended = true;
      resolve();
    });
    res.on("error", (error) => fail(error));
    res.on("close", () => fail(new Error("connection closed")));
  });
}
