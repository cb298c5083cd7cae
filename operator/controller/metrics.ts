// The operator's Prometheus metrics, in a registry of their own (so two operators in one test process do
// not share counters).
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export type OperatorMetrics = {
  registry: Registry;
  reconciles: Counter<"outcome">;
  reconcileErrors: Counter;
  reconcileDuration: Histogram;
  queueDepth: Gauge;
  informerEvents: Counter<"informer" | "event">;
};

const MISNAMED_DEFAULT_METRICS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
] as const;

export function createMetrics(options: { defaultMetrics?: boolean } = {}): OperatorMetrics {
  const registry = new Registry();
  if (options.defaultMetrics) {
    collectDefaultMetrics({ register: registry });
    // prom-client's gauges with a counter's `_total` suffix (promtool check metrics refuses them); the same
    // counts are in nodejs_active_handles, nodejs_active_requests and nodejs_active_resources, by type
    for (const misnamed of MISNAMED_DEFAULT_METRICS) registry.removeSingleMetric(misnamed);
  }
  const registers = [registry];
  return {
    registry,
    reconciles: new Counter({
      name: "xdpcounter_operator_reconciles_total",
      help: "Reconciles of XdpCounters, by outcome (Synced, WaitingForClean, FinalizerRemoved, InvalidSpec, Gone, Released, Error).",
      labelNames: ["outcome"],
      registers,
    }),
    reconcileErrors: new Counter({
      name: "xdpcounter_operator_reconcile_errors_total",
      help: "Reconciles that failed and were retried with backoff.",
      registers,
    }),
    reconcileDuration: new Histogram({
      name: "xdpcounter_operator_reconcile_duration_seconds",
      help: "How long one reconcile took.",
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    queueDepth: new Gauge({
      name: "xdpcounter_operator_workqueue_depth",
      help: "XdpCounter keys waiting in the work queue.",
      registers,
    }),
    informerEvents: new Counter({
      name: "xdpcounter_operator_informer_events_total",
      help: "Informer events (connect, relist, disconnect, gone, resync, give-up), by informer.",
      labelNames: ["informer", "event"],
      registers,
    }),
  };
}
