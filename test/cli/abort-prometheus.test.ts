/**
 * abortOnFail over all runners, the whole loop of `loadtest run`: synthetic runs with known truth in a real
 * Prometheus, fake k6 runners (test/cli/abort-runners.ts), the run's real stop Job executed with sh + curl against
 * them, and an injected clock: the test asserts on that clock when the runners got `stopped: true`.
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli, type CliContext } from '../../cli/index';
import type { KubeObject, RunCluster } from '../../cli/cluster/cluster';
import { bufferOutput } from '../../cli/output';
import { prometheusClient, type PromQuerier } from '../../cli/prometheus/client';
import { progressQueries } from '../../cli/run/progress';
import { parsePlatformConfig } from '../../constructs/src/config/platform-config';
import { monitoringValues } from '../../constructs/src/monitoring/monitoring-stack';
import { parseJunit } from '../support/junit';
import { pushK6Run, type K6RunTruth } from '../support/k6-run';
import { startPrometheus, type PrometheusHandle } from '../support/prometheus';
import { runStopJob, startFakeRunners, type FakeRunner } from './abort-runners';
import { cond, running, runnerJob, runnerPod, succeeded, type Step } from './scripted-cluster';

const repoRoot = path.resolve(__dirname, '..', '..');
const PUSH_MS = 5000;
const POLL_MS = 2000;
let prom: PrometheusHandle;
let root: string;
const runs: Record<string, K6RunTruth> = {};
const base = Date.now() - 600_000;

const ids = { sample: 'sample-20261125-120001', delayed: 'delayed-20261125-120002', clean: 'clean-20261125-120003', busy: 'busy-20261125-120004' };

beforeAll(async () => {
  prom = await startPrometheus({ spec: monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec });
  // GIVEN runs of 2 runners, 60 s, pushing every 5 s: 25 % failed requests on runner 0, 0 on runner 1 (12.5 % over
  // both runners from the first push on), a clean one, and a busy one whose request count crosses mid-run
  const failing = [{ url: 'http://target.local/', failureFraction: [0.25, 0] }];
  runs.sample = await pushK6Run(prom.writeUrl, { testid: ids.sample, runners: 2, durationSeconds: 60, endTime: base, urls: failing });
  runs.delayed = await pushK6Run(prom.writeUrl, { testid: ids.delayed, runners: 2, durationSeconds: 60, endTime: base + 100_000, urls: failing });
  runs.clean = await pushK6Run(prom.writeUrl, { testid: ids.clean, runners: 2, durationSeconds: 30, endTime: base + 200_000 });
  runs.busy = await pushK6Run(prom.writeUrl, { testid: ids.busy, runners: 2, durationSeconds: 60, endTime: base + 300_000 });
  root = mkdtempSync(path.join(tmpdir(), 'loadtest-abort-'));
  symlinkSync(path.join(repoRoot, 'scripts'), path.join(root, 'scripts'));
  const test = (name: string, thresholds: string) => [
    `    - name: ${name}`,
    '      script: sample.js',
    '      parallelism: 2',
    `      thresholds: ${thresholds}`,
  ];
  writeFileSync(
    path.join(root, 'Pulumi.dev.yaml'),
    [
      'config:',
      '  k6platform:tests:',
      ...test('sample', '{ http_req_failed: [{ threshold: "rate<0.1", abortOnFail: true }], http_reqs: ["count>0"] }'),
      ...test('delayed', '{ http_req_failed: [{ threshold: "rate<0.1", abortOnFail: true, delayAbortEval: "12s" }] }'),
      ...test('clean', '{ http_req_failed: [{ threshold: "rate<0.1", abortOnFail: true }] }'),
      ...test('busy', '{ http_reqs: [{ threshold: "count<=250", abortOnFail: true }] }'),
      '',
    ].join('\n'),
  );
});
afterAll(() => {
  prom.stop();
  rmSync(root, { recursive: true, force: true });
});

/** The runners after the stop: k6 exits 103 (ScriptStoppedFromRESTAPI), the pod failure policy fails the Job. */
const stopped: Step = {
  jobs: [runnerJob({ failed: 2, conditions: [cond('Failed', 'PodFailurePolicy', 'exit code 103')] })],
  pods: [runnerPod(0, 'Failed', { exitCode: 103, starter: { exitCode: 0 } }), runnerPod(1, 'Failed', { exitCode: 103 })],
};

