// The one error type of the common runtime: the Kubernetes configuration could not be loaded, credentials
// could not be produced, or the connection to the API server failed. The agent and the operator translate it
// into their own error types at the call site, so their codes and exit codes stay their own.
export const RuntimeErrorCode = {
  /** no usable kubeconfig or in-cluster configuration; the message names the file and the field */
  KubeConfig: "KubeConfig",
  /** the configuration loaded but a request's credentials could not be made (token file, exec plugin) */
  Credentials: "Credentials",
  /** the API server could not be reached or the connection broke (refused, reset, TLS, timeout) */
  Connection: "Connection",
} as const;
export type RuntimeErrorCode = (typeof RuntimeErrorCode)[keyof typeof RuntimeErrorCode];

export class RuntimeError extends Error {
  override name = "RuntimeError";
  readonly code: RuntimeErrorCode;
  constructor(code: RuntimeErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** A message for any throwable, for logs and errors. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
