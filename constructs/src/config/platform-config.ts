/**
 * The platform configuration: ONE schema describes an environment. Both entry points (`constructs/main.ts` for
 * `cdk8s synth`, and `infra/` for Pulumi) parse their input with {@link parsePlatformConfig}, so a bad value gets the
 * same message whichever way it arrives. Defaults make `dev` work with no file at all.
 *
 * Where a rule lives: value formats in `rules.ts`, Kubernetes field formats in `kubernetes.ts`, the sections in
 * `monitoring.ts`, `runner.ts`, `network.ts` and `tests.ts`, their composition and the checks across sections in
 * `schema.ts`, parsing and error lines in `parse.ts`, Pulumi stack files in `stack-config.ts`. This module is the
 * public face of them: the package exports what is listed here, and nothing else of the folder.
 */

export {
  BYTE_SIZE,
  CONFIG_MAP_KEY,
  DNS_LABEL,
  DNS_SUBDOMAIN,
  ENV_NAME,
  IMAGE_DIGEST,
  IMAGE_REFERENCE,
  K6_DURATION,
  k6Duration,
  k6DurationSeconds,
  PROMETHEUS_DURATION,
  QUANTITY,
  quantityValue,
  SECRET_REFERENCE_RULE,
  SEMVER,
  type ResourceRequirements,
  type SecretKeyReference,
} from './rules';
export { INT32_MAX, intInRange, isLabelKey, isLabelValue, timeZoneProblem, type Affinity } from './kubernetes';
export { isInClusterUrl, type RemoteWriteAuth } from './monitoring';
export { GO_MODULE_PATH, k6ExtensionSchema, MODULE_VERSION, REGISTRY_HOST, REPOSITORY_PATH, runnerConfigSchema, type K6Extension } from './runner';
export { type EgressTarget } from './network';
export { validitySchema, type ValidityConfig } from './validity';
export {
  CRON_JOB_SUFFIX_LENGTH,
  defaultTests,
  DNS_1035_LABEL,
  isValidCronSchedule,
  MAX_CRON_JOB_NAME_LENGTH,
  MAX_LABEL_LENGTH,
  RESERVED_K6_FLAGS,
  runIdSuffixLength,
  testSchema,
  type TestConfig,
  type TestInput,
} from './tests';
export { platformConfigSchema, type PlatformConfig, type PlatformConfigInput } from './schema';
export { describeIssues, formatPath, parsePlatformConfig, PlatformConfigError, SECRET_FIELDS, type ConfigSource } from './parse';
export {
  CONFIG_NAMESPACE,
  DEPLOY_ONLY_KEYS,
  KNOWN_CONFIG_NAMESPACES,
  parseStackConfig,
  platformInputFromStackConfig,
  STACK_FILE_KEYS,
  stackFileEntries,
} from './stack-config';
