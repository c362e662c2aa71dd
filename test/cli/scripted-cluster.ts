import type { CrdInfo, JobInfo, KubeObject, PodInfo, RunCluster, TestRunInfo } from '../../cli/cluster';
import { followRun, RUNNER_COMPONENT, STARTER_COMPONENT, type RunStatus } from '../../cli/follow';
import { LABELS } from '../../constructs/src/labels';

/**
 * Scripted Job/Pod states of one run, as the API server reports them, and a {@link RunCluster} that replays one state
 * per poll and records every call.
 */
export const RUN = 'sample-20261125-120000';
export const NS = 'k6';

// ---------------------------------------------------------------------------------------------------------------
// Builders of Job/Pod states as the API server reports them
// ---------------------------------------------------------------------------------------------------------------

const labels = (component: string) => ({ [LABELS.runId]: RUN, [LABELS.test]: 'sample', [LABELS.component]: component });

export function runnerJob(status: JobInfo['status'] = {}): JobInfo {
  return { metadata: { name: `${RUN}-runner`, labels: labels(RUNNER_COMPONENT) }, spec: { parallelism: 2, completions: 2 }, status };
}
export function starterJob(status: JobInfo['status'] = {}): JobInfo {
  return { metadata: { name: `${RUN}-starter`, labels: labels(STARTER_COMPONENT) }, status };
}
export const cond = (type: string, reason?: string, message?: string) => ({
  type,
  status: 'True',
  ...(reason ? { reason } : {}),
  ...(message ? { message } : {}),
});

export function runnerPod(index: number, phase: string, opts: { ready?: boolean; exitCode?: number } = {}): PodInfo {
  return {
    metadata: { name: `${RUN}-runner-${index}-x`, labels: labels(RUNNER_COMPONENT) },
    status: {
      phase,
      conditions: [{ type: 'Ready', status: opts.ready ? 'True' : 'False' }],
      containerStatuses: [{ name: 'k6', state: opts.exitCode !== undefined ? { terminated: { exitCode: opts.exitCode } } : {} }],
    },
  };
}

export interface Step {
  readonly jobs: readonly JobInfo[];
  readonly pods: readonly PodInfo[];
  /** The TestRun as the API server reports it (mode "operator"); absent: there is none. */
  readonly testRun?: TestRunInfo;
  /** Runs after this step was read (e.g. a Ctrl-C). */
  readonly after?: () => void;
}

/** A cluster that replays one scripted state per poll and records every write. */
export function scriptedCluster(steps: readonly Step[], opts: { readonly crd?: CrdInfo } = {}) {
  let i = 0;
  const calls: string[] = [];
  const applied: KubeObject[] = [];
  const stopFailures = new Set<string>();
  const current = () => steps[Math.min(i, steps.length - 1)]!;
  const cluster: RunCluster = {
    description: 'scripted',
    apply: async (objects) => {
      calls.push('apply');
      applied.push(...objects);
    },
    listJobs: async (ns, sel) => {
      calls.push(`listJobs ${ns} ${sel}`);
      return current().jobs;
    },
    listPods: async (ns, sel) => {
      calls.push(`listPods ${ns} ${sel}`);
      return current().pods;
    },
    deleteJobs: async (ns, sel) => {
      calls.push(`deleteJobs ${ns} ${sel}`);
    },
    readCrd: async (name) => {
      calls.push(`readCrd ${name}`);
      return opts.crd;
    },
    getTestRun: async (ns, name) => {
      calls.push(`getTestRun ${ns} ${name}`);
      return current().testRun;
    },
    deleteTestRun: async (ns, name) => {
      calls.push(`deleteTestRun ${ns} ${name}`);
    },
    stopRunner: async (ns, pod, port) => {
      calls.push(`stop ${ns} ${pod} ${port}`);
      if (stopFailures.has(pod)) throw new Error('connection refused');
    },
  };
  const advance = async () => {
    current().after?.();
    i++;
  };
  return { cluster, calls, applied, advance, stopFailures };
}

export async function follow(steps: readonly Step[], signal?: AbortSignal) {
  const s = scriptedCluster(steps);
  const statuses: RunStatus[] = [];
  const outcome = await followRun({
    cluster: s.cluster,
    namespace: NS,
    runId: RUN,
    runners: 2,
    sleep: s.advance,
    ...(signal ? { signal } : {}),
    onStatus: (st) => void statuses.push(st),
  });
  return { outcome, statuses, calls: s.calls };
}

export const pending: Step = {
  jobs: [runnerJob({ active: 2 }), starterJob({ active: 1 })],
  pods: [runnerPod(0, 'Pending'), runnerPod(1, 'Pending')],
};
export const oneReady: Step = {
  jobs: [runnerJob({ active: 2, ready: 1 }), starterJob({ active: 1 })],
  pods: [runnerPod(0, 'Running', { ready: true }), runnerPod(1, 'Pending')],
};
export const running: Step = {
  jobs: [runnerJob({ active: 2, ready: 2 }), starterJob({ succeeded: 1, conditions: [cond('Complete')] })],
  pods: [runnerPod(0, 'Running', { ready: true }), runnerPod(1, 'Running', { ready: true })],
};
export const succeeded: Step = {
  jobs: [runnerJob({ succeeded: 2, conditions: [cond('Complete')] }), starterJob({ succeeded: 1, conditions: [cond('Complete')] })],
  pods: [runnerPod(0, 'Succeeded', { exitCode: 0 }), runnerPod(1, 'Succeeded', { exitCode: 0 })],
};
