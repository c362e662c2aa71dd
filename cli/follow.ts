import { LABELS } from '../constructs/src/labels';
import type { JobClient, JobInfo, PodInfo, PodLister, RunnerControl } from './cluster';

/** k6's exit code when thresholds failed (a runner judged only its own segment). */
export const K6_THRESHOLDS_FAILED = 99;
/** Port of k6's REST API in runner pods (`--address=0.0.0.0:6565`). */
export const K6_API_PORT = 6565;
/** `app.kubernetes.io/component` of the runner Job and its pods. */
export const RUNNER_COMPONENT = 'runner';
/** `app.kubernetes.io/component` of the starter Job and its pod. */
export const STARTER_COMPONENT = 'starter';

/** Where the starter is. */
export type StarterState = 'waiting' | 'started' | 'failed';

/** A snapshot of a run, computed from its Jobs and Pods. */
export interface RunStatus {
  /** Runners the test asked for. */
  readonly runners: number;
  /** Runner pods not yet ready (scheduling, pulling, starting k6). */
  readonly pending: number;
  /** Runner pods running and ready (k6 REST API up; paused until the starter un-pauses them). */
  readonly ready: number;
  /** Runners that finished successfully. */
  readonly done: number;
  /** Runners that failed. */
  readonly failed: number;
  readonly starter: StarterState;
}

/** How a followed run ended. */
export type RunOutcome =
  | { readonly kind: 'completed'; readonly status: RunStatus; readonly detail: string }
  | { readonly kind: 'runner-failed'; readonly status: RunStatus; readonly detail: string }
  | { readonly kind: 'deadline-exceeded'; readonly status: RunStatus; readonly detail: string }
  | { readonly kind: 'starter-failed'; readonly status: RunStatus; readonly detail: string }
  | { readonly kind: 'vanished'; readonly status: RunStatus; readonly detail: string }
  | { readonly kind: 'interrupted'; readonly status: RunStatus; readonly detail: string; readonly stopErrors: readonly string[] };

/** Label selector of everything of one run. */
export function runSelector(runId: string): string {
  return `${LABELS.runId}=${runId}`;
}

const componentOf = (o: { metadata?: { labels?: Readonly<Record<string, string>> } }) => o.metadata?.labels?.[LABELS.component];
const condition = (job: JobInfo | undefined, type: string) => job?.status?.conditions?.find((c) => c.type === type && c.status === 'True');
const isReady = (pod: PodInfo) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const exitCodes = (pod: PodInfo) =>
  (pod.status?.containerStatuses ?? []).map((c) => c.state?.terminated?.exitCode).filter((c): c is number => c !== undefined);

/** The runner Job, the starter Job and the runner pods of a run, from lists filtered by run id. */
export function splitRun(jobs: readonly JobInfo[], pods: readonly PodInfo[]) {
  return {
    runnerJob: jobs.find((j) => componentOf(j) === RUNNER_COMPONENT),
    starterJob: jobs.find((j) => componentOf(j) === STARTER_COMPONENT),
    runnerPods: pods.filter((p) => componentOf(p) === RUNNER_COMPONENT),
  };
}

/** Computes the run's status from its Jobs and Pods (pure; the unit of the progress line). */
export function runStatus(runners: number, jobs: readonly JobInfo[], pods: readonly PodInfo[]): RunStatus {
  const { runnerJob, starterJob, runnerPods } = splitRun(jobs, pods);
  const done = runnerJob?.status?.succeeded ?? runnerPods.filter((p) => p.status?.phase === 'Succeeded').length;
  const failed = runnerJob?.status?.failed ?? runnerPods.filter((p) => p.status?.phase === 'Failed').length;
  const live = runnerPods.filter((p) => p.status?.phase === 'Running' || p.status?.phase === 'Pending');
  const ready = live.filter(isReady).length;
  const starter: StarterState =
    condition(starterJob, 'Failed') !== undefined
      ? 'failed'
      : condition(starterJob, 'Complete') !== undefined || (starterJob?.status?.succeeded ?? 0) > 0
        ? 'started'
        : 'waiting';
  return { runners, pending: Math.max(0, runners - ready - done - failed), ready, done, failed, starter };
}

/**
 * Decides whether the run is over, from one snapshot. A runner that exited with k6's threshold code (99) only judged
 * its own segment: the run still counts as completed, and the verdict over all runners decides.
 */
