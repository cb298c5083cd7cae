// The one error type of the project's Kubernetes layer, for the agent and the operator alike: the
// configuration could not be loaded, credentials could not be produced, the API server could not be reached,
// it answered with an error Status, a watch expired, or the caller was stopped.
export const RuntimeErrorCode = {
  /** no usable kubeconfig or in-cluster configuration; the message names the file and the field */
  KubeConfig: "KubeConfig",
  /** the configuration loaded but a request's credentials could not be made (token file, exec plugin) */
  Credentials: "Credentials",
  /** the API server could not be reached or the connection broke (refused, reset, TLS, timeout) */
  Connection: "Connection",
  /** the API server answered with an error Status (statusCode and reason say which) */
  ApiStatus: "ApiStatus",
  /** a watch's resourceVersion is too old (410 Gone): list again */
  WatchExpired: "WatchExpired",
  /** the component was stopped while the call was running */
  Stopped: "Stopped",
} as const;
export type RuntimeErrorCode = (typeof RuntimeErrorCode)[keyof typeof RuntimeErrorCode];

export type RuntimeErrorOptions = ErrorOptions & { statusCode?: number; reason?: string; path?: string };

export class RuntimeError extends Error {
  override name = "RuntimeError";
  readonly code: RuntimeErrorCode;
  /** The HTTP status of an ApiStatus or WatchExpired error. */
  readonly statusCode: number | undefined;
  /** The Status reason (NotFound, Conflict, Invalid, Gone, …) when the server sent one. */
  readonly reason: string | undefined;
  /** The API path of the failed request, without its query. */
  readonly path: string | undefined;
  constructor(code: RuntimeErrorCode, message: string, options: RuntimeErrorOptions = {}) {
    super(message, options);
    this.code = code;
    this.statusCode = options.statusCode;
    this.reason = options.reason;
    this.path = options.path;
  }
}

/** The API server answered `statusCode` (e.g. 404, 409). */
export function isStatus(error: unknown, statusCode: number): boolean {
  return error instanceof RuntimeError && error.statusCode === statusCode;
}

/** A message for any throwable, for logs, conditions and status. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
