/**
 * What the platform relies on about k6 and its runner pods: ports, the image's user, exit codes, the env names the
 * runner containers get. constructs/, cli/ and dashboards/ read these; nothing restates them.
 */

/** k6 REST API port of every runner (`--address 0.0.0.0:6565`). */
export const K6_API_PORT = 6565;

/**
 * Name of the k6 container of a runner pod, in both forms: the jobs form names it so, and the k6-operator v1.6.0
 * (pkg/resources/jobs/runner.go) names its runner container "k6" too. cAdvisor and kube-state-metrics label its series
 * with it.
 */
export const K6_CONTAINER = 'k6';

/** UID the official k6 image runs as (user `k6`); set numerically so `runAsNonRoot` can be verified. */
export const K6_IMAGE_UID = 12345;

/**
 * The k6 exit code for failed thresholds (k6 v1.7.1 errext/exitcodes/codes.go `ThresholdsHaveFailed`). Runners never
 * judge thresholds (`--no-thresholds`): the platform's verdict over all runners exits with it.
 */
export const K6_THRESHOLDS_FAILED_EXIT_CODE = 99;

/** k6's exit code when a signal stopped it (k6 v1.7.1 errext/exitcodes/codes.go `ExternalAbort`). */
export const K6_EXTERNAL_ABORT_EXIT_CODE = 105;

/**
 * What k6 v1.7.1's exit codes mean (errext/exitcodes/codes.go), for the message naming a failed runner; 137 and 143
 * are the kernel's SIGKILL and SIGTERM.
 */
export const K6_EXIT_CODES: Readonly<Record<number, string>> = {
  1: 'error',
  97: 'cloud test run failed',
  98: 'cloud progress lost',
  [K6_THRESHOLDS_FAILED_EXIT_CODE]: 'thresholds failed',
  100: 'setup() timed out',
  101: 'teardown() timed out',
  102: 'timed out',
  103: 'stopped through the REST API',
  104: 'invalid configuration',
  [K6_EXTERNAL_ABORT_EXIT_CODE]: 'aborted by a signal',
  106: 'could not start the REST API',
  107: 'script exception',
  108: 'aborted by test.abort()',
  109: 'Go panic',
  110: 'marked as failed by the script',
  137: 'killed (SIGKILL)',
  143: 'terminated (SIGTERM)',
};

/** Env var holding the runner's index (0-based) inside every runner container. */
export const RUNNER_INDEX_ENV = 'K6_PLATFORM_RUNNER_INDEX';
/** Env var holding the run id (the `testid` tag) inside every runner container. */
export const RUN_ID_ENV = 'K6_PLATFORM_RUN_ID';
/** Env var holding the number of runners inside every runner container. */
export const RUNNER_COUNT_ENV = 'K6_PLATFORM_RUNNERS';
