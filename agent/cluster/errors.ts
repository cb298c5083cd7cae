// The one error type of the agent's cluster mode: its configuration, the Kubernetes client and the API.
export const AgentErrorCode = {
  /** XDP_COUNTER_CONFIG / NODE_NAME or a command-line flag is invalid */
  InvalidConfig: "InvalidConfig",
  /** no usable kubeconfig or in-cluster configuration */
  KubeConfig: "KubeConfig",
  /** the API server could not be reached (connection refused, reset, timeout, TLS) */
  ApiUnreachable: "ApiUnreachable",
  /** the API server answered with an error status */
  ApiRequestFailed: "ApiRequestFailed",
} as const;
export type AgentErrorCode = (typeof AgentErrorCode)[keyof typeof AgentErrorCode];

export class AgentError extends Error {
  override name = "AgentError";
  readonly code: AgentErrorCode;
  /** the HTTP status, for ApiRequestFailed */
  readonly status: number | undefined;
  constructor(code: AgentErrorCode, message: string, options?: ErrorOptions & { status?: number }) {
    super(message, options);
    this.code = code;
    this.status = options?.status;
  }
}

/** A message for any throwable, for logs and status. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
