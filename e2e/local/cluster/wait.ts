// Polling for tests: the local cluster's `until` is the shared one.
export { until } from "../wait.ts";
