// The one error type of the API package: bad values in an XdpCounter, a counter or an agent configuration.
export const ApiErrorCode = {
  InvalidU64: "InvalidU64",
  InvalidDuration: "InvalidDuration",
  InvalidAgentConfig: "InvalidAgentConfig",
  InvalidXdpCounter: "InvalidXdpCounter",
} as const;
export type ApiErrorCode = (typeof ApiErrorCode)[keyof typeof ApiErrorCode];

export class ApiError extends Error {
  override name = "ApiError";
  readonly code: ApiErrorCode;
  constructor(code: ApiErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
