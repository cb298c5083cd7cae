// The agent's view of the API server: the common runtime's client (configuration from KUBECONFIG,
// ~/.kube/config or the pod's service account; one kept-alive connection), with its failures as AgentErrors:
// KubeConfig when the configuration or the credentials cannot be had, ApiUnreachable when the connection fails.
import {
  ApiClient,
  type ClusterAccess,
  type LoadOptions,
  loadClusterAccess,
  messageOf,
  RuntimeError,
  RuntimeErrorCode,
} from "../../runtime/index.ts";
import { AgentError, AgentErrorCode } from "./errors.ts";

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
  readonly #client: ApiClient;

  constructor(access: ClusterAccess) {
    this.#client = new ApiClient(access, { userAgent: USER_AGENT, timeoutMs: DEFAULT_TIMEOUT_MS });
    this.server = access.server;
  }

  /** From KUBECONFIG (or ~/.kube/config), else the in-cluster configuration. */
  static async fromEnvironment(options: LoadOptions = {}): Promise<KubeClient> {
    try {
      return new KubeClient(await loadClusterAccess(options));
    } catch (err) {
      throw new AgentError(AgentErrorCode.KubeConfig, `cannot load a kubeconfig: ${messageOf(err)}`, {
        cause: err,
      });
    }
  }

  async request(method: string, path: string, req: KubeRequest = {}): Promise<KubeResponse> {
    try {
      const res = await this.#client.call(method, path, req);
      return { status: res.status, body: res.body };
    } catch (err) {
      if (err instanceof RuntimeError && err.code === RuntimeErrorCode.Connection)
        throw new AgentError(AgentErrorCode.ApiUnreachable, err.message, { cause: err });
      if (err instanceof RuntimeError)
        throw new AgentError(AgentErrorCode.KubeConfig, `cannot apply credentials: ${err.message}`, {
          cause: err,
        });
      throw err;
    }
  }

  close(): void {
    this.#client.close();
  }
}
