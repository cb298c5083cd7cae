// The one error type of the operator's pure parts.
export const OperatorErrorCode = {
  InvalidConfig: "InvalidConfig",
  InvalidXdpCounter: "InvalidXdpCounter",
} as const;
export type OperatorErrorCode = (typeof OperatorErrorCode)[keyof typeof OperatorErrorCode];

export class OperatorError extends Error {
  override name = "OperatorError";
  readonly code: OperatorErrorCode;
  constructor(code: OperatorErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
