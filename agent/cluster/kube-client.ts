// A small Kubernetes REST client: @kubernetes/client-node finds and reads the configuration (KUBECONFIG,
// ~/.kube/config, or in-cluster: the service account token and CA), and we send plain HTTPS requests with
// it, so each request has exactly the method, content type, query and timeout it needs. Credentials are
// applied per request: in a pod the projected service account token is rotated on disk.
import { request as httpRequest, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { KubeConfig } from "@kubernetes/client-node";
import { AgentError, AgentErrorCode, messageOf } from "./errors.ts";

export interface KubeResponse {
  status: number;
  body: unknown;
}

export interface KubeRequest {
  body?: unknown;
  contentType?: string;
  timeoutMs?: number;
}

export const USER_AGENT = "xdp-counter-agent";
const DEFAULT_TIMEOUT_MS = 10_000;

export class KubeClient {
  readonly server: string;
  readonly #config: KubeConfig;

  private constructor(server: string, config: KubeConfig) {
    this.server = server;
    this.#config = config;
  }

  /** From KUBECONFIG (or ~/.kube/config), else the in-cluster configuration. */
  static fromEnvironment(): KubeClient {
    const config = new KubeConfig();
    try {
      config.loadFromDefault();
    } catch (err) {
      throw new AgentError(AgentErrorCode.KubeConfig, `cannot load a kubeconfig: ${messageOf(err)}`, {
        cause: err,
      });
    }
    const cluster = config.getCurrentCluster();
    if (!cluster?.server) {
      throw new AgentError(
        AgentErrorCode.KubeConfig,
        "no Kubernetes API server configured: set KUBECONFIG, or run in a pod with a service account",
      );
    }
    return new KubeClient(cluster.server, config);
  }

  async request(method: string, path: string, req: KubeRequest = {}): Promise<KubeResponse> {
    const url = new URL(`${this.server.replace(/\/+$/, "")}${path}`);
    const opts: RequestOptions & Record<string, unknown> = { method, headers: {} };
    try {
      await this.#config.applyToHTTPSOptions(opts);
    } catch (err) {
      throw new AgentError(AgentErrorCode.KubeConfig, `cannot apply credentials: ${messageOf(err)}`, {
        cause: err,
      });
    }
    const payload = req.body === undefined ? undefined : JSON.stringify(req.body);
    const headers = opts.headers as Record<string, string>;
    headers.Accept = "application/json";
    headers["User-Agent"] = USER_AGENT;
    if (payload !== undefined) {
      headers["Content-Type"] = req.contentType ?? "application/json";
      headers["Content-Length"] = String(Buffer.byteLength(payload));
    }
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const timeoutMs = req.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const r = send(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let body: unknown = text;
          try {
            body = text === "" ? undefined : JSON.parse(text);
          } catch {
            // not JSON: keep the text for the error message
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on("error", (err) => reject(unreachable(method, url, err)));
      });
      r.setTimeout(timeoutMs, () => r.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      r.on("error", (err) => reject(unreachable(method, url, err)));
      if (payload !== undefined) r.write(payload);
      r.end();
    });
  }
}

function unreachable(method: string, url: URL, err: unknown): AgentError {
  return new AgentError(AgentErrorCode.ApiUnreachable, `${method} ${url.pathname}: ${messageOf(err)}`, {
    cause: err,
  });
}