interface Query {
  readonly expr: string;
  /** Evaluation time (unix ms). */
  readonly at: number;
  /** Wall time the query took (ms). */
  readonly tookMs: number;
}

/**
 * `loadtest run <test>` against a cluster whose runners are the fake ones: running until every fake runner was
 * stopped (then failed with 103) or until the run's last sample is past (then succeeded). The clock starts 2 s before
 * the run's resume, so evaluations are not aligned with the pushes, and advances only in the CLI's waits.
 */
async function runWithAbort(test: keyof typeof ids, extra: { junit?: string } = {}) {
  const truth = runs[test]!;
  let t = truth.start - 2000;
  const clock = () => t;
  const fake = await startFakeRunners(2, clock);
  const queries: Query[] = [];
  const applied: KubeObject[] = [];
  const stopOutputs: string[] = [];
  const step = () => (fake.runners.every((r) => r.stopped) ? stopped : t >= truth.end ? succeeded : running);
  const cluster: RunCluster = {
    description: 'fake runners',
    apply: async (objects) => {
      applied.push(...objects);
      for (const o of objects) if (o.metadata.name?.endsWith('-stop') === true) stopOutputs.push((await runStopJob(o, fake.runners)).stdout);
    },
    listJobs: async () => step().jobs,
    listPods: async () => step().pods,
    deleteJobs: async () => undefined,
    readCrd: async () => undefined,
    getTestRun: async () => undefined,
    deleteTestRun: async () => undefined,
  };
  const timed = (q: PromQuerier): PromQuerier => ({
    query: async (expr, time) => {
      const began = performance.now();
      const r = await q.query(expr, time);
      queries.push({ expr, at: (time ?? Date.now() / 1000) * 1000, tookMs: performance.now() - began });
      return r;
    },
  });
  const judged: string[] = [];
  const out = bufferOutput();
  const ctx: CliContext = {
    out,
    env: {},
    rootDir: root,
    now: () => new Date(t),
    connect: async () => cluster,
    prometheus: (url) => timed(prometheusClient(url)),
    judge: async (req) => {
      judged.push(req.testid);
      return 0;
    },
    pollIntervalMs: POLL_MS,
    sleep: async (ms) => {
      t += ms;
    },
  };
  const argv = ['run', test, '--run-id', ids[test], '--prometheus', prom.url, ...(extra.junit !== undefined ? ['--junit', extra.junit] : [])];
  try {
    const code = await runCli(argv, ctx);
    const progress = new Set(Object.values(progressQueries(ids[test])));
    const abortQueries = queries.filter((q) => !progress.has(q.expr));
    return { code, stdout: out.text(), runners: fake.runners, applied, stopOutputs, abortQueries, judged, truth, startedAt: truth.start - 2000 };
  } finally {
    await fake.close();
  }
}

const lastStop = (runners: readonly FakeRunner[]) => Math.max(...runners.map((r) => r.stops[0] ?? Infinity));

