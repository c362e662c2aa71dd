/**
 * Mode "operator": checking that the cluster's k6-operator can run our TestRun, and following a run by the TestRun's
 * `status.stage` and the Jobs and pods the operator creates. Progress, outcomes and exit codes are those of the jobs
 * form (cli/run/follow.ts); only where they come from differs.
 *
 * What the k6-operator v1.6.0 does (internal/controller/testrun_controller.go and k6_*.go, pkg/resources/jobs/*.go):
 * - stages: "" → `initialization` (initializer Job `<name>-initializer`: `k6 archive` + `k6 inspect`) → `initialized`
 *   → `created` (runner Jobs `<name>-1` … `<name>-N` and Services) → `started` (all runner pods Running and their
 *   REST API answering; starter Job `<name>-starter` created) → `stopped` (every runner Job has no active pod, failed
 *   or not) → `finished`; `error` when the spec is invalid, the initializer pod failed, or the script's max VUs are
 *   below the parallelism. With `cleanup: post` the operator deletes the TestRun (and so its Jobs) at `finished`/`error`.
 * - every Job and pod it creates has the labels `app: k6` and `k6_cr: <name>`; runner Jobs and pods also `runner:
 *   "true"`. The TestRun's runner/initializer/starter `metadata.labels` are added where they do not clash, so the
 *   platform's run-id and component labels are there too.
 * - Jobs have `backoffLimit: 0` and no deadline; a failed runner Job does not end the others, and the stage still
 *   moves on to `finished`.
 */
import { versions } from '@k6-platform/constructs/internal';
import type { Applier, CrdInfo, JobClient, JobInfo, OperatorClient, PodInfo, PodLister, TestRunInfo } from '../cluster/cluster';
import {
  abortableSleep,
  applyStopJob,
  applyStopJobAndWait,
  condition,
  describeFailures,
  errorMessage,
  runSelector,
  type FollowOptions,
  type RunOutcome,
  type RunStatus,
  type StarterState,
} from './follow';

/** Name of the TestRun CustomResourceDefinition. */
export const TESTRUN_CRD = 'testruns.k6.io';
/** The TestRun API version the platform writes. */
export const TESTRUN_VERSION = 'v1alpha1';
/** Stages after which no runner is running any more. */
const ENDED_STAGES = ['stopped', 'finished'];

/**
 * Why the cluster cannot run the platform's TestRuns, or `undefined` when it can: the CRD must exist, serve
 * v1alpha1, and have `spec.args` in its schema (k6-operator v1.6.0 on; the API server prunes unknown fields silently,
 * so an older operator would start runners without the output, the testid tag and the run config).
 */
export function testRunCrdProblem(crd: CrdInfo | undefined): string | undefined {
  const fix = `install k6-operator v${versions.k6OperatorMin} or newer with its CRDs, or set the test's 'mode' to "jobs"`;
  if (crd === undefined) {
    return `the cluster has no CustomResourceDefinition ${TESTRUN_CRD}, so the k6-operator is not installed: ${fix}`;
  }
  const version = crd.spec?.versions?.find((v) => v.name === TESTRUN_VERSION && v.served !== false);
  if (version === undefined) {
    const names = (crd.spec?.versions ?? []).map((v) => v.name);
    const served = names.length > 0 ? names.join(', ') : 'none';
    return `CustomResourceDefinition ${TESTRUN_CRD} serves no version ${TESTRUN_VERSION} (got: ${served}): ${fix}`;
  }
  if (version.schema?.openAPIV3Schema?.properties?.spec?.properties?.args === undefined) {
    return (
      `the installed CustomResourceDefinition ${TESTRUN_CRD} (${TESTRUN_VERSION}) has no 'spec.args', so its k6-operator is ` +
      `older than v${versions.k6OperatorMin} and would silently drop the runners' k6 arguments: upgrade the k6-operator ` +
      `to v${versions.k6OperatorMin} or newer with its CRDs, or set the test's 'mode' to "jobs"`
    );
  }
  return undefined;
}

/** Reads the TestRun CRD and throws when the cluster cannot run the test (see {@link testRunCrdProblem}). */
export async function requireTestRunCrd(cluster: OperatorClient, testName: string): Promise<void> {
  const problem = testRunCrdProblem(await cluster.readCrd(TESTRUN_CRD));
  if (problem !== undefined) throw new Error(`loadtest: test '${testName}' has mode "operator", but ${problem}`);
}

