// The control plane's one error type: what failed (certificates, a component that exited or never became
// ready) as a code, and in the message the component and the last lines of its log.
export const ControlPlaneErrorCode = {
  /** a binary is missing from the cache (build it with `bash .ci/install`) */
  NotBuilt: "NotBuilt",
  /** openssl failed to make a key or certificate */
  Certificates: "Certificates",
  /** a component exited while starting or running */
  Exited: "Exited",
  /** a component did not become ready in time */
  Timeout: "Timeout",
} as const;
export type ControlPlaneErrorCode = (typeof ControlPlaneErrorCode)[keyof typeof ControlPlaneErrorCode];

export class ControlPlaneError extends Error {
  override name = "ControlPlaneError";
  readonly code: ControlPlaneErrorCode;
  constructor(code: ControlPlaneErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
