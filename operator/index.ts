// The operator's pure parts: configuration, DaemonSet rendering, status aggregation, conditions, the status
// patch and the finalizer decision. No I/O here: the controller that uses them talks to the API server.
export * from "./config/index.ts";
export * from "./daemonset/index.ts";
export { OperatorError, OperatorErrorCode } from "./errors.ts";
export * from "./finalizer/index.ts";
export * from "./status/index.ts";