export function runOutcome(status: RunStatus, jobs: readonly JobInfo[], pods: readonly PodInfo[], seenJobs: boolean): RunOutcome | undefined {
  const { runnerJob, starterJob, runnerPods } = splitRun(jobs, pods);
  if (seenJobs && runnerJob === undefined) {
    return { kind: 'vanished', status, detail: 'the runner Job was deleted before the run ended' };
  }
  const runnerFailed = condition(runnerJob, 'Failed');
  if (runnerFailed?.reason === 'DeadlineExceeded') {
    return { kind: 'deadline-exceeded', status, detail: `runners exceeded their deadline: ${runnerFailed.message ?? 'DeadlineExceeded'}` };
  }
  if (runnerFailed !== undefined) {
    const failedPods = runnerPods.filter((p) => p.status?.phase === 'Failed');
    const codes = failedPods.flatMap(exitCodes);
    // The runner Job's podFailurePolicy fails the Job on k6's 99 (reason PodFailurePolicy, message naming the exit
    // code), which also ends the other runners: their own exit codes then say nothing about the test.
    const thresholdRule =
      runnerFailed.reason === 'PodFailurePolicy' && new RegExp(`exit code ${K6_THRESHOLDS_FAILED}\\b`).test(runnerFailed.message ?? '');
    if (thresholdRule || (failedPods.length > 0 && codes.length > 0 && codes.every((c) => c === K6_THRESHOLDS_FAILED))) {
      const n = Math.max(1, failedPods.filter((p) => exitCodes(p).includes(K6_THRESHOLDS_FAILED)).length);
      return { kind: 'completed', status, detail: `${n} runner(s) crossed thresholds on their own segment` };
    }
    const which = failedPods.map((p) => `${p.metadata?.name ?? '?'} (exit ${exitCodes(p).join(',') === '' ? '?' : exitCodes(p).join(',')})`);
    return {
      kind: 'runner-failed',
      status,
      detail: `runner Job failed: ${runnerFailed.reason ?? 'Failed'}${runnerFailed.message !== undefined ? ` (${runnerFailed.message})` : ''}${which.length ? `; failed pods: ${which.join(', ')}` : ''}`,
    };
  }
  const starterFailed = condition(starterJob, 'Failed');
  if (starterFailed !== undefined) {
    return {
      kind: 'starter-failed',
      status,
      detail: `the starter failed (${starterFailed.reason ?? 'Failed'}${starterFailed.message !== undefined ? `: ${starterFailed.message}` : ''}); runners never started`,
    };
  }
  if (condition(runnerJob, 'Complete') !== undefined) {
    return { kind: 'completed', status, detail: `${status.done} of ${status.runners} runners finished` };
  }
  return undefined;
}

/** What the follower needs: cluster reads, the stop call, a clock and a way to report progress. */
export interface FollowOptions {
  readonly cluster: JobClient & PodLister & RunnerControl;
  readonly namespace: string;
  readonly runId: string;
  /** Number of runners of the test (its parallelism). */
  readonly runners: number;
  /** Time between polls in milliseconds. @default 2000 */
  readonly pollIntervalMs?: number;
  /** Waits between polls; resolves early when `signal` aborts. @default - a timer */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Aborted on Ctrl-C: the follower stops the runners, deletes the Jobs and returns `interrupted`. */
  readonly signal?: AbortSignal;
  /** Called after every poll with the current status (the CLI draws the progress line from it). */
  readonly onStatus?: (status: RunStatus) => void | Promise<void>;
}

/** A timer that ends early when the signal aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Polls the run's Jobs and Pods until it ends (Complete or Failed runner Job, failed starter) or `signal` aborts.
 * On abort it stops every live runner through k6's REST API, then deletes the run's Jobs. When the starter fails the
 * runners would wait paused until their deadline, so their Jobs are deleted too.
 */
export async function followRun(opts: FollowOptions): Promise<RunOutcome> {
  const selector = runSelector(opts.runId);
  const sleep = opts.sleep ?? abortableSleep;
  let seenJobs = false;
  let last: RunStatus = { runners: opts.runners, pending: opts.runners, ready: 0, done: 0, failed: 0, starter: 'waiting' };
  for (;;) {
    if (opts.signal?.aborted) return interrupt(opts, selector, last);
    const [jobs, pods] = await Promise.all([opts.cluster.listJobs(opts.namespace, selector), opts.cluster.listPods(opts.namespace, selector)]);
    last = runStatus(opts.runners, jobs, pods);
    await opts.onStatus?.(last);
    const outcome = runOutcome(last, jobs, pods, seenJobs);
    if (outcome !== undefined) {
      if (outcome.kind === 'starter-failed') await opts.cluster.deleteJobs(opts.namespace, selector);
      return outcome;
    }
    seenJobs = seenJobs || jobs.length > 0;
    if (opts.signal?.aborted) return interrupt(opts, selector, last);
    await sleep(opts.pollIntervalMs ?? 2000, opts.signal);
  }
}

/** Stops the live runners (k6 stop call to each), then deletes the Jobs. Stop failures are reported, not fatal. */
export async function stopRun(
  cluster: JobClient & PodLister & RunnerControl,
  namespace: string,
  runId: string,
): Promise<{ readonly stopped: readonly string[]; readonly errors: readonly string[] }> {
  const selector = runSelector(runId);
  const pods = (await cluster.listPods(namespace, selector)).filter((p) => componentOf(p) === RUNNER_COMPONENT && p.status?.phase === 'Running');
  const names = pods.map((p) => p.metadata?.name).filter((n): n is string => n !== undefined);
  const results = await Promise.allSettled(names.map((n) => cluster.stopRunner(namespace, n, K6_API_PORT)));
  const errors = results.flatMap((r, i) => (r.status === 'rejected' ? [`${names[i]}: ${errorMessage(r.reason)}`] : []));
  await cluster.deleteJobs(namespace, selector);
  return { stopped: names.filter((_, i) => results[i]!.status === 'fulfilled'), errors };
}

async function interrupt(opts: FollowOptions, _selector: string, status: RunStatus): Promise<RunOutcome> {
  const { stopped, errors } = await stopRun(opts.cluster, opts.namespace, opts.runId);
  return {
    kind: 'interrupted',
    status,
    detail: `stopped ${stopped.length} runner(s) through k6's REST API and deleted the run's Jobs`,
    stopErrors: errors,
  };
}

/** The message of any thrown value. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
