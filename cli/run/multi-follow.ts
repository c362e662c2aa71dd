/**
 * Following a run over several clusters (docs/multi-cluster.md): apply every cluster's objects, wait until every
 * cluster's starter reports its runners ready (the gate), hand every cluster the same start time through its start
 * Job, read back when each resumed (the skew), then follow every cluster to the end. Whatever ends one cluster early
 * (a failure, the abortOnFail watch, Ctrl-C) stops all of them.
 */
import { LABELS, START_COMPONENT } from '@k6-platform/constructs/internal';
import type { JobInfo, PodInfo, RunCluster } from '../cluster/cluster';
import type { ClusterPlan } from './multi-plan';
import {
  abortableSleep,
  condition,
  errorMessage,
  followRun,
  runOutcome,
  runSelector,
  runStatus,
  STARTER_CONTAINER,
  stopRun,
  type FollowOptions,
  type RunOutcome,
  type RunStatus,
} from './follow';

/** One cluster of the run: its plan and its API. */
export interface ClusterRun extends ClusterPlan {
  readonly cluster: RunCluster;
}

/** When every cluster resumed its runners. */
export interface StartReport {
  /** The start time every cluster got (unix ms). */
  readonly startAt: number;
  /** Each cluster's resume time as its start Job measured it (unix ms, that cluster's clock), in cluster order. */
  readonly resumedAt: readonly number[];
  /** max - min of `resumedAt`. */
  readonly skewMs: number;
}

/** What following several clusters needs (the single-cluster follower's options, for all of them). */
export interface MultiFollowOptions extends Pick<FollowOptions, 'sleep' | 'pollIntervalMs' | 'stopWaitMs' | 'signal' | 'onStatus'> {
  readonly clusters: readonly ClusterRun[];
  readonly namespace: string;
  readonly runId: string;
  /** The clock (unix ms): start times are wall-clock times every cluster's starter compares with its own. */
  readonly now: () => number;
  /** How far ahead of the moment every cluster is ready the start time is. */
  readonly startLeadMs: number;
  /** How late a cluster may resume after the start time; later, its start Job resumes nothing and the run fails. */
  readonly maxLateMs: number;
  /** How long the clusters' runners may take to be ready (the test's startTimeout and some). */
  readonly readyTimeoutMs: number;
  /** Prints one line (the gate and the start). */
  readonly log: (line: string) => void;
}

/** A run's outcome over all clusters, with the start report once the clusters were started. */
export type MultiOutcome = RunOutcome & { readonly start?: StartReport };

const who = (c: ClusterPlan) => `cluster '${c.context}' (zone ${c.zone})`;
const componentOf = (p: PodInfo) => p.metadata?.labels?.[LABELS.component];

/** The sum of the clusters' statuses; the starter is started once every cluster's is. */
export function sumStatus(statuses: readonly RunStatus[]): RunStatus {
  const sum = (k: 'runners' | 'pending' | 'ready' | 'done' | 'failed') => statuses.reduce((a, s) => a + s[k], 0);
  const starter = statuses.some((s) => s.starter === 'failed') ? 'failed' : statuses.every((s) => s.starter === 'started') ? 'started' : 'waiting';
  return { runners: sum('runners'), pending: sum('pending'), ready: sum('ready'), done: sum('done'), failed: sum('failed'), starter };
}

/**
 * Applies every cluster's objects in turn; when one refuses, that cluster (which may hold some of them) and the ones
 * applied before are stopped again.
 */
async function applyAll(opts: MultiFollowOptions): Promise<void> {
  for (const [i, c] of opts.clusters.entries()) {
    try {
      await c.cluster.apply(c.plan.objects);
    } catch (e) {
      const stopped = await stopAll({ ...opts, clusters: opts.clusters.slice(0, i + 1) });
      throw new Error(
        `${who(c)}: ${errorMessage(e)}; ${i > 0 ? 'it and the clusters applied before were' : 'it was'} stopped${stopErrorsText(stopped)}`,
      );
    }
    opts.log(`${who(c)}: applied ${c.plan.objects.length} objects, ${c.runners} runner(s), range ${c.range}`);
  }
}

