/**
 * Mode "operator" in `loadtest run`: the TestRun CRD check and following a run by the TestRun's stage and the Jobs and
 * pods the k6-operator creates. The scripted objects are those k6-operator v1.6.0 creates:
 * - names: initializer Job `<name>-initializer`, runner Jobs `<name>-1` … `<name>-N`, starter Job `<name>-starter`
 *   (pkg/resources/jobs/initializer.go, runner.go, starter.go);
 * - labels: `app: k6`, `k6_cr: <name>` on all of them and their pods (helpers.go newLabels), `runner: "true"` on runner
 *   Jobs and pods (runner.go), plus the TestRun's runner/initializer/starter `metadata.labels` (our run-id, test and
 *   component labels); the Job controller adds `job-name` to pods (the operator selects initializer pods by it:
 *   internal/controller/common.go inspectTestRun);
 * - stages: initialization → initialized → created → started → stopped → finished, or error
 *   (internal/controller/testrun_controller.go, k6_initialize.go, k6_create.go, k6_start.go, k6_finish.go).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as YAML from 'yaml';
import type { CrdInfo, JobInfo, KubeObject, PodInfo, TestRunInfo } from '../../cli/cluster/cluster';
import { EXIT } from '../../cli/exit-codes';
import { followOperatorRun, operatorSelector, testRunCrdProblem, TESTRUN_CRD } from '../../cli/run/follow-operator';
import { runCli, type CliContext } from '../../cli/index';
import type { JudgeRequest } from '../../cli/verdict/judge';
import { bufferOutput } from '../../cli/output';
import type { RunStatus } from '../../cli/run/follow';
import { LABELS } from '../../constructs/src/contract/labels';
import { cond, NS, scriptedCluster, type Step } from './scripted-cluster';

const repoRoot = path.resolve(__dirname, '..', '..');
const TEST = 'sample-operator';
/** The run id, which is also the TestRun's name. */
const NAME = 'sample-operator-20261125-120000';

// The TestRun CRD as k6-operator v1.6.0 installs it (constructs/crds) and as v1.5.0 did (test/fixtures/k6-operator).
const CRD_V160 = YAML.parse(readFileSync(path.join(repoRoot, 'constructs', 'crds', 'k6.io_testruns.yaml'), 'utf8')) as CrdInfo;
const CRD_V150 = YAML.parse(readFileSync(path.join(repoRoot, 'test', 'fixtures', 'k6-operator', 'k6.io_testruns-v1.5.0.yaml'), 'utf8')) as CrdInfo;

// ---------------------------------------------------------------------------------------------------------------
// Objects as k6-operator v1.6.0 and the Job controller create them
// ---------------------------------------------------------------------------------------------------------------

const labels = (component: string, runner: boolean, jobName?: string) => ({
  app: 'k6',
  k6_cr: NAME,
  ...(runner ? { runner: 'true' } : {}),
  [LABELS.runId]: NAME,
  [LABELS.test]: TEST,
  [LABELS.component]: component,
  ...(jobName !== undefined ? { 'job-name': jobName, 'batch.kubernetes.io/job-name': jobName } : {}),
});
const testRun = (stage?: string): TestRunInfo => ({ metadata: { name: NAME }, spec: { parallelism: 2 }, status: stage ? { stage } : {} });
const initializerJob = (status: JobInfo['status'] = {}): JobInfo => ({
  metadata: { name: `${NAME}-initializer`, labels: labels('initializer', false) },
  status,
});
const runnerJob = (index: number, status: JobInfo['status'] = {}): JobInfo => ({
  metadata: { name: `${NAME}-${index}`, labels: labels('runner', true) },
  status,
});
const starterJob = (status: JobInfo['status'] = {}): JobInfo => ({ metadata: { name: `${NAME}-starter`, labels: labels('starter', false) }, status });
function pod(job: string, component: string, phase: string, opts: { ready?: boolean; exitCode?: number } = {}): PodInfo {
  return {
    metadata: { name: `${job}-abcde`, labels: labels(component, component === 'runner', job) },
    status: {
      phase,
      conditions: [{ type: 'Ready', status: opts.ready ? 'True' : 'False' }],
      containerStatuses: [{ name: 'k6', state: opts.exitCode !== undefined ? { terminated: { exitCode: opts.exitCode } } : {} }],
    },
  };
}
const initializerPod = (phase: string, exitCode?: number) =>
  pod(`${NAME}-initializer`, 'initializer', phase, exitCode !== undefined ? { exitCode } : {});
