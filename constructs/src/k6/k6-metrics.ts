/**
 * k6's metrics and the names k6's Prometheus remote-write output gives them (pure: no I/O). The threshold grammar
 * types its metrics from here, and the threshold queries name their Prometheus series from here.
 */

/** k6 metric types. */
export type K6MetricType = 'counter' | 'gauge' | 'rate' | 'trend';

/** A metric of k6 and how it is written to Prometheus. */
export interface K6MetricInfo {
  /** The metric type. */
  readonly type: K6MetricType;
  /** Whether a trend holds times (k6: milliseconds; Prometheus: seconds, name suffix `_seconds`). */
  readonly isTime: boolean;
}

/**
 * The metrics of k6's browser module (k6 v1.7.1 internal/js/modules/k6/browser/k6ext/metrics.go
 * `RegisterCustomMetrics`): the web vitals are trends of time, but CLS, a score (metrics.Default); the data counters
 * count bytes; `browser_http_req_failed` is a rate. k6 registers them in every VU's registry of a run that imports
 * `k6/browser`, so a threshold on them types them like any built-in.
 */
export const K6_BROWSER_METRICS: Readonly<Record<string, K6MetricInfo>> = {
  browser_web_vital_lcp: { type: 'trend', isTime: true },
  browser_web_vital_fcp: { type: 'trend', isTime: true },
  browser_web_vital_inp: { type: 'trend', isTime: true },
  browser_web_vital_ttfb: { type: 'trend', isTime: true },
  browser_web_vital_fid: { type: 'trend', isTime: true },
  browser_web_vital_cls: { type: 'trend', isTime: false },
  browser_http_req_duration: { type: 'trend', isTime: true },
  browser_http_req_failed: { type: 'rate', isTime: false },
  browser_data_sent: { type: 'counter', isTime: false },
  browser_data_received: { type: 'counter', isTime: false },
};

/** k6's built-in metrics (HTTP, iterations, VUs, checks, data, gRPC, WebSockets, the browser module's). */
export const K6_BUILTIN_METRICS: Readonly<Record<string, K6MetricInfo>> = {
  ...K6_BROWSER_METRICS,
  http_reqs: { type: 'counter', isTime: false },
  iterations: { type: 'counter', isTime: false },
  data_sent: { type: 'counter', isTime: false },
  data_received: { type: 'counter', isTime: false },
  dropped_iterations: { type: 'counter', isTime: false },
  grpc_reqs: { type: 'counter', isTime: false },
  ws_msgs_sent: { type: 'counter', isTime: false },
  ws_msgs_received: { type: 'counter', isTime: false },
  ws_sessions: { type: 'counter', isTime: false },
  vus: { type: 'gauge', isTime: false },
  vus_max: { type: 'gauge', isTime: false },
  checks: { type: 'rate', isTime: false },
  http_req_failed: { type: 'rate', isTime: false },
  http_req_duration: { type: 'trend', isTime: true },
  http_req_waiting: { type: 'trend', isTime: true },
  http_req_blocked: { type: 'trend', isTime: true },
  http_req_connecting: { type: 'trend', isTime: true },
  http_req_tls_handshaking: { type: 'trend', isTime: true },
  http_req_sending: { type: 'trend', isTime: true },
  http_req_receiving: { type: 'trend', isTime: true },
  iteration_duration: { type: 'trend', isTime: true },
  group_duration: { type: 'trend', isTime: true },
  grpc_req_duration: { type: 'trend', isTime: true },
  ws_connecting: { type: 'trend', isTime: true },
  ws_session_duration: { type: 'trend', isTime: true },
  ws_ping: { type: 'trend', isTime: true },
};

/** Aggregations k6 allows per metric type. */
export const AGGREGATIONS_BY_TYPE: Readonly<Record<K6MetricType, readonly string[]>> = {
  counter: ['count', 'rate'],
  gauge: ['value'],
  rate: ['rate'],
  trend: ['avg', 'min', 'max', 'med', 'p(N)'],
};

/**
 * The Prometheus metric name k6's remote-write output uses for a metric of this type: a native histogram of a time
 * trend gets the base unit `_seconds`, of any other trend none (k6 v1.7.1 internal/output/prometheusrw/remotewrite/
 * trend.go `nativeHistogramSink.MapPrompb` and `baseUnit`), so `k6_browser_web_vital_lcp_seconds` and
 * `k6_browser_web_vital_cls`.
 */
export function prometheusMetricName(metric: string, info: K6MetricInfo): string {
  switch (info.type) {
    case 'counter':
      return `k6_${metric}_total`;
    case 'rate':
      return `k6_${metric}_rate`;
    case 'gauge':
      return `k6_${metric}`;
    case 'trend':
      return info.isTime ? `k6_${metric}_seconds` : `k6_${metric}`;
  }
}
