import { pickRunTest, runTestQuery, type RunTest } from '@k6-platform/constructs/internal';
import type { TestConfig } from '@k6-platform/constructs/internal';
import { type PromQuerier, type PromSample } from './client';

/** Reads the run's `test` label from Prometheus and applies {@link pickRunTest}. */
export async function testOfRun(
  q: PromQuerier,
  testid: string,
  tests: readonly Pick<TestConfig, 'name'>[],
  options: { readonly range?: string; readonly time?: number } = {},
): Promise<RunTest> {
  const samples = await q.query(runTestQuery(testid, options.range), options.time);
  return pickRunTest(
    testid,
    samples.map((s) => s.metric.test),
    tests,
  );
}

/** One run as Prometheus remembers it. */
export interface RunSummary {
  readonly testid: string;
  /** The test the run belongs to, when known ({@link pickRunTest}). */
  readonly test?: string;
  /** Where {@link test} came from; `conflict` when the run carries several `test` labels (then no test). */
  readonly testSource: RunTest['source'] | 'conflict';
  /** First sample of work (iterations, requests, or k6_vus > 0), Unix seconds (precision: {@link RUNS_STEP_SECONDS}); the first k6_vus sample when the run never started. */
  readonly start: number;
  /** Last sample, Unix seconds. */
  readonly end: number;
  /** Number of runners that wrote metrics (distinct `instance_id`; 1 when the label is absent). */
  readonly runners: number;
  /** False when the run only wrote k6_vus (paused, never started). */
  readonly started: boolean;
}

/** Resolution of the start/end subqueries; below k6's default push interval (5 s) so no push is skipped. */
export const RUNS_STEP_SECONDS = 5;

/**
 * The PromQL listing runs in a window. `timestamp()` of a plain selector is the time of the sample itself (not of the
 * evaluation), so min/max over a subquery give the first and last push of each run. Subquery steps are aligned to
 * multiples of the step, so the last push after the last step is only seen by `endNow` (the latest sample at the
 * evaluation time); the end is the larger of the two. With pushes at least {@link RUNS_STEP_SECONDS} apart both are
 * exact.
 *
 * The start is the first sample of work: k6 v1.7.1 (internal/execution/scheduler.go `emitVUsAndVUsMax`) writes
 * `k6_vus` from VU initialisation on, 0 while a `--paused` run waits, so the first `k6_vus` sample is not the start.
 * Work is the first `k6_vus` > 0, `k6_iterations_total` or `k6_http_reqs_total` sample (a test without HTTP has
 * iterations; a long first iteration has active VUs); the run's start is the earliest of the three.
 */
export function runsQueries(since: string): {
  startVus: string;
  startIterations: string;
  startRequests: string;
  firstSeen: string;
  end: string;
  endNow: string;
  runners: string;
  tests: string;
} {
  const vus = 'k6_vus{testid!=""}';
  const first = (expr: string) => `min by (testid) (min_over_time(${expr}[${since}:${RUNS_STEP_SECONDS}s]))`;
  return {
    startVus: first(`(timestamp(${vus}) and ${vus} > 0)`),
    startIterations: first('timestamp(k6_iterations_total{testid!=""})'),
    startRequests: first('timestamp(k6_http_reqs_total{testid!=""})'),
    firstSeen: first(`timestamp(${vus})`),
    end: `max by (testid) (max_over_time(timestamp(${vus})[${since}:${RUNS_STEP_SECONDS}s]))`,
    endNow: `max by (testid) (timestamp(${vus}))`,
    runners: `count by (testid) (count by (testid, instance_id) (last_over_time(${vus}[${since}])))`,
    tests: `group by (testid, test) (last_over_time(${vus}[${since}]))`,
  };
}

/** Runs with samples in the last `since` (a PromQL duration), newest first. */
export async function listRuns(q: PromQuerier, since: string, tests: readonly Pick<TestConfig, 'name'>[], time?: number): Promise<RunSummary[]> {
  const qs = runsQueries(since);
  const [startVus, startIterations, startRequests, firstSeen, ends, endsNow, runners, labels] = await Promise.all([
    q.query(qs.startVus, time),
    q.query(qs.startIterations, time),
    q.query(qs.startRequests, time),
    q.query(qs.firstSeen, time),
    q.query(qs.end, time),
    q.query(qs.endNow, time),
    q.query(qs.runners, time),
    q.query(qs.tests, time),
  ]);
  const by = (samples: readonly PromSample[]) => new Map(samples.map((s) => [s.metric.testid ?? '', s.value] as const));
  const workStart = new Map<string, number>();
  for (const s of [...startVus, ...startIterations, ...startRequests]) {
    const id = s.metric.testid ?? '';
    workStart.set(id, Math.min(workStart.get(id) ?? Infinity, s.value));
  }
  const endOf = by(ends);
  const endNowOf = by(endsNow);
  const runnersOf = by(runners);
  const labelsOf = new Map<string, (string | undefined)[]>();
  for (const s of labels) {
    const id = s.metric.testid ?? '';
    labelsOf.set(id, [...(labelsOf.get(id) ?? []), s.metric.test]);
  }
  return firstSeen
    .map((s): RunSummary => {
      const testid = s.metric.testid ?? '';
      let runTest: RunTest | undefined;
      try {
        runTest = pickRunTest(testid, labelsOf.get(testid) ?? [], tests);
      } catch {
        runTest = undefined;
      }
      const start = workStart.get(testid);
      return {
        testid,
        ...(runTest?.test !== undefined ? { test: runTest.test } : {}),
        testSource: runTest?.source ?? 'conflict',
        start: start ?? s.value,
        end: Math.max(endOf.get(testid) ?? s.value, endNowOf.get(testid) ?? -Infinity),
        runners: runnersOf.get(testid) ?? 1,
        started: start !== undefined,
      };
    })
    .sort((a, b) => b.start - a.start || a.testid.localeCompare(b.testid));
}