/** Stops the runners of every cluster (stop Job, then the Jobs deleted); the errors, each naming its cluster. */
async function stopAll(opts: Omit<MultiFollowOptions, 'signal'>): Promise<string[]> {
  const sleep = (ms: number) => (opts.sleep ?? abortableSleep)(ms);
  const results = await Promise.all(
    opts.clusters.map((c) =>
      stopRun({
        cluster: c.cluster,
        namespace: opts.namespace,
        runId: opts.runId,
        sleep,
        ...(c.plan.stopJob !== undefined ? { stopJob: c.plan.stopJob } : {}),
        ...(opts.pollIntervalMs !== undefined ? { pollIntervalMs: opts.pollIntervalMs } : {}),
        ...(opts.stopWaitMs !== undefined ? { stopWaitMs: opts.stopWaitMs } : {}),
      }).catch((e: unknown) => ({ stopped: false, errors: [errorMessage(e)] })),
    ),
  );
  return results.flatMap((r, i) => r.errors.map((e) => `${who(opts.clusters[i]!)}: ${e}`));
}

const stopErrorsText = (errors: readonly string[]) => (errors.length > 0 ? ` (${errors.join('; ')})` : '');

/** Ends the run before it started: every cluster stopped, the outcome naming why. */
async function failBeforeStart(opts: MultiFollowOptions, status: RunStatus, detail: string): Promise<MultiOutcome> {
  const errors = await stopAll(opts);
  if (opts.signal?.aborted === true) {
    return { kind: 'interrupted', status, detail: `stopped every cluster before the start: ${detail}`, stopErrors: errors };
  }
  return { kind: 'starter-failed', status, detail: `${detail}; every cluster was stopped${stopErrorsText(errors)}` };
}

type Poll = { readonly jobs: readonly JobInfo[]; readonly pods: readonly PodInfo[] };

/** One poll of every cluster: its Jobs and Pods; or, when a cluster's API failed, what failed, naming the cluster. */
async function pollAll(opts: MultiFollowOptions): Promise<Poll[] | string> {
  const selector = runSelector(opts.runId);
  const polls = await Promise.all(
    opts.clusters.map(async (c) => {
      try {
        const [jobs, pods] = await Promise.all([c.cluster.listJobs(opts.namespace, selector), c.cluster.listPods(opts.namespace, selector)]);
        return { jobs, pods };
      } catch (e) {
        return `${who(c)}: ${errorMessage(e)}`;
      }
    }),
  );
  const failed = polls.find((p) => typeof p === 'string');
  return failed ?? (polls as Poll[]);
}

/**
 * The gate: polls every cluster until each one's starter reports its runners ready (in a multi-cluster run the starter
 * beside runner 0 is ready, or has exited 0, once they are: it resumes nothing). Undefined when they all are, else
 * how the run ended (a failure in one cluster, the timeout, Ctrl-C).
 */
async function waitUntilReady(opts: MultiFollowOptions): Promise<MultiOutcome | undefined> {
  const sleep = opts.sleep ?? abortableSleep;
  const deadline = opts.now() + opts.readyTimeoutMs;
  let last = sumStatus(
    opts.clusters.map((c) => ({ runners: c.runners, pending: c.runners, ready: 0, done: 0, failed: 0, starter: 'waiting' as const })),
  );
  const seen = opts.clusters.map(() => false);
  for (;;) {
    if (opts.signal?.aborted === true) return failBeforeStart(opts, last, 'interrupted while waiting for the runners');
    const polls = await pollAll(opts);
    if (typeof polls === 'string') return failBeforeStart(opts, last, polls);
    const statuses = polls.map((p, i) => runStatus(opts.clusters[i]!.runners, p.jobs, p.pods));
    last = { ...sumStatus(statuses), starter: 'waiting' };
    await opts.onStatus?.(last);
    for (const [i, p] of polls.entries()) {
      const outcome = runOutcome(statuses[i]!, p.jobs, p.pods, seen[i]!);
      if (outcome !== undefined) return failBeforeStart(opts, last, `${who(opts.clusters[i]!)}: ${outcome.detail}`);
      seen[i] = seen[i]! || p.jobs.some((j) => j.metadata?.labels?.[LABELS.component] === 'runner');
    }
    if (statuses.every((s) => s.starter === 'started')) return undefined;
    if (opts.now() >= deadline) {
      const late = opts.clusters.filter((_, i) => statuses[i]!.starter !== 'started').map(who);
      return failBeforeStart(opts, last, `${late.join(', ')} not ready ${Math.round(opts.readyTimeoutMs / 1000)}s after the apply`);
    }
    await sleep(opts.pollIntervalMs ?? 2000, opts.signal);
  }
}

