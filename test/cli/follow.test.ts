import { describeFailures, followRun, runSelector, runStatus, stopRun } from '../../cli/run/follow';
import {
  cond,
  follow,
  NS,
  oneReady,
  pending,
  RUN,
  runnerJob,
  runnerPod,
  running,
  scriptedCluster,
  STOP_JOB,
  succeeded,
  type Step,
} from './scripted-cluster';

// The Job and Pod states below are what the API server reports (Kubernetes batch/v1 JobStatus conditions, core/v1
// ContainerStatus): the Job controller's "FailureTarget"/"Failed" conditions with reason PodFailurePolicy and the
// message "Container <c> for pod <ns>/<pod> failed with exit code <n> matching FailJob rule at index <i>"
// (kubernetes pkg/controller/job/pod_failure_policy.go), and k6's exit codes (k6 v1.7.1 errext/exitcodes/codes.go).

describe('runStatus', () => {
  test('counts pending, ready, done and failed runners from the k6 containers, and the starter beside runner 0', () => {
    // GIVEN runner 0's k6 ready, runner 1 still pulling; the starter waits for it
    // WHEN
    const s = runStatus(2, oneReady.jobs, oneReady.pods);
    // THEN
    expect(s).toEqual({ runners: 2, pending: 1, ready: 1, done: 0, failed: 0, starter: 'waiting' });
  });

  test('the starter is "started" once its container is ready (every runner resumed), though runner 0 still runs', () => {
    // GIVEN / WHEN
    const s = runStatus(2, running.jobs, running.pods);
    // THEN
    expect(s).toEqual({ runners: 2, pending: 0, ready: 2, done: 0, failed: 0, starter: 'started' });
  });

  test('reads done and failed from the runner Job status', () => {
    // GIVEN
    const jobs = [runnerJob({ succeeded: 3, failed: 1, conditions: [cond('Complete')] })];
    // WHEN
    const s = runStatus(4, jobs, []);
    // THEN
    expect(s).toEqual({ runners: 4, pending: 0, ready: 0, done: 3, failed: 1, starter: 'started' });
  });
});

