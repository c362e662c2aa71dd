import type { CrdInfo, JobInfo, KubeObject, PodInfo, RunCluster, TestRunInfo } from '../../cli/cluster/cluster';
import { COMPLETION_INDEX_ANNOTATION, followRun, RUNNER_COMPONENT, type RunStatus } from '../../cli/run/follow';
import { LABELS } from '../../constructs/src/contract/labels';

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
export const cond = (type: string, reason?: string, message?: string) => ({
  type,
  status: 'True',
  ...(reason ? { reason } : {}),
  ...(message ? { message } : {}),
});

/** The state of one container as the kubelet reports it (core/v1 ContainerStatus). */
export type ContainerState = 'waiting' | 'running' | 'ready' | { readonly exitCode: number; readonly reason?: string; readonly message?: string };

/**
 * A runner pod of the Indexed Job as the API server reports it: the Job controller's completion-index annotation, the
 * k6 container and the starter container beside it (in pods other than 0 the starter exits 0 at once).
 */
export function runnerPod(
  index: number,
  phase: string,
  opts: { ready?: boolean; exitCode?: number; reason?: string; starter?: ContainerState; disruption?: { reason: string; message: string } } = {},
): PodInfo {
  const status = (name: string, st: ContainerState) => ({
    name,
    ready: st === 'ready',
    state:
      typeof st === 'object'
        ? { terminated: { exitCode: st.exitCode, ...(st.reason ? { reason: st.reason } : {}), ...(st.message ? { message: st.message } : {}) } }
        : st === 'waiting'
          ? { waiting: { reason: 'ContainerCreating' } }
          : {},
  });
  const k6: ContainerState =
    opts.exitCode !== undefined
      ? { exitCode: opts.exitCode, reason: opts.reason ?? (opts.exitCode === 0 ? 'Completed' : 'Error') }
      : opts.ready
        ? 'ready'
        : phase === 'Pending'
          ? 'waiting'
          : 'running';
  const starter: ContainerState =
    opts.starter ?? (index === 0 ? (phase === 'Pending' ? 'waiting' : 'running') : { exitCode: 0, reason: 'Completed' });
  return {
    metadata: { name: `${RUN}-runner-${index}-x`, labels: labels(RUNNER_COMPONENT), annotations: { [COMPLETION_INDEX_ANNOTATION]: String(index) } },
    status: {
      phase,
      conditions: [
        { type: 'Ready', status: k6 === 'ready' && (starter === 'ready' || typeof starter === 'object') ? 'True' : 'False' },
        ...(opts.disruption ? [{ type: 'DisruptionTarget', status: 'True', ...opts.disruption }] : []),
      ],
      containerStatuses: [status('k6', k6), status('starter', starter)],
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
  const current = () => steps[Math.min(i, steps.length - 1)]!;
  const cluster: RunCluster = {
    description: 'scripted',
    apply: async (objects) => {
      calls.push(`apply ${objects.map((o) => `${o.kind}/${o.metadata.name ?? '?'}`).join(' ')}`);
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
  };
  const advance = async () => {
    current().after?.();
    i++;
  };
  return { cluster, calls, applied, advance };
}

/** The stop Job as the LoadTest construct builds it (only its identity matters to the follower). */
export const STOP_JOB: KubeObject = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: `${RUN}-stop`, namespace: NS, labels: labels('stopper') },
};

export async function follow(steps: readonly Step[], signal?: AbortSignal, stopJob?: KubeObject) {
  const s = scriptedCluster(steps);
  const statuses: RunStatus[] = [];
  const outcome = await followRun({
    cluster: s.cluster,
    namespace: NS,
    runId: RUN,
    runners: 2,
    sleep: s.advance,
    ...(signal ? { signal } : {}),
    ...(stopJob ? { stopJob } : {}),
    onStatus: (st) => void statuses.push(st),
  });
  return { outcome, statuses, calls: s.calls };
}

export const pending: Step = {
  jobs: [runnerJob({ active: 2 })],
  pods: [runnerPod(0, 'Pending'), runnerPod(1, 'Pending')],
};
export const oneReady: Step = {
  jobs: [runnerJob({ active: 2, ready: 0 })],
  pods: [runnerPod(0, 'Running', { ready: true }), runnerPod(1, 'Pending')],
};
/** Every runner resumed: the starter beside runner 0 turned ready (setup once: it stays until teardown). */
export const running: Step = {
  jobs: [runnerJob({ active: 2, ready: 2 })],
  pods: [runnerPod(0, 'Running', { ready: true, starter: 'ready' }), runnerPod(1, 'Running', { ready: true })],
};
export const succeeded: Step = {
  jobs: [runnerJob({ succeeded: 2, conditions: [cond('SuccessCriteriaMet'), cond('Complete')] })],
  pods: [runnerPod(0, 'Succeeded', { exitCode: 0, starter: { exitCode: 0, reason: 'Completed' } }), runnerPod(1, 'Succeeded', { exitCode: 0 })],
};
