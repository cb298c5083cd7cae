// The one error type of interface discovery.
export const InterfaceErrorCode = {
  /** `ip` failed or is missing */
  ListFailed: "ListFailed",
  /** `ip` printed something that is not the JSON we expect */
  BadOutput: "BadOutput",
} as const;
export type InterfaceErrorCode = (typeof InterfaceErrorCode)[keyof typeof InterfaceErrorCode];

export class InterfaceError extends Error {
  override name = "InterfaceError";
  readonly code: InterfaceErrorCode;
  constructor(code: InterfaceErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