describe('loadtest run with abortOnFail', () => {
  test('the error rate over both runners crosses at the first push: every runner is stopped within one push interval (plus the query time), exit 99, the threshold named', async () => {
    // WHEN
    const junit = path.join(root, 'abort.xml');
    const r = await runWithAbort('sample', { junit });
    // THEN both runners got exactly one PATCH, with the body of the stop (k6 v1.7.1 api/v1/status_routes.go)
    for (const runner of r.runners) {
      expect(runner.patches).toEqual([{ data: { type: 'status', id: 'default', attributes: { stopped: true } } }]);
      expect(runner.stops).toHaveLength(1);
    }
    expect(r.stopOutputs).toEqual(['starter: asked 2 runners to stop\n']);
    // AND the evaluations ran every push interval from the resume (first poll that saw the starter ready), at the clock
    expect(r.abortQueries.map((q) => q.at - r.startedAt)).toEqual([0, PUSH_MS, 2 * PUSH_MS]);
    // AND the crossing sample (first push, 12.5 % errors) to the last stop is within one push interval + query time
    const crossing = r.truth.firstSample;
    const queryMs = r.abortQueries.at(-1)!.tookMs;
    expect(lastStop(r.runners)).toBeGreaterThanOrEqual(crossing);
    expect(lastStop(r.runners) - crossing).toBeLessThanOrEqual(PUSH_MS + queryMs);
    expect(lastStop(r.runners)).toBe(r.startedAt + 2 * PUSH_MS);
    // AND k6's code for a threshold abort, the threshold with its observed value (the first push: runner 0's 50
    // requests with 25 % spread evenly are 12 failures, runner 1's 50 none: 12 / 100), nothing judged after the stop
    expect(r.code).toBe(99);
    expect(r.judged).toEqual([]);
    expect(r.stdout).toContain(`aborted: aborted by threshold http_req_failed rate<0.1 (observed 0.12) 10s into the run; the stop Job`);
    expect(r.stdout).toContain(`judge what ran so far: loadtest verdict --testid ${ids.sample} --env dev\n`);
    expect(r.stdout).toMatch(/\| aborting: http_req_failed rate<0\.1\n/);
    expect(r.applied.filter((o) => o.metadata.name === `${ids.sample}-stop`)).toHaveLength(1);
    // AND the JUnit file carries the abort as the run's error
    const { suites } = parseJunit(junit);
    expect(suites.map((s) => s.name)).toEqual([ids.sample]);
    expect(suites[0]!.cases.map((c) => c.errors)).toEqual([
      [
        expect.objectContaining({
          type: 'aborted-by-threshold',
          message: 'aborted by threshold http_req_failed rate<0.1 (observed 0.12) 10s into the run',
        }),
      ],
    ]);
  });

  test('delayAbortEval 12s: the crossing seen from the first push aborts only at the first evaluation after 12 s into the run', async () => {
    // WHEN
    const r = await runWithAbort('delayed');
    // THEN evaluations at 0, 5 and 10 s are inside the delay and query nothing; 15 s is the first strictly after it
    expect(r.abortQueries.map((q) => q.at - r.startedAt)).toEqual([3 * PUSH_MS]);
    expect(r.runners.map((x) => x.stops.length)).toEqual([1, 1]);
    expect(lastStop(r.runners)).toBe(r.startedAt + 15_000);
    expect(lastStop(r.runners) - (r.startedAt + 12_000)).toBeLessThanOrEqual(PUSH_MS + r.abortQueries[0]!.tookMs);
    expect(r.code).toBe(99);
    // two pushes by then: runner 0's 100 requests hold 25 failures, runner 1's 100 none: 25 / 200
    expect(r.stdout).toContain('aborted: aborted by threshold http_req_failed rate<0.1 (observed 0.125) 15s into the run;');
  });

  test('a count crossing mid-run: stopped at the first evaluation that sees the push taking it over the limit', async () => {
    // GIVEN 2 runners x 10 req/s x 5 s = 100 requests per push: count<=250 fails with the third push (300)
    const r = await runWithAbort('busy');
    const crossing = r.truth.firstSample + 2 * PUSH_MS;
    // THEN
    expect(r.code).toBe(99);
    expect(lastStop(r.runners)).toBeGreaterThanOrEqual(crossing);
    expect(lastStop(r.runners) - crossing).toBeLessThanOrEqual(PUSH_MS + r.abortQueries.at(-1)!.tookMs);
    expect(r.stdout).toContain('aborted by threshold http_reqs count<=250 (observed 300)');
  });

  test('no crossing: the run completes, is judged, no runner is stopped', async () => {
    // WHEN
    const r = await runWithAbort('clean');
    // THEN
    expect(r.code).toBe(0);
    expect(r.judged).toEqual([ids.clean]);
    expect(r.runners.map((x) => x.patches)).toEqual([[], []]);
    expect(r.applied.some((o) => o.metadata.name?.endsWith('-stop') === true)).toBe(false);
    // one evaluation per push interval over the whole run, none of them crossing
    expect(r.abortQueries.length).toBeGreaterThanOrEqual(Math.floor(r.truth.durationSeconds / (PUSH_MS / 1000)));
    expect(r.stdout).not.toContain('aborting');
    expect(r.stdout).toContain('finished: 2 of 2 runners finished\n');
  });
});