/** How an operator run can end besides the jobs form's outcomes: the operator set the stage `error`. */
export type OperatorRunOutcome = RunOutcome | { readonly kind: 'operator-error'; readonly status: RunStatus; readonly detail: string };

/** What the operator follower needs: {@link FollowOptions}, with a cluster that also reads TestRuns. `runId` is the TestRun's name. */
export interface OperatorFollowOptions extends Omit<FollowOptions, 'cluster'> {
  readonly cluster: JobClient & PodLister & Applier & OperatorClient;
}

/** Selector of every Job and pod the operator creates for TestRun `name` (k6-operator v1.6.0 pkg/resources/jobs/helpers.go newLabels). */
export function operatorSelector(name: string): string {
  return `app=k6,k6_cr=${name}`;
}

const labelsOf = (o: { metadata?: { labels?: Readonly<Record<string, string>> } }) => o.metadata?.labels ?? {};
const isRunner = (o: { metadata?: { labels?: Readonly<Record<string, string>> } }) => labelsOf(o).runner === 'true';
const jobFailed = (job: JobInfo) => condition(job, 'Failed') !== undefined || (job.status?.failed ?? 0) > 0;
const jobDone = (job: JobInfo) => !jobFailed(job) && (condition(job, 'Complete') !== undefined || (job.status?.succeeded ?? 0) > 0);
const isReady = (pod: PodInfo) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
/** The Job a pod belongs to (label set by the Job controller). */
const jobOf = (pod: PodInfo) => labelsOf(pod)['batch.kubernetes.io/job-name'] ?? labelsOf(pod)['job-name'];
const exitCodes = (pod: PodInfo) =>
  (pod.status?.containerStatuses ?? []).map((c) => c.state?.terminated?.exitCode).filter((c): c is number => c !== undefined);

/** The operator's Jobs and pods of one TestRun, by role. */
function splitOperatorRun(name: string, jobs: readonly JobInfo[], pods: readonly PodInfo[]) {
  return {
    runnerJobs: jobs.filter(isRunner),
    runnerPods: pods.filter(isRunner),
    initializerJob: jobs.find((j) => j.metadata?.name === `${name}-initializer`),
    initializerPods: pods.filter((p) => jobOf(p) === `${name}-initializer`),
    starterJob: jobs.find((j) => j.metadata?.name === `${name}-starter`),
  };
}

/** The run's status from the operator's Jobs and pods (pure; the same shape as the jobs form's, for the progress line). */
export function operatorRunStatus(name: string, runners: number, jobs: readonly JobInfo[], pods: readonly PodInfo[]): RunStatus {
  const { runnerJobs, runnerPods, starterJob } = splitOperatorRun(name, jobs, pods);
  const done = runnerJobs.filter(jobDone).length;
  const failed = runnerJobs.filter(jobFailed).length;
  const ready = runnerPods.filter((p) => (p.status?.phase === 'Running' || p.status?.phase === 'Pending') && isReady(p)).length;
  const starter: StarterState =
    condition(starterJob, 'Failed') !== undefined
      ? 'failed'
      : condition(starterJob, 'Complete') !== undefined || (starterJob?.status?.succeeded ?? 0) > 0
        ? 'started'
        : 'waiting';
  return { runners, pending: Math.max(0, runners - ready - done - failed), ready, done, failed, starter };
}

/** A stage for messages: the operator leaves it empty until its first reconcile. */
const orNone = (stage: string) => (stage === '' ? 'none yet' : stage);
const describeCondition = (c: { reason?: string; message?: string } | undefined, fallback: string) =>
  `${c?.reason ?? fallback}${c?.message !== undefined ? ` (${c.message})` : ''}`;
const describePods = (pods: readonly PodInfo[]) =>
  pods.map((p) => `${p.metadata?.name ?? '?'} (exit ${exitCodes(p).length > 0 ? exitCodes(p).join(',') : '?'})`).join(', ');

