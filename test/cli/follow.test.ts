import { K6_API_PORT, runSelector, runStatus, stopRun } from '../../cli/follow';
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
  starterJob,
  succeeded,
  type Step,
} from './scripted-cluster';

describe('runStatus', () => {
  test('counts pending, ready, done and failed runners and the starter state', () => {
    // GIVEN one ready runner, one pending, starter still waiting
    // WHEN
    const s = runStatus(2, oneReady.jobs, oneReady.pods);
    // THEN
    expect(s).toEqual({ runners: 2, pending: 1, ready: 1, done: 0, failed: 0, starter: 'waiting' });
  });

  test('reads done and failed from the runner Job status', () => {
    // GIVEN
    const jobs = [runnerJob({ succeeded: 3, failed: 1 }), starterJob({ conditions: [cond('Complete')] })];
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
    expect(calls.some((c) => c.startsWith('delete') || c.startsWith('stop'))).toBe(false);
  });

  test('a runner that fails (non-threshold exit code) ends as runner-failed naming the pod and its exit code', async () => {
    // GIVEN runner 1 crashes with k6's script-exception code 107; the Job fails (backoffLimit 0)
    const failed: Step = {
      jobs: [
        runnerJob({ succeeded: 0, failed: 1, conditions: [cond('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit')] }),
        running.jobs[1]!,
      ],
      pods: [runnerPod(0, 'Running', { ready: true }), runnerPod(1, 'Failed', { exitCode: 107 })],
    };
    // WHEN
    const { outcome } = await follow([pending, running, failed]);
    // THEN
    expect(outcome.kind).toBe('runner-failed');
    expect(outcome.detail).toBe(
      `runner Job failed: BackoffLimitExceeded (Job has reached the specified backoff limit); failed pods: ${RUN}-runner-1-x (exit 107)`,
    );
    expect(outcome.status.failed).toBe(1);
  });

  test('runners that exit 99 (thresholds crossed on their own segment) still complete the run: the overall verdict decides', async () => {
    // GIVEN
    const thresholdExit: Step = {
      jobs: [runnerJob({ succeeded: 1, failed: 1, conditions: [cond('Failed', 'PodFailurePolicy')] }), running.jobs[1]!],
      pods: [runnerPod(0, 'Succeeded', { exitCode: 0 }), runnerPod(1, 'Failed', { exitCode: 99 })],
    };
    // WHEN
    const { outcome } = await follow([running, thresholdExit]);
    // THEN
    expect(outcome.kind).toBe('completed');
    expect(outcome.detail).toBe('1 runner(s) crossed thresholds on their own segment');
  });

  test('the Job failed by its podFailurePolicy on exit 99 (other runners killed) still completes the run', async () => {
    // GIVEN runner 0 exits 99; the FailJob rule ends runner 1 with SIGTERM (143)
    const message = 'Container k6 for pod k6/x-runner-0 failed with exit code 99 matching FailJob rule at index 0';
    const failJob: Step = {
      jobs: [runnerJob({ failed: 2, conditions: [cond('Failed', 'PodFailurePolicy', message)] }), running.jobs[1]!],
      pods: [runnerPod(0, 'Failed', { exitCode: 99 }), runnerPod(1, 'Failed', { exitCode: 143 })],
    };
    // WHEN
    const { outcome } = await follow([running, failJob]);
    // THEN
    expect(outcome.kind).toBe('completed');
    expect(outcome.detail).toBe('1 runner(s) crossed thresholds on their own segment');
  });

  test('a podFailurePolicy failure on another exit code is a failed runner', async () => {
    // GIVEN
    const message = 'Container k6 for pod k6/x-runner-1 failed with exit code 107 matching FailJob rule at index 1';
    const failJob: Step = {
      jobs: [runnerJob({ failed: 1, conditions: [cond('Failed', 'PodFailurePolicy', message)] }), running.jobs[1]!],
      pods: [runnerPod(1, 'Failed', { exitCode: 107 })],
    };
    // WHEN
    const { outcome } = await follow([running, failJob]);
    // THEN
    expect(outcome.kind).toBe('runner-failed');
    expect(outcome.detail).toBe(`runner Job failed: PodFailurePolicy (${message}); failed pods: ${RUN}-runner-1-x (exit 107)`);
  });

  test('a DeadlineExceeded condition ends as deadline-exceeded with the API server message', async () => {
    // GIVEN
    const deadline: Step = {
      jobs: [
        runnerJob({ failed: 2, conditions: [cond('Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline')] }),
        running.jobs[1]!,
      ],
      pods: [],
    };
    // WHEN
    const { outcome } = await follow([pending, running, deadline]);
    // THEN
    expect(outcome.kind).toBe('deadline-exceeded');
    expect(outcome.detail).toBe('runners exceeded their deadline: Job was active longer than specified deadline');
  });

  test('a failed starter ends as starter-failed and deletes the Jobs (paused runners would otherwise wait for their deadline)', async () => {
    // GIVEN
    const starterFailed: Step = {
      jobs: [runnerJob({ active: 2, ready: 2 }), starterJob({ failed: 1, conditions: [cond('Failed', 'BackoffLimitExceeded')] })],
      pods: running.pods,
    };
    // WHEN
    const { outcome, calls } = await follow([pending, oneReady, starterFailed]);
    // THEN
    expect(outcome.kind).toBe('starter-failed');
    expect(outcome.detail).toBe('the starter failed (BackoffLimitExceeded); runners never started');
    expect(calls.at(-1)).toBe(`deleteJobs ${NS} ${runSelector(RUN)}`);
    expect(calls.some((c) => c.startsWith('stop'))).toBe(false);
  });

  test('the runner Job disappearing mid-run ends as vanished', async () => {
    // GIVEN / WHEN
    const { outcome } = await follow([running, { jobs: [], pods: [] }]);
    // THEN
    expect(outcome.kind).toBe('vanished');
  });

  test('Ctrl-C stops each running runner through k6 (port 6565), THEN deletes the Jobs, and ends as interrupted', async () => {
    // GIVEN an abort arriving while the run is running
    const ctrlC = new AbortController();
    const steps: Step[] = [pending, { ...running, after: () => ctrlC.abort() }, running];
    // WHEN
    const { outcome, calls } = await follow(steps, ctrlC.signal);
    // THEN
    expect(outcome.kind).toBe('interrupted');
    expect(outcome.detail).toBe("stopped 2 runner(s) through k6's REST API and deleted the run's Jobs");
    const writes = calls.filter((c) => !c.startsWith('list'));
    expect(writes).toEqual([
      `stop ${NS} ${RUN}-runner-0-x ${K6_API_PORT}`,
      `stop ${NS} ${RUN}-runner-1-x ${K6_API_PORT}`,
      `deleteJobs ${NS} ${runSelector(RUN)}`,
    ]);
  });
});

describe('stopRun', () => {
  test('a runner that cannot be stopped is reported and the Jobs are deleted anyway', async () => {
    // GIVEN runner 0 refuses the stop call; runner 1 already finished (not called)
    const s = scriptedCluster([{ jobs: running.jobs, pods: [runnerPod(0, 'Running', { ready: true }), runnerPod(1, 'Succeeded', { exitCode: 0 })] }]);
    s.stopFailures.add(`${RUN}-runner-0-x`);
    // WHEN
    const result = await stopRun(s.cluster, NS, RUN);
    // THEN
    expect(result).toEqual({ stopped: [], errors: [`${RUN}-runner-0-x: connection refused`] });
    expect(s.calls.filter((c) => !c.startsWith('list'))).toEqual([
      `stop ${NS} ${RUN}-runner-0-x ${K6_API_PORT}`,
      `deleteJobs ${NS} ${runSelector(RUN)}`,
    ]);
  });
});
