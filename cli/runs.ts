import type { TestConfig } from '../constructs/src/platform-config';
import type { PromQuerier } from './prometheus';

/** One run as Prometheus remembers it. */
export interface RunSummary {
  readonly testid: string;
  /** The test the run belongs to, when known (a `test` label, else the longest configured test name prefixing the id). */
  readonly test?: string;
  /** First sample, Unix seconds (precision: {@link RUNS_STEP_SECONDS}). */
  readonly start: number;
  /** Last sample, Unix seconds. */
  readonly end: number;
  /** Number of runners that wrote metrics (distinct `instance_id`; 1 when the label is absent). */
  readonly runners: number;
}

/** Resolution of the start/end subqueries; below k6's default push interval (5 s) so no push is skipped. */
export const RUNS_STEP_SECONDS = 5;

/**
 * The PromQL listing runs in a window. `timestamp()` of a plain selector is the time of the sample itself (not of the
 * evaluation), so min/max over a subquery give the first and last push of each run. Subquery steps are aligned to
 * multiples of the step, so the last push after the last step is only seen by `endNow` (the latest sample at the
 * evaluation time); the end is the larger of the two. With pushes at least {@link RUNS_STEP_SECONDS} apart both are
 * exact.
 */
export function runsQueries(since: string): { start: string; end: string; endNow: string; runners: string } {
  const base = 'k6_vus{testid!=""}';
  return {
    start: `min by (testid) (min_over_time(timestamp(${base})[${since}:${RUNS_STEP_SECONDS}s]))`,
    end: `max by (testid) (max_over_time(timestamp(${base})[${since}:${RUNS_STEP_SECONDS}s]))`,
    endNow: `max by (testid) (timestamp(${base}))`,
    runners: `count by (testid) (count by (testid, instance_id) (last_over_time(${base}[${since}])))`,
  };
}

/** The test a run id belongs to: the longest configured name `n` with the id starting `n-` (or equal to it). */
export function testOfRun(testid: string, tests: readonly Pick<TestConfig, 'name'>[]): string | undefined {
  return tests
    .map((t) => t.name)
    .filter((n) => testid === n || testid.startsWith(`${n}-`))
    .sort((a, b) => b.length - a.length)[0];
}

/** Runs with samples in the last `since` (a PromQL duration), newest first. */
export async function listRuns(q: PromQuerier, since: string, tests: readonly Pick<TestConfig, 'name'>[], time?: number): Promise<RunSummary[]> {
  const qs = runsQueries(since);
  const [starts, ends, endsNow, runners, labels] = await Promise.all([
    q.query(qs.start, time),
    q.query(qs.end, time),
    q.query(qs.endNow, time),
    q.query(qs.runners, time),
    q.query(`group by (testid, test) (last_over_time(k6_vus{testid!=""}[${since}]))`, time),
  ]);
  const by = (samples: readonly { metric: Readonly<Record<string, string>>; value: number }[]) =>
    new Map(samples.map((s) => [s.metric.testid ?? '', s.value] as const));
  const endOf = by(ends);
  const endNowOf = by(endsNow);
  const runnersOf = by(runners);
  const testLabel = new Map(labels.filter((s) => (s.metric.test ?? '') !== '').map((s) => [s.metric.testid ?? '', s.metric.test!] as const));
  return starts
    .map((s) => {
      const testid = s.metric.testid ?? '';
      const test = testLabel.get(testid) ?? testOfRun(testid, tests);
      return {
        testid,
        ...(test !== undefined ? { test } : {}),
        start: s.value,
        end: Math.max(endOf.get(testid) ?? s.value, endNowOf.get(testid) ?? -Infinity),
        runners: runnersOf.get(testid) ?? 1,
      };
    })
    .sort((a, b) => b.start - a.start || a.testid.localeCompare(b.testid));
}
