// The one error type of the test API server. Every failure a client can see is an ApiError, rendered as a
// Kubernetes `Status` object with the HTTP code that Kubernetes uses for its reason.

/** Status reasons and their HTTP codes, as in k8s.io/apimachinery/pkg/apis/meta/v1 StatusReason. */
export const StatusCodes = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  InternalError: 500,
  /** A failure without a reason (as etcd's own errors reach clients): `reason` is empty in the Status. */
  Unknown: 500,
} as const;

export type StatusReason = keyof typeof StatusCodes;

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure" | "Success";
  message: string;
  reason: StatusReason | "";
  details?: StatusDetails;
  code: number;
}

/** A failure answered to the client as a Status object. */
export class ApiError extends Error {
  readonly reason: StatusReason;
  readonly code: number;
  readonly details: StatusDetails | undefined;

  constructor(reason: StatusReason, message: string, details?: StatusDetails) {
    super(message);
    this.name = "ApiError";
    this.reason = reason;
    this.code = StatusCodes[reason];
    this.details = details;
  }

  toStatus(): Status {
    const status: Status = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason === "Unknown" ? "" : this.reason,
      code: this.code,
    };
    if (this.details) status.details = this.details;
    return status;
  }
}

/** Identifies a resource in messages: `xdpcounters.xdpcounter.dev` or `pods` for the core group. */
export interface ResourceRef {
  group: string;
  plural: string;
}

export function qualifiedResource(r: ResourceRef): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

export function notFound(r: ResourceRef, name: string): ApiError {
  return new ApiError("NotFound", `${qualifiedResource(r)} "${name}" not found`, {
    name,
    group: r.group,
    kind: r.plural,
  });
}

export function alreadyExists(r: ResourceRef, name: string): ApiError {
  return new ApiError("AlreadyExists", `${qualifiedResource(r)} "${name}" already exists`, {
    name,
    group: r.group,
    kind: r.plural,
  });
}

export function conflict(r: ResourceRef, name: string, why: string): ApiError {
  return new ApiError(
    "Conflict",
    `Operation cannot be fulfilled on ${qualifiedResource(r)} "${name}": ${why}`,
    {
      name,
      group: r.group,
      kind: r.plural,
    },
  );
}

export const staleMessage =
  "the object has been modified; please apply your changes to the latest version and try again";

/** 422 Invalid: `Kind.group "name" is invalid: cause1, cause2`. */
export function invalid(kind: string, group: string, name: string, causes: StatusCause[]): ApiError {
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const message =
    list.length === 1
      ? `${qualifiedKind} "${name}" is invalid: ${list[0]}`
      : `${qualifiedKind} "${name}" is invalid: [${list.join(", ")}]`;
  return new ApiError("Invalid", message, { name, group, kind, causes });
}

export function badRequest(message: string): ApiError {
  return new ApiError("BadRequest", message);
}

/** Converts anything thrown while serving a request into an ApiError. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ApiError("InternalError", `Internal error occurred: ${message}`);
}