/** What a cluster's start Job says: its resume time, a failure, or nothing yet. */
export function startResult(jobs: readonly JobInfo[], pods: readonly PodInfo[]): { at: number } | { error: string } | undefined {
  const pod = pods.find((p) => componentOf(p) === START_COMPONENT);
  const t = pod?.status?.containerStatuses?.find((s) => s.name === STARTER_CONTAINER)?.state?.terminated;
  if (t !== undefined) {
    const at = /resumed-at=([0-9]+)/.exec(t.message ?? '');
    if (t.exitCode === 0 && at !== null) return { at: Number(at[1]) };
    return { error: `its start Job exited ${t.exitCode}${t.message !== undefined && t.message.trim() !== '' ? `: ${t.message.trim()}` : ''}` };
  }
  const failed = condition(
    jobs.find((j) => j.metadata?.labels?.[LABELS.component] === START_COMPONENT),
    'Failed',
  );
  return failed !== undefined
    ? { error: `its start Job failed: ${failed.reason ?? 'Failed'}${failed.message !== undefined ? ` (${failed.message})` : ''}` }
    : undefined;
}

/** Applies every cluster's start Job with one start time and waits for each one's resume time. */
async function startAll(opts: MultiFollowOptions): Promise<StartReport | MultiOutcome> {
  const startAt = opts.now() + opts.startLeadMs;
  const base = sumStatus(
    opts.clusters.map((c) => ({ runners: c.runners, pending: 0, ready: c.runners, done: 0, failed: 0, starter: 'waiting' as const })),
  );
  opts.log(`start: every cluster is ready; all resume at ${new Date(startAt).toISOString()} (start time + at most ${opts.maxLateMs} ms)`);
  // All at once: the start time is absolute, but a slow API server must not eat the others' lead.
  const refused = await Promise.all(
    opts.clusters.map((c) =>
      c.cluster.apply([c.plan.startJob!(startAt, opts.maxLateMs)]).then(
        () => undefined,
        (e: unknown) => `${who(c)}: start Job: ${errorMessage(e)}`,
      ),
    ),
  );
  const first = refused.find((e) => e !== undefined);
  if (first !== undefined) return failBeforeStart(opts, base, first);
  const sleep = opts.sleep ?? abortableSleep;
  // The start Job's pod has the lead to be scheduled; after the bound its starter resumes nothing and says so.
  const deadline = startAt + opts.maxLateMs + 60_000;
  const resumed: (number | undefined)[] = opts.clusters.map(() => undefined);
  for (;;) {
    if (opts.signal?.aborted === true) return failBeforeStart(opts, base, 'interrupted at the start');
    const polls = await pollAll(opts);
    if (typeof polls === 'string') return failBeforeStart(opts, base, polls);
    for (const [i, p] of polls.entries()) {
      const r = startResult(p.jobs, p.pods);
      if (r !== undefined && 'error' in r) {
        return failBeforeStart(opts, base, `${who(opts.clusters[i]!)} could not start within ${opts.maxLateMs} ms of the start time: ${r.error}`);
      }
      if (r !== undefined) resumed[i] = r.at;
    }
    if (resumed.every((r) => r !== undefined)) {
      const at = resumed as number[];
      return { startAt, resumedAt: at, skewMs: Math.max(...at) - Math.min(...at) };
    }
    if (opts.now() >= deadline) {
      const late = opts.clusters.filter((_, i) => resumed[i] === undefined).map(who);
      return failBeforeStart(opts, base, `${late.join(', ')} did not report a start by ${new Date(deadline).toISOString()}`);
    }
    await sleep(opts.pollIntervalMs ?? 2000, opts.signal);
  }
}

