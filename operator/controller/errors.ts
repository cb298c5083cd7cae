// The one error type of the controller: failed API requests, broken watches, a stopped queue.
export const ControllerErrorCode = {
  /** The API server answered with an error Status (statusCode and reason say which). */
  ApiStatus: "ApiStatus",
  /** The connection to the API server failed or broke mid-response. */
  Connection: "Connection",
  /** A watch's resourceVersion is too old (410 Gone): list again. */
  WatchExpired: "WatchExpired",
  /** The kubeconfig could not be loaded. */
  Kubeconfig: "Kubeconfig",
  /** The component was stopped while the call was running. */
  Stopped: "Stopped",
} as const;
export type ControllerErrorCode = (typeof ControllerErrorCode)[keyof typeof ControllerErrorCode];

export type ControllerErrorOptions = ErrorOptions & { statusCode?: number; reason?: string; path?: string };

export class ControllerError extends Error {
  override name = "ControllerError";
  readonly code: ControllerErrorCode;
  /** The HTTP status of an ApiStatus or WatchExpired error. */
  readonly statusCode: number | undefined;
  /** The Status reason (NotFound, Conflict, Invalid, Gone, …) when the server sent one. */
  readonly reason: string | undefined;
  /** The API path of the failed request, without its query. */
  readonly path: string | undefined;
  constructor(code: ControllerErrorCode, message: string, options: ControllerErrorOptions = {}) {
    super(message, options);
    this.code = code;
    this.statusCode = options.statusCode;
    this.reason = options.reason;
    this.path = options.path;
  }
}

export function isStatus(error: unknown, statusCode: number): boolean {
  return error instanceof ControllerError && error.statusCode === statusCode;
}

/** A message for any throwable, for logs and conditions. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
