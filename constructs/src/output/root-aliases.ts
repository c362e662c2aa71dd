/**
 * The application side (synth to disk, stack files, the Helm bundle) as the package's main entry exported it before
 * it moved behind the `@k6-platform/constructs/output` subpath. Kept so existing imports still compile; each name is
 * deprecated in favour of the subpath, which is where new code imports them from.
 */
import * as bundle from './helm-bundle';
import * as synth from './synth';

/** @deprecated Import it from `@k6-platform/constructs/output`. */
export const GENERATED_HEADER = synth.GENERATED_HEADER;
/** @deprecated Import it from `@k6-platform/constructs/output`. */
export const DEFAULT_ENVIRONMENT = synth.DEFAULT_ENVIRONMENT;
/** @deprecated Import it from `@k6-platform/constructs/output`. */
export type SynthOptions = synth.SynthOptions;
/** @deprecated Import it from `@k6-platform/constructs/output`. */
export type EnvironmentOutput = synth.EnvironmentOutput;
/** @deprecated Import it from `@k6-platform/constructs/output`. */
export const discoverEnvironments = synth.discoverEnvironments;
/** @deprecated Import it from `@k6-platform/constructs/output`. */
export const loadEnvironmentConfig = synth.loadEnvironmentConfig;
/** @deprecated Import it from `@k6-platform/constructs/output`. */
export const buildEnvironment = synth.buildEnvironment;
/** @deprecated Import it from `@k6-platform/constructs/output`. */
export const OUTPUT_MARKER = synth.OUTPUT_MARKER;
/** @deprecated Import it from `@k6-platform/constructs/output`. */
export const MAX_OBJECT_BYTES = synth.MAX_OBJECT_BYTES;
/** @deprecated Import it from `@k6-platform/constructs/output`. */
export const KILL_AFTER_STEP_ENV = synth.KILL_AFTER_STEP_ENV;
/** @deprecated Import it from `@k6-platform/constructs/output`. */
export const synthesize = synth.synthesize;
/** @deprecated Import it from `@k6-platform/constructs/output`. */
export type ObjectHead = synth.ObjectHead;
/** @deprecated Import it from `@k6-platform/constructs/output`. */
export const oversizedObjects = synth.oversizedObjects;
/** @deprecated Import it from `@k6-platform/constructs/output`. */
export const checkObjectSizes = synth.checkObjectSizes;
/** @deprecated Import it from `@k6-platform/constructs/output`. */
export const BUNDLE_CHART_NAME = bundle.BUNDLE_CHART_NAME;
/** @deprecated Import it from `@k6-platform/constructs/output`. */
export const BUNDLE_CHART_VERSION = bundle.BUNDLE_CHART_VERSION;
/** @deprecated Import it from `@k6-platform/constructs/output`. */
export const BUNDLE_HEADER = bundle.BUNDLE_HEADER;
/** @deprecated Import it from `@k6-platform/constructs/output`. */
export type HelmBundleProps = bundle.HelmBundleProps;
/** @deprecated Import it from `@k6-platform/constructs/output`. */
export const helmBundle = bundle.helmBundle;
/** @deprecated Import it from `@k6-platform/constructs/output`. */
export const writeHelmBundle = bundle.writeHelmBundle;
/** @deprecated Import it from `@k6-platform/constructs/output`. */
export const escapeTemplate = bundle.escapeTemplate;