/** The line that reports the start: when each cluster resumed, relative to the earliest, and the skew. */
export function startLine(clusters: readonly ClusterPlan[], start: StartReport): string {
  const first = Math.min(...start.resumedAt);
  const each = clusters.map((c, i) => `${c.zone} +${start.resumedAt[i]! - first} ms`).join(', ');
  return `start: ${clusters.length} clusters resumed ${first - start.startAt} ms after the start time; skew ${start.skewMs} ms (${each})`;
}

/** Follows every cluster once started; the first that ends other than completed stops the others. */
async function followAll(opts: MultiFollowOptions, start: StartReport): Promise<MultiOutcome> {
  const local = new AbortController();
  const signal = opts.signal !== undefined ? AbortSignal.any([opts.signal, local.signal]) : local.signal;
  const statuses: RunStatus[] = opts.clusters.map((c) => ({
    runners: c.runners,
    pending: 0,
    ready: c.runners,
    done: 0,
    failed: 0,
    starter: 'started',
  }));
  const results = await Promise.all(
    opts.clusters.map(async (c, i): Promise<RunOutcome | string> => {
      const outcome = await followRun({
        cluster: c.cluster,
        namespace: opts.namespace,
        runId: opts.runId,
        runners: c.runners,
        ...(c.plan.stopJob !== undefined ? { stopJob: c.plan.stopJob } : {}),
        ...(opts.sleep !== undefined ? { sleep: opts.sleep } : {}),
        ...(opts.pollIntervalMs !== undefined ? { pollIntervalMs: opts.pollIntervalMs } : {}),
        ...(opts.stopWaitMs !== undefined ? { stopWaitMs: opts.stopWaitMs } : {}),
        signal,
        onStatus: async (s) => {
          statuses[i] = s;
          await opts.onStatus?.(sumStatus(statuses));
        },
      }).catch((e: unknown) => `${who(c)}: ${errorMessage(e)}`);
      // Whatever ends one cluster other than completed ends the others: their followers stop their runners.
      if (typeof outcome === 'string' || (outcome.kind !== 'completed' && outcome.kind !== 'interrupted')) local.abort();
      return outcome;
    }),
  );
  const broken = results.find((r) => typeof r === 'string');
  if (broken !== undefined) throw new Error(`${broken}; the other clusters were stopped`);
  const outcomes = results as RunOutcome[];
  return { ...combine(opts.clusters, outcomes, sumStatus(outcomes.map((o) => o.status))), start };
}

/** One outcome for all clusters: the first failure (the others were stopped), else an interruption, else completed. */
export function combine(clusters: readonly ClusterPlan[], outcomes: readonly RunOutcome[], status: RunStatus): RunOutcome {
  const failed = outcomes.findIndex((o) => o.kind !== 'completed' && o.kind !== 'interrupted');
  const stopErrors = outcomes.flatMap((o, i) => (o.kind === 'interrupted' ? o.stopErrors.map((e) => `${who(clusters[i]!)}: ${e}`) : []));
  if (failed >= 0) {
    const o = outcomes[failed]!;
    const others = outcomes.length > 1 ? `; the other clusters were stopped${stopErrorsText(stopErrors)}` : '';
    const detail = `${who(clusters[failed]!)}: ${o.detail}${others}`;
    if (o.kind === 'runner-failed') {
      const failures = outcomes.flatMap((x, i) => (x.kind === 'runner-failed' ? x.failures.map((f) => `${who(clusters[i]!)}: ${f}`) : []));
      return { kind: 'runner-failed', status, detail, failures };
    }
    return { ...o, status, detail };
  }
  const interrupted = outcomes.find((o) => o.kind === 'interrupted');
  if (interrupted !== undefined) return { kind: 'interrupted', status, detail: `every cluster: ${interrupted.detail}`, stopErrors };
  return { kind: 'completed', status, detail: `${status.done} of ${status.runners} runners finished in ${clusters.length} clusters` };
}

/** Runs a multi-cluster run from the apply to its end (see the file comment). */
export async function followClusters(opts: MultiFollowOptions): Promise<MultiOutcome> {
  await applyAll(opts);
  const gate = await waitUntilReady(opts);
  if (gate !== undefined) return gate;
  const start = await startAll(opts);
  if (!('skewMs' in start)) return start;
  opts.log(startLine(opts.clusters, start));
  return followAll(opts, start);
}
