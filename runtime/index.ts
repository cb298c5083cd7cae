// The common runtime of the agent and the operator: where the API server is and how to reach it (without
// @kubernetes/client-node in the common cases), one HTTPS client, JSON-line logs, and the health endpoints.
export {
  ApiClient,
  type ApiClientOptions,
  type ApiRequest,
  type ApiResponse,
  readBody,
  readLines,
} from "./api-client.ts";
export { isStatus, messageOf, RuntimeError, RuntimeErrorCode, type RuntimeErrorOptions } from "./errors.ts";
export {
  type HealthEndpoints,
  type HealthServer,
  type HealthServerOptions,
  startHealthServer,
} from "./health-server.ts";
export {
  type ClusterAccess,
  type Credentials,
  type LoadOptions,
  loadClusterAccess,
  loadInCluster,
  loadKubeconfigFiles,
  loadKubeconfigText,
  SERVICE_ACCOUNT_DIR,
  type TlsSettings,
  TOKEN_CACHE_MS,
} from "./kubeconfig.ts";
export {
  createLogger,
  LOG_LEVELS,
  type LogFields,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  silentLogger,
} from "./log.ts";
