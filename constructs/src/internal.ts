/**
 * `@k6-platform/constructs/internal`: every module's exports, the public ones and the building blocks behind them
 * (ports, UIDs, mount paths, name rules, threshold grammar, starter script, ...). For this repository's own `loadtest`
 * CLI, Pulumi program, dashboards and benchmarks, which are released with the library at the same version; not a public
 * API: no compatibility promise, not in the API report. A platform team imports `@k6-platform/constructs` (and
 * `@k6-platform/constructs/output` for synth to disk).
 *
 * @packageDocumentation
 */
export * from './contract';
export * from './config/platform-config';
export * from './monitoring/monitoring-stack';
export * from './load-test/test-scripts';
export * from './load-test/script-files';
export * from './k6/script-options';
export * from './monitoring/grafana-dashboards';
export * from './monitoring/recording-rules';
export * from './load-test/load-test';
export * from './k6/thresholds';
export * from './k6/validity-queries';
export * from './k6/k6-metrics';
export * from './k6/threshold-grammar';
export * from './k6/threshold-queries';
export * from './backend/backend';
export * from './config/backend';
export * from './k6/abort-thresholds';
export * from './runner-image/runner-image';
export * from './network/network-rules';
export * from './network/network-policies';
export * from './k6/starter';
export * from './k6/execution-segments';
export * from './platform/platform';
export * from './platform/deploy';
export * from './platform/load-test-platform';
