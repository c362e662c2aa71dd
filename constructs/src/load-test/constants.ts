import { platformConfigSchema, type ResourceRequirements } from '../config/platform-config';
import { RUN_TAGS } from '../contract/labels';
import { classicTrendStats } from '../k6/thresholds';

/**
 * The platform config's `runner` section with every default of its schema applied: the one source of the runner-wide
 * defaults (resources, push interval, native histograms) that LoadTest falls back to when its props leave them out.
 */
export const RUNNER_CONFIG_DEFAULTS = platformConfigSchema.shape.runner.parse({});
/** uid/gid of the `k6` user of the official grafana/k6 image (the pod must name a numeric non-root user). */
export const RUNNER_UID = 12345;
/** uid/gid of the `curl_user` of the curlimages/curl image the starter runs. */
export const STARTER_UID = 100;
/** Where runners mount the run's k6 config files (one per runner: segment, thresholds, setup switches). */
export const RUN_CONFIG_MOUNT_PATH = '/etc/k6-platform';
/** Label value (`app.kubernetes.io/component`) of the short Job `loadtest run` starts on Ctrl-C to stop the runners. */
export const STOPPER_COMPONENT = 'stopper';
/** Label value of the short Job `loadtest run` applies in each cluster of a multi-cluster run to resume its runners at the shared start time. */
export const START_COMPONENT = 'start';
/** Run tag (and Prometheus label) naming the cluster a runner of a multi-cluster run ran in. */
export const ZONE_TAG = 'zone';
/** Run tag (and Prometheus label) naming the test of a run: maps a run to its test without parsing the run id. */
export const TEST_TAG = RUN_TAGS.test;
/**
 * Trend stats runners send in classic mode (native histograms off) at the least: the ones the classic dashboard reads.
 * Each test adds what its thresholds need ({@link classicTrendStats}); k6's default is only `p(99)`.
 */
export const CLASSIC_TREND_STATS: string = classicTrendStats().join(',');
/** Size limit of the /tmp emptyDir of runners (k6 and the operator's initializer write there). */
export const TMP_SIZE_LIMIT = '256Mi';
/** Size limit of the starter's state directory (setup() data passes through it). */
export const STARTER_TMP_SIZE_LIMIT = '64Mi';
/** Requests and limits of a runner when neither the test nor `runner.resources` sets any (the config's own default). */
export const DEFAULT_RUNNER_RESOURCES: ResourceRequirements = RUNNER_CONFIG_DEFAULTS.resources;
/** Requests and limits of the starter and stop containers (ours, and the operator's starter through TestRun `spec.starter.resources`). */
export const STARTER_RESOURCES: ResourceRequirements = { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '200m', memory: '64Mi' } };
/** Pod annotation the Job controller sets on Indexed Job pods (Kubernetes batch/v1 `JobCompletionIndexAnnotation`). */
export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
export { K6_CONTAINER } from '../contract/k6';
/** Name of the starter container beside runner 0 (mode "jobs"), and of the stop Job's container. */
export const STARTER_CONTAINER = 'starter';
/** Pod label the Job controller sets to the Job's name (Kubernetes >= 1.27). */
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