/**
 * Polls the TestRun and the operator's Jobs and pods until the run ends or `signal` aborts. Ends as:
 * - `completed` when the stage is `stopped`/`finished` (or every runner Job completed) and no runner Job failed;
 * - `runner-failed` as soon as a runner Job fails: the run's stop Job stops the other runners through k6's REST API
 *   (the jobs form's podFailurePolicy ends them too; the operator would let them run on);
 * - `starter-failed` when the starter Job fails: the TestRun is deleted (the runners would wait paused forever);
 * - `operator-error` when the operator sets the stage `error` (initializer failed, parallelism above the script's VUs);
 * - `vanished` when the TestRun, or its runner Jobs, are deleted before the runners ended;
 * - `interrupted` on abort: the run's stop Job stops the runners, and once their Jobs have ended (or after
 *   `stopWaitMs`) the TestRun is deleted.
 * The initializer Job, which exists before any runner Job, counts as part of the run, never as a vanished runner Job.
 */
export async function followOperatorRun(opts: OperatorFollowOptions): Promise<OperatorRunOutcome> {
  const name = opts.runId;
  const selector = operatorSelector(name);
  const sleep = opts.sleep ?? abortableSleep;
  let last: RunStatus = { runners: opts.runners, pending: opts.runners, ready: 0, done: 0, failed: 0, starter: 'waiting' };
  let lastStage = '';
  let seenRunnerJobs = false;
  for (;;) {
    if (opts.signal?.aborted) return interrupt(opts, selector, last);
    const [testRun, jobs, pods] = await Promise.all([
      opts.cluster.getTestRun(opts.namespace, name),
      opts.cluster.listJobs(opts.namespace, selector),
      opts.cluster.listPods(opts.namespace, selector),
    ]);
    const parts = splitOperatorRun(name, jobs, pods);
    // After the operator's `cleanup: post` the Jobs are going away: keep the status seen last.
    const status = parts.runnerJobs.length === 0 && seenRunnerJobs ? last : operatorRunStatus(name, opts.runners, jobs, pods);
    last = status;
    await opts.onStatus?.(status);
    const outcome = await decide(opts, testRun, parts, status, lastStage, seenRunnerJobs);
    if (outcome !== undefined) return outcome;
    lastStage = testRun?.status?.stage ?? lastStage;
    seenRunnerJobs = seenRunnerJobs || parts.runnerJobs.length > 0;
    if (opts.signal?.aborted) return interrupt(opts, selector, last);
    await sleep(opts.pollIntervalMs ?? 2000, opts.signal);
  }
}

