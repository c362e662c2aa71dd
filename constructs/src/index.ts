/**
 * `@k6-platform/constructs`: cdk8s constructs for distributed k6 load tests on Kubernetes.
 *
 * Use the composite {@link LoadTestPlatform} for the whole platform from one props object, or each part on its own
 * ({@link MonitoringStack}, {@link Dashboards}, {@link RunnerImage}, {@link TestScripts}, {@link LoadTest}, ...).
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
export * from './k6/k6-metrics';
export * from './k6/threshold-grammar';
export * from './k6/threshold-queries';
export * from './runner-image/runner-image';
export * from './network/network-rules';
export * from './network/network-policies';
export * from './k6/starter';
export * from './k6/execution-segments';
export * from './platform/platform';
export * from './platform/deploy';
// The application side lives behind `@k6-platform/constructs/output`; these are its old names here, deprecated.
export * from './output/root-aliases';
export * from './platform/load-test-platform';
