// The agent's own error: a bad setting (NODE_NAME, a flag). Everything of the Kubernetes layer fails with the
// runtime's RuntimeError (runtime/errors.ts).
export const AgentErrorCode = {
  /** NODE_NAME or a command-line flag is invalid */
  InvalidConfig: "InvalidConfig",
} as const;
export type AgentErrorCode = (typeof AgentErrorCode)[keyof typeof AgentErrorCode];

export class AgentError extends Error {
  override name = "AgentError";
  readonly code: AgentErrorCode;
  constructor(code: AgentErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