describe('followRun', () => {
  test('pending -> running -> succeeded ends as completed, reporting every state on the way', async () => {
    // GIVEN / WHEN
    const { outcome, statuses, calls } = await follow([pending, oneReady, running, succeeded]);
    // THEN
    expect(outcome.kind).toBe('completed');
    expect(outcome.detail).toBe('2 of 2 runners finished');
    expect(statuses).toEqual([
      { runners: 2, pending: 2, ready: 0, done: 0, failed: 0, starter: 'waiting' },
      { runners: 2, pending: 1, ready: 1, done: 0, failed: 0, starter: 'waiting' },
      { runners: 2, pending: 0, ready: 2, done: 0, failed: 0, starter: 'started' },
      { runners: 2, pending: 0, ready: 0, done: 2, failed: 0, starter: 'started' },
    ]);
    expect(calls.filter((c) => c.startsWith('listJobs'))).toEqual(Array(4).fill(`listJobs ${NS} ${runSelector(RUN)}`));
    expect(calls.some((c) => c.startsWith('delete') || c.startsWith('apply'))).toBe(false);
  });

  test('a script exception on one runner fails the run, naming the runner, its exit code and what it means', async () => {
    // GIVEN runner 1 exits 107; the FailJob rule ends runner 0, whose k6 exits 105 on the SIGTERM
    const message = `Container k6 for pod ${NS}/${RUN}-runner-1-x failed with exit code 107 matching FailJob rule at index 0`;
    const failed: Step = {
      jobs: [runnerJob({ failed: 2, conditions: [cond('FailureTarget', 'PodFailurePolicy', message), cond('Failed', 'PodFailurePolicy', message)] })],
      pods: [
        runnerPod(0, 'Failed', { exitCode: 105, starter: { exitCode: 0 } }),
        runnerPod(1, 'Failed', { exitCode: 107, reason: 'Error', starter: { exitCode: 0 } }),
      ],
    };
    // WHEN
    const { outcome } = await follow([pending, running, failed]);
    // THEN
    expect(outcome.kind).toBe('runner-failed');
    expect(outcome.detail).toBe(
      `runner Job failed: PodFailurePolicy (${message}); runner 1 (${RUN}-runner-1-x): k6 exited 107 (script exception); 1 other runner(s) were stopped when the run failed (k6 exit 105)`,
    );
    expect(outcome.status.failed).toBe(2);
  });

  test('an OOM-killed runner and an evicted runner are named with the kubelet reason', async () => {
    // GIVEN runner 0 OOM-killed (137, reason OOMKilled), runner 1 evicted (DisruptionTarget condition)
    const failed: Step = {
      jobs: [runnerJob({ failed: 2, conditions: [cond('Failed', 'PodFailurePolicy', 'Container k6 ... exit code 137 ...')] })],
      pods: [
        runnerPod(0, 'Failed', { exitCode: 137, reason: 'OOMKilled', starter: 'running' }),
        runnerPod(1, 'Failed', {
          exitCode: 143,
          disruption: { reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' },
        }),
      ],
    };
    // WHEN
    const lines = describeFailures(failed.pods);
    // THEN
    expect(lines).toEqual([
      `runner 0 (${RUN}-runner-0-x): k6 exited 137 (killed (SIGKILL)): OOMKilled`,
      `runner 1 (${RUN}-runner-1-x): k6 exited 143 (terminated (SIGTERM))`,
      `runner 1 (${RUN}-runner-1-x): disrupted (EvictionByEvictionAPI: Eviction API: evicting)`,
    ]);
  });

  test('a runner exit 99 is no longer special: runners run --no-thresholds, so 99 is a failure like any other', async () => {
    // GIVEN (only an old runner image or a user's own --thresholds could still exit 99)
    const failJob: Step = {
      jobs: [runnerJob({ failed: 1, conditions: [cond('Failed', 'PodFailurePolicy', 'exit code 99')] })],
      pods: [runnerPod(0, 'Running', { ready: true, starter: 'ready' }), runnerPod(1, 'Failed', { exitCode: 99 })],
    };
    // WHEN
    const { outcome } = await follow([running, failJob]);
    // THEN the run did not complete: it never reaches the verdict as a pass
    expect(outcome.kind).toBe('runner-failed');
    expect(outcome.detail).toContain(`runner 1 (${RUN}-runner-1-x): k6 exited 99 (thresholds failed)`);
  });

  test('a DeadlineExceeded condition ends as deadline-exceeded with the API server message', async () => {
    // GIVEN
    const deadline: Step = {
      jobs: [runnerJob({ failed: 2, conditions: [cond('Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline')] })],
      pods: [],
    };
    // WHEN
    const { outcome } = await follow([pending, running, deadline]);
    // THEN
    expect(outcome.kind).toBe('deadline-exceeded');
    expect(outcome.detail).toBe('runners exceeded their deadline: Job was active longer than specified deadline');
  });

  test("a failed starter ends as starter-failed with the starter's termination message (e.g. setup() threw)", async () => {
    // GIVEN the starter beside runner 0 exits 1 and wrote why into its termination log
    const message = 'setup() failed on runner 0 (HTTP 500): Error: login refused at setup (file:///scripts/sample.js:12:5); no load was started';
    const starterFailed: Step = {
      jobs: [runnerJob({ active: 2 })],
      pods: [runnerPod(0, 'Running', { ready: true, starter: { exitCode: 1, reason: 'Error', message } }), runnerPod(1, 'Running', { ready: true })],
    };
    const runnersEnded: Step = {
      jobs: [runnerJob({ failed: 2, conditions: [cond('Failed', 'PodFailurePolicy', 'exit code 103')] })],
      pods: [
        runnerPod(0, 'Failed', { exitCode: 103, starter: { exitCode: 1, reason: 'Error', message } }),
        runnerPod(1, 'Failed', { exitCode: 103 }),
      ],
    };
    // WHEN
    const { outcome, calls } = await follow([pending, oneReady, starterFailed, runnersEnded], undefined, STOP_JOB);
    // THEN the stop Job asks every runner to stop again (a runner that missed the starter's stop would keep runner 0's
    // pod alive: a pod fails only once all its containers ended); once they ended, the Jobs are left for `kubectl logs`
    expect(outcome.kind).toBe('starter-failed');
    expect(outcome.detail).toBe(`the starter failed (exit 1): ${message}`);
    expect(calls.filter((c) => /^(apply|delete)/.test(c))).toEqual([`apply Job/${RUN}-stop`]);
  });

  test("a failed starter whose runners do not end after the stop Job: the run's Jobs are deleted", async () => {
    // GIVEN a runner that stays up (never reached by a stop request)
    const message = '2 of 2 runners not ready after 300s: http://a http://b';
    const starterFailed: Step = {
      jobs: [runnerJob({ active: 2 })],
      pods: [runnerPod(0, 'Running', { starter: { exitCode: 1, message } }), runnerPod(1, 'Pending')],
    };
    const s = scriptedCluster([starterFailed]);
    // WHEN
    const outcome = await followRun({
      cluster: s.cluster,
      namespace: NS,
      runId: RUN,
      runners: 2,
      stopJob: STOP_JOB,
      stopWaitMs: 4000,
      sleep: s.advance,
    });
    // THEN
    expect(outcome.detail).toBe(
      `the starter failed (exit 1): ${message}; the run's Jobs were deleted (runners still running 4s after the stop request; deleting their Jobs)`,
    );
    expect(s.calls.filter((c) => /^(apply|delete)/.test(c))).toEqual([`apply Job/${RUN}-stop`, `deleteJobs ${NS} ${runSelector(RUN)}`]);
  });

  test('the runner Job disappearing mid-run ends as vanished', async () => {
    // GIVEN / WHEN
    const { outcome } = await follow([running, { jobs: [], pods: [] }]);
    // THEN
    expect(outcome.kind).toBe('vanished');
  });

  test('Ctrl-C applies the stop Job, waits until the runner Job has ended, THEN deletes the Jobs, and ends as interrupted', async () => {
    // GIVEN an abort arriving while the run is running; the runners stop (k6 exits 103) and the Job fails
    const ctrlC = new AbortController();
    const stoppedStep: Step = {
      jobs: [runnerJob({ failed: 2, conditions: [cond('Failed', 'PodFailurePolicy', 'exit code 103')] })],
      pods: [runnerPod(0, 'Failed', { exitCode: 103 }), runnerPod(1, 'Failed', { exitCode: 103 })],
    };
    const steps: Step[] = [pending, { ...running, after: () => ctrlC.abort() }, running, stoppedStep];
    // WHEN
    const { outcome, calls } = await follow(steps, ctrlC.signal, STOP_JOB);
    // THEN
    expect(outcome.kind).toBe('interrupted');
    expect(outcome.detail).toBe(
      "the stop Job (stopper) asked every runner to stop through k6's REST API; they ended and the run's Jobs were deleted",
    );
    expect(outcome.kind === 'interrupted' && outcome.stopErrors).toEqual([]);
    const writes = calls.filter((c) => !c.startsWith('listPods'));
    expect(writes).toEqual([
      `listJobs ${NS} ${runSelector(RUN)}`,
      `listJobs ${NS} ${runSelector(RUN)}`,
      `apply Job/${RUN}-stop`,
      `listJobs ${NS} ${runSelector(RUN)}`,
      `listJobs ${NS} ${runSelector(RUN)}`,
      `deleteJobs ${NS} ${runSelector(RUN)}`,
    ]);
  });
});

describe('stopRun', () => {
  test('runners that do not end in time are reported, and the Jobs are deleted anyway', async () => {
    // GIVEN runners that keep running after the stop Job
    const s = scriptedCluster([running]);
    // WHEN
    const result = await stopRun({
      cluster: s.cluster,
      namespace: NS,
      runId: RUN,
      stopJob: STOP_JOB,
      pollIntervalMs: 1000,
      stopWaitMs: 3000,
      sleep: s.advance,
    });
    // THEN
    expect(result).toEqual({ stopped: false, errors: ['runners still running 3s after the stop request; deleting their Jobs ends them'] });
    expect(s.calls.filter((c) => !c.startsWith('list'))).toEqual([`apply Job/${RUN}-stop`, `deleteJobs ${NS} ${runSelector(RUN)}`]);
  });

  test('a stop Job the API server refuses is reported, and the Jobs are deleted anyway', async () => {
    // GIVEN
    const s = scriptedCluster([running]);
    const cluster = { ...s.cluster, apply: () => Promise.reject(new Error('jobs.batch is forbidden: User "dev" cannot create resource "jobs"')) };
    // WHEN
    const result = await stopRun({ cluster, namespace: NS, runId: RUN, stopJob: STOP_JOB });
    // THEN
    expect(result.errors).toEqual(['stop Job: jobs.batch is forbidden: User "dev" cannot create resource "jobs"']);
    expect(s.calls).toEqual([`deleteJobs ${NS} ${runSelector(RUN)}`]);
  });
});
