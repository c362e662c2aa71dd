/**
 * `@k6-platform/constructs`: cdk8s constructs for distributed k6 load tests on Kubernetes.
 *
 * Use the composite {@link LoadTestPlatform} for the whole platform from one props object, or each part on its own
 * ({@link MonitoringStack}, {@link Dashboards}, {@link RunnerImage}, {@link TestScripts}, {@link LoadTest}, ...).
 *
 * The public API is exactly what this file lists, module by module: the constructs and their props, the config schema
 * and its types, the monitoring values and URLs, the run and label contract, thresholds. Synth to disk lives behind
 * `@k6-platform/constructs/output`. The building blocks behind them are `@k6-platform/constructs/internal`, for the
 * platform's own CLI and Pulumi program only.
 *
 * @packageDocumentation
 */
export {
  bundledDashboardsDir,
  LoadTestPlatform,
  type LoadTestPlatformProps,
  type LoadTestSpec,
  type MonitoringInput,
  type NamespacesInput,
  type NetworkInput,
  type PlatformManifest,
  type RunnerInput,
} from './platform/load-test-platform';
export { buildPlatform, type PlatformCharts, type PlatformProps } from './platform/platform';
export {
  type ChartManifest,
  type DeploySecret,
  type DeploySecretEntry,
  deploySecrets,
  grafanaUrl,
  type KubeObject,
  platformManifests,
  startRunCommand,
} from './platform/deploy';
export {
  grafanaServiceName,
  type KubePrometheusStackValues,
  MonitoringStack,
  type MonitoringStackProps,
  monitoringValues,
  PROMETHEUS_DATASOURCE_UID,
  prometheusServiceName,
  prometheusUrl,
  remoteWriteUrl,
} from './monitoring/monitoring-stack';
export { Dashboards, type DashboardsProps, type ProvisionedDashboard } from './monitoring/grafana-dashboards';
export {
  recordingRuleGroups,
  type RecordingRule,
  type RecordingRuleGroup,
  type RecordingRuleOptions,
  RecordingRules,
  type RecordingRulesProps,
} from './monitoring/recording-rules';
export {
  bundleScripts,
  type ConfigMapSource,
  type ScriptBundle,
  type ScriptFile,
  type ScriptsVolumeSource,
  TestScripts,
  type TestScriptsProps,
} from './load-test/test-scripts';
export { DataImage, type DataImageProps } from './runner-image/data-image';
export {
  LoadTest,
  type LoadTestProps,
  type PrometheusPeer,
  type RunnerDefaults,
  type BrowserRunnerDefaults,
  type RunShard,
} from './load-test/load-test';
export {
  type BuildEgress,
  type PushSecretReference,
  renderRunnerDockerfile,
  type RestrictedException,
  type RunnerBuildInputs,
  RunnerImage,
  type RunnerImageProps,
  runnerImagePropsFromConfig,
} from './runner-image/runner-image';
export {
  DefaultDenyPolicy,
  type DefaultDenyPolicyProps,
  MonitoringNetworkPolicies,
  type MonitoringNetworkPoliciesProps,
  type PolicyType,
} from './network/network-policies';
export { type DnsPeer, type NetworkRules } from './network/network-rules';
export {
  type Affinity,
  CONFIG_NAMESPACE,
  type ConfigSource,
  type EgressTarget,
  type K6Extension,
  parsePlatformConfig,
  parseStackConfig,
  type PlatformConfig,
  PlatformConfigError,
  type PlatformConfigInput,
  platformConfigSchema,
  type RemoteWriteAuth,
  type ResourceRequirements,
  type SecretKeyReference,
  type TestConfig,
  type TestInput,
  type ValidityConfig,
  validitySchema,
} from './config/platform-config';
export {
  type ParsedThreshold,
  parseThresholds,
  type ThresholdAggregation,
  ThresholdError,
  type ThresholdObject,
  type ThresholdOperator,
  type ThresholdProblem,
  thresholdQueries,
  type QueryDialect,
  type ThresholdQuery,
  type ThresholdQueryScope,
  type RunTotalsSource,
  type ThresholdsConfig,
  type ThresholdSpec,
} from './k6/thresholds';
export { readScriptOptions, type ScriptOptions, type ScriptOptionsProblem, type ScriptThreshold } from './k6/script-options';
export {
  DEFAULT_NAMESPACES,
  DEFAULT_PROMETHEUS_URL,
  K6_EXIT_CODES,
  LABELS,
  newRunId,
  RUN_TAGS,
  type RunTest,
  RunTestConflictError,
  versions,
} from './contract';
// The zod schemas behind the exported config types (the types are their outputs), and what those types reference.
export { affinity as affinitySchema } from './config/kubernetes';
export { egressTarget as egressTargetSchema } from './config/network';
export { remoteWriteAuth as remoteWriteAuthSchema } from './config/monitoring';
export {
  BACKEND_KINDS,
  backendAuth as backendAuthSchema,
  backendConfig as backendConfigSchema,
  type BackendAuth,
  type BackendConfig,
  type BackendKind,
} from './config/backend';
export { BACKEND_APIS, type BackendApi, resolveBackend, type ResolvedBackend } from './backend/backend';
export { resources as resourceRequirementsSchema, secretKeyRef as secretKeyReferenceSchema } from './config/rules';
export { k6ExtensionSchema } from './config/runner';
export { testDataSchema, testSchema, type TestData } from './config/tests';
export { BUILDKIT_RESTRICTED_EXCEPTIONS } from './runner-image/props';
export type { ScriptModuleImport } from './load-test/script-files';
export type { K6MetricInfo, K6MetricType } from './k6/k6-metrics';