async function decide(
  opts: OperatorFollowOptions,
  testRun: TestRunInfo | undefined,
  parts: ReturnType<typeof splitOperatorRun>,
  status: RunStatus,
  lastStage: string,
  seenRunnerJobs: boolean,
): Promise<OperatorRunOutcome | undefined> {
  const name = opts.runId;
  const { runnerJobs, runnerPods, initializerJob, initializerPods, starterJob } = parts;
  const ended = (detail: string): OperatorRunOutcome => ({ kind: 'completed', status, detail });
  const finishedDetail = `${status.done} of ${status.runners} runners finished`;

  const allRunnersDone = runnerJobs.length >= opts.runners && runnerJobs.every(jobDone);
  if (testRun === undefined) {
    // `cleanup: post` deletes the TestRun right after `finished`, and its Jobs after it: a poll may miss that stage.
    if (allRunnersDone) return ended(`${finishedDetail} (the operator removed the TestRun)`);
    return {
      kind: 'vanished',
      status,
      detail: `the TestRun ${name} was deleted before the run ended (last stage: ${orNone(lastStage)})`,
    };
  }
  const stage = testRun.status?.stage ?? '';

  const failedRunners = runnerJobs.filter(jobFailed);
  if (failedRunners.length > 0) {
    const failedPods = runnerPods.filter((p) => p.status?.phase === 'Failed');
    const live = runnerPods.filter((p) => p.status?.phase === 'Running');
    const stopErrors = live.length > 0 ? await stopTheOthers(opts) : [];
    const which = failedRunners.map((j) => `${j.metadata?.name ?? '?'}: ${describeCondition(condition(j, 'Failed'), 'Failed')}`);
    return {
      kind: 'runner-failed',
      status,
      failures: failedPods.length > 0 ? describeFailures(failedPods) : which,
      detail:
        `runner Job failed: ${which.join('; ')}` +
        (failedPods.length > 0 ? `; failed pods: ${describePods(failedPods)}` : '') +
        (live.length > 0 ? `; the stop Job asked the ${live.length} other runner(s) to stop` : '') +
        (stopErrors.length > 0 ? ` (${stopErrors.join(', ')})` : ''),
    };
  }

  if (stage === 'error') {
    const failedInit = initializerPods.filter((p) => p.status?.phase === 'Failed');
    const initFailed = condition(initializerJob, 'Failed') ?? (failedInit.length > 0 ? { reason: 'Failed' } : undefined);
    return {
      kind: 'operator-error',
      status,
      detail:
        initFailed !== undefined
          ? `the initializer (k6 archive + k6 inspect of the script) failed: ${describeCondition(initFailed, 'Failed')}` +
            `${failedInit.length > 0 ? `; pods: ${describePods(failedInit)}` : ''}; see kubectl -n ${opts.namespace} logs job/${name}-initializer`
          : `the k6-operator set TestRun ${name} to stage "error": an invalid spec, or a parallelism (${opts.runners}) above the ` +
            `script's maximum VUs (k6 inspect); see kubectl -n ${opts.namespace} describe testrun/${name} and the operator's log`,
    };
  }

  const starterFailed = condition(starterJob, 'Failed');
  if (starterFailed !== undefined) {
    // The operator has no start timeout: paused runners would wait forever.
    await opts.cluster.deleteTestRun(opts.namespace, name);
    return {
      kind: 'starter-failed',
      status,
      detail: `the starter failed (${describeCondition(starterFailed, 'Failed')}); runners never started, the TestRun was deleted`,
    };
  }

  if (ENDED_STAGES.includes(stage) || allRunnersDone) return ended(finishedDetail);

  if (seenRunnerJobs && runnerJobs.length === 0) {
    return { kind: 'vanished', status, detail: `the runner Jobs of TestRun ${name} were deleted before the run ended (stage ${orNone(stage)})` };
  }
  return undefined;
}

/** Applies the run's stop Job; problems are returned, not thrown. */
async function stopTheOthers(opts: OperatorFollowOptions): Promise<string[]> {
  if (opts.stopJob === undefined) return ['no stop Job: the runners run on until the TestRun is deleted'];
  const refused = await applyStopJob(opts.cluster, opts.stopJob);
  return refused === undefined ? [] : [refused];
}

/**
 * Ctrl-C: the stop Job asks every runner to stop through k6's REST API (k6 flushes its metrics); once the runner Jobs
 * have ended, or after `stopWaitMs`, the TestRun is deleted (its Jobs and pods go with it), and the stop Job too.
 */
async function interrupt(opts: OperatorFollowOptions, selector: string, status: RunStatus): Promise<OperatorRunOutcome> {
  let sawRunners = false;
  const runnersEnded = (jobs: readonly JobInfo[]) => {
    const runners = jobs.filter(isRunner);
    sawRunners = sawRunners || runners.length > 0;
    return runners.every((j) => jobFailed(j) || jobDone(j));
  };
  const sleep = (ms: number) => (opts.sleep ?? abortableSleep)(ms);
  const { ended, errors } =
    opts.stopJob === undefined
      ? { ended: false, errors: ['no stop Job: the runners run on until the TestRun is deleted'] }
      : await applyStopJobAndWait({ ...opts, sleep }, selector, runnersEnded, 'deleting the TestRun ends them');
  await opts.cluster.deleteTestRun(opts.namespace, opts.runId).catch((e: unknown) => errors.push(`deleting the TestRun: ${errorMessage(e)}`));
  await opts.cluster
    .deleteJobs(opts.namespace, runSelector(opts.runId))
    .catch((e: unknown) => errors.push(`deleting the stop Job: ${errorMessage(e)}`));
  return {
    kind: 'interrupted',
    status,
    detail: !ended
      ? 'deleted the TestRun (its Jobs and pods go with it)'
      : sawRunners
        ? "the stop Job asked every runner to stop through k6's REST API; they ended and the TestRun was deleted (its Jobs and pods go with it)"
        : 'no runner had started yet; the TestRun was deleted (its Jobs and pods go with it)',
    stopErrors: errors,
  };
}