const runnerPod = (index: number, phase: string, opts: { ready?: boolean; exitCode?: number } = {}) => pod(`${NAME}-${index}`, 'runner', phase, opts);

const initDone = initializerJob({ succeeded: 1, conditions: [cond('Complete')] });
const initDonePod = initializerPod('Succeeded', 0);
const runnersActive = [runnerJob(1, { active: 1, ready: 1 }), runnerJob(2, { active: 1, ready: 1 })];
const runnersReady = [runnerPod(1, 'Running', { ready: true }), runnerPod(2, 'Running', { ready: true })];
const starterDone = starterJob({ succeeded: 1, conditions: [cond('Complete')] });
const runnersDone = [runnerJob(1, { succeeded: 1, conditions: [cond('Complete')] }), runnerJob(2, { succeeded: 1, conditions: [cond('Complete')] })];
const runnersDonePods = [runnerPod(1, 'Succeeded', { exitCode: 0 }), runnerPod(2, 'Succeeded', { exitCode: 0 })];

/** A normal run, one poll per step: the initializer Job first, then the runners, the starter, and the end stages. */
const normalRun: Step[] = [
  { testRun: testRun(), jobs: [], pods: [] },
  { testRun: testRun('initialization'), jobs: [initializerJob({ active: 1 })], pods: [initializerPod('Running')] },
  { testRun: testRun('initialization'), jobs: [initDone], pods: [initDonePod] },
  { testRun: testRun('initialized'), jobs: [initDone], pods: [initDonePod] },
  {
    testRun: testRun('created'),
    jobs: [initDone, runnerJob(1, { active: 1 }), runnerJob(2, { active: 1 })],
    pods: [initDonePod, runnerPod(1, 'Pending'), runnerPod(2, 'Pending')],
  },
  { testRun: testRun('created'), jobs: [initDone, ...runnersActive], pods: [initDonePod, ...runnersReady] },
  { testRun: testRun('started'), jobs: [initDone, ...runnersActive, starterJob({ active: 1 })], pods: [initDonePod, ...runnersReady] },
  { testRun: testRun('started'), jobs: [initDone, ...runnersActive, starterDone], pods: [initDonePod, ...runnersReady] },
  {
    testRun: testRun('started'),
    jobs: [initDone, runnersDone[0]!, runnersActive[1]!, starterDone],
    pods: [initDonePod, runnersDonePods[0]!, runnersReady[1]!],
  },
  { testRun: testRun('finished'), jobs: [initDone, ...runnersDone, starterDone], pods: [initDonePod, ...runnersDonePods] },
];

/** The stop Job as the LoadTest construct builds it for an operator run (only its identity matters to the follower). */
const STOP_JOB: KubeObject = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: `${NAME}-stop`, namespace: NS } };

async function follow(steps: readonly Step[], signal?: AbortSignal) {
  const s = scriptedCluster(steps);
  const statuses: RunStatus[] = [];
  const outcome = await followOperatorRun({
    cluster: s.cluster,
    namespace: NS,
    runId: NAME,
    runners: 2,
    stopJob: STOP_JOB,
    sleep: s.advance,
    ...(signal ? { signal } : {}),
    onStatus: (st) => void statuses.push(st),
  });
  return { outcome, statuses, calls: s.calls };
}

describe('the TestRun CRD check', () => {
  test('the v1.6.0 CRD (with spec.args) passes', () => {
    expect(testRunCrdProblem(CRD_V160)).toBeUndefined();
  });

  test('the v1.5.0 CRD (no spec.args) is refused, naming the field and the version needed', () => {
    expect(testRunCrdProblem(CRD_V150)).toBe(
      "the installed CustomResourceDefinition testruns.k6.io (v1alpha1) has no 'spec.args', so its k6-operator is older than v1.6.0 " +
        "and would silently drop the runners' k6 arguments: upgrade the k6-operator to v1.6.0 or newer with its CRDs, or set the test's 'mode' to \"jobs\"",
    );
  });

  test('no CRD means no operator', () => {
    expect(testRunCrdProblem(undefined)).toBe(
      'the cluster has no CustomResourceDefinition testruns.k6.io, so the k6-operator is not installed: install k6-operator v1.6.0 or newer with its CRDs, ' +
        "or set the test's 'mode' to \"jobs\"",
    );
  });

  test('a CRD without v1alpha1 names the versions it serves', () => {
    expect(testRunCrdProblem({ spec: { versions: [{ name: 'v2', served: true }] } })).toMatch(
      /^CustomResourceDefinition testruns\.k6\.io serves no version v1alpha1 \(got: v2\): install k6-operator v1\.6\.0/,
    );
  });
});

