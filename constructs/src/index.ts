/**
 * `@k6-platform/constructs`: cdk8s constructs for distributed k6 load tests on Kubernetes.
 *
 * Use the composite {@link LoadTestPlatform} for the whole platform from one props object, or each part on its own
 * ({@link MonitoringStack}, {@link Dashboards}, {@link RunnerImage}, {@link TestScripts}, {@link LoadTest}, ...).
 *
 * @packageDocumentation
 */
export * from './versions';
export * from './labels';
export * from './platform-config';
export * from './monitoring-stack';
export * from './test-scripts';
export * from './script-options';
export * from './grafana-dashboards';
export * from './load-test';
export * from './thresholds';
export * from './runner-image';
export * from './network-rules';
export * from './network-policies';
export * from './starter';
export * from './execution-segments';
export * from './platform';
export * from './deploy';
export * from './helm-bundle';
export * from './synth';
export * from './load-test-platform';
