import { K6_EXIT_CODES, LABELS } from '@k6-platform/constructs/internal';
import { COMPLETION_INDEX_ANNOTATION, K6_CONTAINER, STARTER_CONTAINER, STOPPER_COMPONENT } from '@k6-platform/constructs/internal';
import type { Applier, JobClient, JobInfo, KubeObject, PodInfo, PodLister } from '../cluster/cluster';

/** `app.kubernetes.io/component` of the runner Job and its pods. */
export const RUNNER_COMPONENT = 'runner';
export { COMPLETION_INDEX_ANNOTATION, K6_CONTAINER, STARTER_CONTAINER };

/** Where the starter is. */
export type StarterState = 'waiting' | 'started' | 'failed';

/** A snapshot of a run, computed from its Jobs and Pods. */
export interface RunStatus {
  /** Runners the test asked for. */
  readonly runners: number;
  /** Runner pods not yet ready (scheduling, pulling, starting k6). */
  readonly pending: number;
  /** Runner pods running with k6 ready (REST API up; paused until the starter resumes them). */
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
  | {
      readonly kind: 'runner-failed';
      readonly status: RunStatus;
      readonly detail: string;
      /** One line per failed runner or container, as its pod says (the verdict's validity reasons). */
      readonly failures: readonly string[];
    }
  | { readonly kind: 'deadline-exceeded'; readonly status: RunStatus; readonly detail: string }
  | { readonly kind: 'starter-failed'; readonly status: RunStatus; readonly detail: string }
  | { readonly kind: 'vanished'; readonly status: RunStatus; readonly detail: string }
  | { readonly kind: 'interrupted'; readonly status: RunStatus; readonly detail: string; readonly stopErrors: readonly string[] };

/** Label selector of everything of one run. */
export function runSelector(runId: string): string {
  return `${LABELS.runId}=${runId}`;
}

type ContainerStatus = NonNullable<NonNullable<PodInfo['status']>['containerStatuses']>[number];

const componentOf = (o: { metadata?: { labels?: Readonly<Record<string, string>> } }) => o.metadata?.labels?.[LABELS.component];
/** The Job's condition `type` when it is True (Complete, Failed, ...). */
export const condition = (job: JobInfo | undefined, type: string) => job?.status?.conditions?.find((c) => c.type === type && c.status === 'True');
const container = (pod: PodInfo | undefined, name: string): ContainerStatus | undefined =>
  pod?.status?.containerStatuses?.find((c) => c.name === name);
const runnerIndex = (pod: PodInfo) => pod.metadata?.annotations?.[COMPLETION_INDEX_ANNOTATION];
const k6Ready = (pod: PodInfo) => container(pod, K6_CONTAINER)?.ready === true;

/** The runner Job and the runner pods of a run, from lists filtered by run id. */
export function splitRun(jobs: readonly JobInfo[], pods: readonly PodInfo[]) {
  const runnerPods = pods.filter((p) => componentOf(p) === RUNNER_COMPONENT);
  return {
    runnerJob: jobs.find((j) => componentOf(j) === RUNNER_COMPONENT),
    runnerPods,
    /** Runner 0's pod: its second container is the starter. */
    firstRunner: runnerPods.find((p) => runnerIndex(p) === '0'),
  };
}

/** The starter container beside runner 0: ready once every runner is resumed; its exit code says how it ended. */
function starterState(firstRunner: PodInfo | undefined, runnerJob: JobInfo | undefined): StarterState {
  const s = container(firstRunner, STARTER_CONTAINER);
  const exit = s?.state?.terminated?.exitCode;
  if (exit !== undefined) return exit === 0 ? 'started' : 'failed';
  if (s?.ready === true || condition(runnerJob, 'Complete') !== undefined) return 'started';
  return 'waiting';
}

/** Computes the run's status from its Jobs and Pods (pure; the unit of the progress line). */
export function runStatus(runners: number, jobs: readonly JobInfo[], pods: readonly PodInfo[]): RunStatus {
  const { runnerJob, runnerPods, firstRunner } = splitRun(jobs, pods);
  const done = runnerJob?.status?.succeeded ?? runnerPods.filter((p) => p.status?.phase === 'Succeeded').length;
  const failed = runnerJob?.status?.failed ?? runnerPods.filter((p) => p.status?.phase === 'Failed').length;
  const ready = runnerPods.filter((p) => p.status?.phase === 'Running' && k6Ready(p)).length;
  const starter = starterState(firstRunner, runnerJob);
  return { runners, pending: Math.max(0, runners - ready - done - failed), ready, done, failed, starter };
}

/** One line per container that failed: runner index, pod, container, exit code and what it means, reason, message. */
export function describeFailures(pods: readonly PodInfo[]): string[] {
  const lines: string[] = [];
  let signalled = 0;
  for (const pod of pods) {
    const who = `runner ${runnerIndex(pod) ?? '?'} (${pod.metadata?.name ?? '?'})`;
    const disruption = pod.status?.conditions?.find((c) => c.type === 'DisruptionTarget' && c.status === 'True');
    for (const c of pod.status?.containerStatuses ?? []) {
      const t = c.state?.terminated;
      if (t === undefined || t.exitCode === 0) continue;
      // The Job controller ends the other runners once one failed: k6 then exits 105 on SIGTERM. Counted, not listed.
      if (c.name === K6_CONTAINER && t.exitCode === 105 && disruption === undefined) {
        signalled++;
        continue;
      }
      const meaning = c.name === K6_CONTAINER ? K6_EXIT_CODES[t.exitCode] : t.exitCode === 137 ? K6_EXIT_CODES[137] : undefined;
      const parts = [`${who}: ${c.name} exited ${t.exitCode}${meaning !== undefined ? ` (${meaning})` : ''}`];
      if (t.reason !== undefined && t.reason !== 'Error' && t.reason !== 'Completed') parts.push(t.reason);
      if (t.message !== undefined && t.message.trim() !== '') parts.push(t.message.trim());
      lines.push(parts.join(': '));
    }
    if (disruption !== undefined) {
      lines.push(
        `${who}: disrupted (${disruption.reason ?? 'DisruptionTarget'}${disruption.message !== undefined ? `: ${disruption.message}` : ''})`,
      );
    }
  }
  if (signalled > 0) lines.push(`${signalled} other runner(s) were stopped when the run failed (k6 exit 105)`);
  return lines;
}

/**
 * Decides whether the run is over, from one snapshot. Runners never judge thresholds, so any failure of the runner Job
 * is a real failure (crash, OOM kill, script error, disruption, deadline); the starter failing (readiness timeout,
 * setup() or teardown() failed) fails the Job through its pod failure policy and is named as such.
 */
export function runOutcome(status: RunStatus, jobs: readonly JobInfo[], pods: readonly PodInfo[], seenRunnerJob: boolean): RunOutcome | undefined {
  const { runnerJob, runnerPods, firstRunner } = splitRun(jobs, pods);
  if (seenRunnerJob && runnerJob === undefined) {
    return { kind: 'vanished', status, detail: 'the runner Job was deleted before the run ended' };
  }
  const starter = container(firstRunner, STARTER_CONTAINER)?.state?.terminated;
  if (starter !== undefined && starter.exitCode !== 0) {
    const message = starter.message?.trim();
    return {
      kind: 'starter-failed',
      status,
      detail: `the starter failed (exit ${starter.exitCode})${message !== undefined && message !== '' ? `: ${message}` : ''}`,
    };
  }
  const runnerFailed = condition(runnerJob, 'Failed');
  if (runnerFailed?.reason === 'DeadlineExceeded') {
    return { kind: 'deadline-exceeded', status, detail: `runners exceeded their deadline: ${runnerFailed.message ?? 'DeadlineExceeded'}` };
  }
  if (runnerFailed !== undefined) {
    const failures = describeFailures(runnerPods);
    return {
      kind: 'runner-failed',
      status,
      failures,
      detail: `runner Job failed: ${runnerFailed.reason ?? 'Failed'}${runnerFailed.message !== undefined ? ` (${runnerFailed.message})` : ''}${failures.length ? `; ${failures.join('; ')}` : ''}`,
    };
  }
  if (condition(runnerJob, 'Complete') !== undefined) {
    return { kind: 'completed', status, detail: `${status.done} of ${status.runners} runners finished` };
  }
  return undefined;
}

/** What the follower needs: cluster reads, apply (for the stop Job), a clock and a way to report progress. */
export interface FollowOptions {
  readonly cluster: JobClient & PodLister & Applier;
  readonly namespace: string;
  readonly runId: string;
  /** Number of runners of the test (its parallelism). */
  readonly runners: number;
  /** The Job that stops the run, applied on Ctrl-C (LoadTest `stopJobManifest()`). @default - none: the Jobs are deleted */
  readonly stopJob?: KubeObject;
  /** Time between polls in milliseconds. @default 2000 */
  readonly pollIntervalMs?: number;
  /** How long to wait for the runners to end after the stop Job. @default 90000 */
  readonly stopWaitMs?: number;
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
 * Polls the run's Jobs and Pods until it ends (Complete or Failed runner Job, failed starter) or `signal` aborts. On
 * abort it stops the runners with the run's stop Job, waits for them to end (k6 flushes its metrics), then deletes
 * the run's Jobs.
 */
export async function followRun(opts: FollowOptions): Promise<RunOutcome> {
  const selector = runSelector(opts.runId);
  const sleep = opts.sleep ?? abortableSleep;
  let seenRunnerJob = false;
  let last: RunStatus = { runners: opts.runners, pending: opts.runners, ready: 0, done: 0, failed: 0, starter: 'waiting' };
  for (;;) {
    if (opts.signal?.aborted) return interrupt(opts, last);
    const [jobs, pods] = await Promise.all([opts.cluster.listJobs(opts.namespace, selector), opts.cluster.listPods(opts.namespace, selector)]);
    last = runStatus(opts.runners, jobs, pods);
    await opts.onStatus?.(last);
    const outcome = runOutcome(last, jobs, pods, seenRunnerJob);
    if (outcome?.kind === 'starter-failed') {
      // The starter asked every runner to stop; one that did not get the call (still initialising, unreachable) would
      // keep runner 0's pod, and so the run, alive: a pod fails only once all its containers have ended. So the stop
      // Job asks again; the Jobs are kept for `kubectl logs` once the runners ended, and deleted when they did not.
      const { ended, errors } = await applyStopJobAndWait(
        { ...opts, sleep: (ms: number) => sleep(ms) },
        selector,
        runnerJobEnded,
        'deleting their Jobs',
      );
      if (ended) return outcome;
      await opts.cluster.deleteJobs(opts.namespace, selector).catch((e: unknown) => errors.push(`deleting the Jobs: ${errorMessage(e)}`));
      return { ...outcome, detail: `${outcome.detail}; the run's Jobs were deleted${errors.length > 0 ? ` (${errors.join('; ')})` : ''}` };
    }
    if (outcome !== undefined) return outcome;
    seenRunnerJob = seenRunnerJob || splitRun(jobs, pods).runnerJob !== undefined;
    if (opts.signal?.aborted) return interrupt(opts, last);
    await sleep(opts.pollIntervalMs ?? 2000, opts.signal);
  }
}

/** Whether the runner Job of a run (mode "jobs") has ended, or is gone. */
function runnerJobEnded(jobs: readonly JobInfo[]): boolean {
  const runner = jobs.find((j) => componentOf(j) === RUNNER_COMPONENT);
  return runner === undefined || condition(runner, 'Complete') !== undefined || condition(runner, 'Failed') !== undefined;
}

/** Applies a run's stop Job; resolves to what went wrong, or undefined. */
export async function applyStopJob(cluster: Applier, stopJob: KubeObject): Promise<string | undefined> {
  try {
    await cluster.apply([stopJob]);
    return undefined;
  } catch (e) {
    return `stop Job: ${errorMessage(e)}`;
  }
}

/** What applying a stop Job and waiting for the runners needs. */
export type StopOptions = Pick<FollowOptions, 'cluster' | 'namespace' | 'runId' | 'stopJob' | 'pollIntervalMs' | 'stopWaitMs'> & {
  /** A plain timer (the Ctrl-C signal is already aborted when a stop begins). @default - a timer */
  readonly sleep?: (ms: number) => Promise<void>;
};

/**
 * Applies the run's stop Job (which asks every runner to stop through k6's REST API from inside the namespace) and
 * polls the run's Jobs (`selector`) until `ended` says the runners are done, or `stopWaitMs` passed. Used by both run
 * forms. Problems are returned, not thrown: `afterTimeout` says what happens to runners that did not end.
 */
export async function applyStopJobAndWait(
  opts: StopOptions,
  selector: string,
  ended: (jobs: readonly JobInfo[]) => boolean,
  afterTimeout: string,
): Promise<{ readonly ended: boolean; readonly errors: string[] }> {
  if (opts.stopJob === undefined) return { ended: false, errors: [] };
  const refused = await applyStopJob(opts.cluster, opts.stopJob);
  if (refused !== undefined) return { ended: false, errors: [refused] };
  const sleep = opts.sleep ?? ((ms: number) => abortableSleep(ms));
  const interval = opts.pollIntervalMs ?? 2000;
  const deadline = opts.stopWaitMs ?? 90_000;
  for (let waited = 0; ; waited += interval) {
    if (ended(await opts.cluster.listJobs(opts.namespace, selector))) return { ended: true, errors: [] };
    if (waited >= deadline)
      return { ended: false, errors: [`runners still running ${Math.round(deadline / 1000)}s after the stop request; ${afterTimeout}`] };
    await sleep(interval);
  }
}

/**
 * Stops a run of mode "jobs": applies its stop Job, waits until the runner Job has ended or `stopWaitMs` passed, then
 * deletes the run's Jobs (runners, stop Job) with their pods. Without a stop Job the Jobs are deleted at once
 * (Kubernetes ends the pods with SIGTERM, on which k6 also stops and flushes). Problems are reported, not thrown.
 */
export async function stopRun(opts: StopOptions): Promise<{ readonly stopped: boolean; readonly errors: readonly string[] }> {
  const selector = runSelector(opts.runId);
  const { ended, errors } = await applyStopJobAndWait(opts, selector, runnerJobEnded, 'deleting their Jobs ends them');
  try {
    await opts.cluster.deleteJobs(opts.namespace, selector);
  } catch (e) {
    errors.push(`deleting the Jobs: ${errorMessage(e)}`);
  }
  return { stopped: ended, errors };
}

async function interrupt(opts: FollowOptions, status: RunStatus): Promise<RunOutcome> {
  // The Ctrl-C signal is already aborted: wait with a plain timer.
  const { stopped, errors } = await stopRun({ ...opts, sleep: (ms: number) => (opts.sleep ?? abortableSleep)(ms) });
  return {
    kind: 'interrupted',
    status,
    detail: stopped
      ? `the stop Job (${STOPPER_COMPONENT}) asked every runner to stop through k6's REST API; they ended and the run's Jobs were deleted`
      : "deleted the run's Jobs",
    stopErrors: errors,
  };
}

/** The message of any thrown value. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