describe('followOperatorRun', () => {
  test('a normal run: initializer first, runners, starter, stages through finished -> completed, never vanished', async () => {
    // GIVEN / WHEN
    const { outcome, statuses, calls } = await follow(normalRun);
    // THEN
    expect(outcome).toEqual({ kind: 'completed', status: statuses.at(-1), detail: '2 of 2 runners finished' });
    expect(statuses).toHaveLength(normalRun.length);
    expect(statuses.map((s) => [s.ready, s.done, s.failed, s.starter])).toEqual([
      [0, 0, 0, 'waiting'],
      [0, 0, 0, 'waiting'],
      [0, 0, 0, 'waiting'],
      [0, 0, 0, 'waiting'],
      [0, 0, 0, 'waiting'],
      [2, 0, 0, 'waiting'],
      [2, 0, 0, 'waiting'],
      [2, 0, 0, 'started'],
      [1, 1, 0, 'started'],
      [0, 2, 0, 'started'],
    ]);
    // AND it reads the TestRun and the operator's own labels, and writes nothing
    expect(calls.slice(0, 3).sort()).toEqual([
      `getTestRun ${NS} ${NAME}`,
      `listJobs ${NS} app=k6,k6_cr=${NAME}`,
      `listPods ${NS} app=k6,k6_cr=${NAME}`,
    ]);
    expect(operatorSelector(NAME)).toBe(`app=k6,k6_cr=${NAME}`);
    expect(calls.some((c) => /^(stop|delete)/.test(c))).toBe(false);
  });

  test('stage "error" after a failed initializer ends as operator-error with the initializer and its logs', async () => {
    // GIVEN the initializer pod fails (script error in k6 archive); the operator sets the stage "error" (k6_initialize.go RunValidations)
    const failedInit = initializerJob({
      failed: 1,
      conditions: [cond('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit')],
    });
    const steps: Step[] = [
      normalRun[1]!,
      { testRun: testRun('initialization'), jobs: [failedInit], pods: [initializerPod('Failed', 1)] },
      { testRun: testRun('error'), jobs: [failedInit], pods: [initializerPod('Failed', 1)] },
    ];
    // WHEN
    const { outcome } = await follow(steps);
    // THEN
    expect(outcome.kind).toBe('operator-error');
    expect(outcome.detail).toBe(
      `the initializer (k6 archive + k6 inspect of the script) failed: BackoffLimitExceeded (Job has reached the specified backoff limit); ` +
        `pods: ${NAME}-initializer-abcde (exit 1); see kubectl -n k6 logs job/${NAME}-initializer`,
    );
  });

  test('stage "error" after a successful initializer names the parallelism check and where to look', async () => {
    // GIVEN the script's max VUs are below the parallelism: the operator sets "error" without runner Jobs (k6_initialize.go)
    const { outcome } = await follow([normalRun[2]!, { testRun: testRun('error'), jobs: [initDone], pods: [initDonePod] }]);
    // THEN
    expect(outcome.kind).toBe('operator-error');
    expect(outcome.detail).toBe(
      `the k6-operator set TestRun ${NAME} to stage "error": an invalid spec, or a parallelism (2) above the script's maximum VUs ` +
        `(k6 inspect); see kubectl -n k6 describe testrun/${NAME} and the operator's log`,
    );
  });

  test('a failed runner Job ends the run at once as runner-failed and stops the other runner with the stop Job', async () => {
    // GIVEN runner 2 exits 107 (script exception); backoffLimit 0 fails its Job; runner 1 would run on (runner.go)
    const failed: Step = {
      testRun: testRun('started'),
      jobs: [initDone, runnersActive[0]!, runnerJob(2, { failed: 1, conditions: [cond('Failed', 'BackoffLimitExceeded')] }), starterDone],
      pods: [initDonePod, runnersReady[0]!, runnerPod(2, 'Failed', { exitCode: 107 })],
    };
    // WHEN
    const { outcome, calls } = await follow([normalRun[7]!, failed]);
    // THEN
    expect(outcome.kind).toBe('runner-failed');
    expect(outcome.detail).toBe(
      `runner Job failed: ${NAME}-2: BackoffLimitExceeded; failed pods: ${NAME}-2-abcde (exit 107); the stop Job asked the 1 other runner(s) to stop`,
    );
    expect(outcome.status).toMatchObject({ ready: 1, failed: 1 });
    expect(calls.filter((c) => /^(apply|delete)/.test(c))).toEqual([`apply Job/${NAME}-stop`]);
  });

  test('a failed starter ends as starter-failed and deletes the TestRun (paused runners would wait forever)', async () => {
    // GIVEN
    const failed: Step = {
      testRun: testRun('started'),
      jobs: [initDone, ...runnersActive, starterJob({ failed: 1, conditions: [cond('Failed', 'BackoffLimitExceeded')] })],
      pods: [initDonePod, ...runnersReady],
    };
    // WHEN
    const { outcome, calls } = await follow([normalRun[5]!, failed]);
    // THEN
    expect(outcome.kind).toBe('starter-failed');
    expect(outcome.detail).toBe('the starter failed (BackoffLimitExceeded); runners never started, the TestRun was deleted');
    expect(calls.filter((c) => /^(stop|delete)/.test(c))).toEqual([`deleteTestRun ${NS} ${NAME}`]);
  });

  test('cleanup: post removes the TestRun before a poll sees "finished": completed while its runner Jobs are listed complete', async () => {
    // GIVEN the operator deletes the TestRun at "finished", then garbage collection its Jobs (testrun_controller.go)
    const gone: Step = { jobs: [initDone, ...runnersDone, starterDone], pods: [initDonePod, ...runnersDonePods] };
    // WHEN
    const { outcome } = await follow([normalRun[7]!, gone]);
    // THEN
    expect(outcome).toMatchObject({ kind: 'completed', detail: '2 of 2 runners finished (the operator removed the TestRun)' });
  });

  test('a TestRun deleted while its runners run ends as vanished, naming the last stage', async () => {
    const { outcome } = await follow([normalRun[7]!, { jobs: [initDone, ...runnersActive], pods: [initDonePod, ...runnersReady] }]);
    expect(outcome).toMatchObject({ kind: 'vanished', detail: `the TestRun ${NAME} was deleted before the run ended (last stage: started)` });
  });

  test('runner Jobs deleted while the TestRun is "started" end as vanished (the operator would wait forever)', async () => {
    const { outcome } = await follow([normalRun[7]!, { testRun: testRun('started'), jobs: [initDone], pods: [initDonePod] }]);
    expect(outcome).toMatchObject({
      kind: 'vanished',
      detail: `the runner Jobs of TestRun ${NAME} were deleted before the run ended (stage started)`,
    });
  });

  test('Ctrl-C applies the stop Job, waits until the runner Jobs have ended, then deletes the TestRun and the stop Job', async () => {
    // GIVEN runners that stop on the stop Job's call (k6 exits 103: their Jobs fail)
    const ctrlC = new AbortController();
    const stopped: Step = {
      testRun: testRun('started'),
      jobs: [
        initDone,
        runnerJob(1, { failed: 1, conditions: [cond('Failed', 'BackoffLimitExceeded')] }),
        runnerJob(2, { failed: 1, conditions: [cond('Failed', 'BackoffLimitExceeded')] }),
      ],
      pods: [initDonePod],
    };
    const steps: Step[] = [normalRun[6]!, { ...normalRun[7]!, after: () => ctrlC.abort() }, normalRun[7]!, stopped];
    // WHEN
    const { outcome, calls } = await follow(steps, ctrlC.signal);
    // THEN
    expect(outcome.kind).toBe('interrupted');
    expect(calls.filter((c) => /^(apply|delete)/.test(c))).toEqual([
      `apply Job/${NAME}-stop`,
      `deleteTestRun ${NS} ${NAME}`,
      `deleteJobs ${NS} k6.platform/run-id=${NAME}`,
    ]);
    expect(outcome.kind === 'interrupted' && outcome.stopErrors).toEqual([]);
    // AND it waited for the runner Jobs to end before deleting (the Jobs were listed after the stop Job)
    const applyAt = calls.indexOf(`apply Job/${NAME}-stop`);
    expect(calls.slice(applyAt).filter((c) => c.startsWith('listJobs')).length).toBeGreaterThanOrEqual(2);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// loadtest run <operator test>
// ---------------------------------------------------------------------------------------------------------------

describe('loadtest run of a mode "operator" test', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'loadtest-operator-'));
    symlinkSync(path.join(repoRoot, 'scripts'), path.join(root, 'scripts'));
    mkdirSync(path.join(root, 'dashboards'));
    symlinkSync(path.join(repoRoot, 'dashboards', 'generated'), path.join(root, 'dashboards', 'generated'));
    writeFileSync(
      path.join(root, 'Pulumi.dev.yaml'),
      `config:\n  k6platform:tests:\n    - name: ${TEST}\n      script: sample.js\n      mode: operator\n      parallelism: 2\n      thresholds:\n        http_req_failed: ["rate<0.01"]\n`,
    );
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  async function run(steps: readonly Step[], crd: CrdInfo | undefined, extra: Partial<CliContext> = {}) {
    const s = scriptedCluster(steps, crd !== undefined ? { crd } : {});
    const out = bufferOutput();
    const judged: JudgeRequest[] = [];
    const code = await runCli(['run', TEST, '--run-id', NAME], {
      out,
      env: {},
      rootDir: root,
      prometheus: () => ({ query: async () => [] }),
      judge: async (r) => {
        judged.push(r);
        return 99;
      },
      now: () => new Date('2026-11-25T12:00:00Z'),
      connect: async () => s.cluster,
      sleep: s.advance,
      ...extra,
    });
    return { code, stdout: out.out.join(''), stderr: out.err.join(''), judged, calls: s.calls, applied: s.applied };
  }

  test('follows the TestRun to "finished" and ends with the verdict over all runners (not "vanished", exit 97)', async () => {
    // WHEN
    const r = await run(normalRun, CRD_V160);
    // THEN the verdict's code is the exit code
    expect(r.stdout).not.toContain('vanished');
    expect(r.code).toBe(99);
    expect(r.judged.map((j) => [j.testid, j.test?.name])).toEqual([[NAME, TEST]]);
    expect(r.stdout).toContain('finished: 2 of 2 runners finished\n');
    // AND the CRD was checked before anything was applied; the TestRun is among the applied objects
    expect(r.calls[0]).toBe(`readCrd ${TESTRUN_CRD}`);
    expect(r.calls[1]).toMatch(new RegExp(`^apply ServiceAccount/.* TestRun/${NAME}$`));
    expect(r.applied.filter((o) => o.kind === 'TestRun').map((o) => o.metadata.name)).toEqual([NAME]);
    // AND the progress line is the jobs form's
    expect(r.stdout.split('\n').filter((l) => l.startsWith('runners '))).toEqual([
      'runners 0/2 ready, 0 running, 0 done, 0 failed | waiting to start | - VUs | - req/s | - errors | 0s since applied',
      'runners 2/2 ready, 0 running, 0 done, 0 failed | waiting to start | - VUs | - req/s | - errors | 0s since applied',
      'runners 2/2 ready, 2 running, 0 done, 0 failed | started | - VUs | - req/s | - errors | 0s',
      'runners 1/2 ready, 1 running, 1 done, 0 failed | started | - VUs | - req/s | - errors | 0s',
      'runners 0/2 ready, 0 running, 2 done, 0 failed | started | - VUs | - req/s | - errors | 0s',
    ]);
  });

  test('an operator error stage exits 97 without judging', async () => {
    const r = await run([normalRun[2]!, { testRun: testRun('error'), jobs: [initDone], pods: [initDonePod] }], CRD_V160);
    expect(r.code).toBe(EXIT.runFailed);
    expect(r.judged).toEqual([]);
    expect(r.stdout).toContain(`operator-error: the k6-operator set TestRun ${NAME} to stage "error"`);
  });

  test('a cluster whose TestRun CRD has no spec.args (k6-operator v1.5.0) is refused before anything is applied', async () => {
    const r = await run(normalRun, CRD_V150);
    expect(r.code).toBe(EXIT.error);
    expect(r.stderr).toBe(`error: loadtest: test '${TEST}' has mode "operator", but ${testRunCrdProblem(CRD_V150)}\n`);
    expect(r.stderr).toContain("has no 'spec.args'");
    expect(r.stderr).toContain('v1.6.0 or newer');
    expect(r.calls).toEqual([`readCrd ${TESTRUN_CRD}`]);
  });

  test('a cluster without the TestRun CRD (no operator) is refused before anything is applied', async () => {
    const r = await run(normalRun, undefined);
    expect(r.code).toBe(EXIT.error);
    expect(r.stderr).toContain('no CustomResourceDefinition testruns.k6.io, so the k6-operator is not installed');
    expect(r.calls).toEqual([`readCrd ${TESTRUN_CRD}`]);
  });
});
