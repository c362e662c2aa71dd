/**
 * The runs a comparison is made against: the baseline (`last-pass`: the newest earlier run of the same test whose
 * verdict passed) and the recent passing runs whose spread is the noise band (cli/compare/noise.ts). Candidates are
 * listed the way `loadtest runs` lists them (cli/prometheus/runs.ts `listRuns`, newest first) and judged with the
 * verdict itself (cli/verdict/verdict.ts `evaluateVerdict`, with the validity checks when given: a starved run is not
 * a pass).
 */
import type { TestConfig, ThresholdsConfig } from '@k6-platform/constructs/internal';
import type { PrometheusClient } from '../prometheus/client';
import { listRuns } from '../prometheus/runs';
import type { ValidityInput } from '../verdict/validity';
import { evaluateVerdict } from '../verdict/verdict';
import type { StatWindow } from './queries';

/** A run and the window its stats are computed over. */
export interface RunRef {
  readonly testid: string;
  readonly window: StatWindow;
}

/** What the search for passing runs needs. */
export interface PassingRunsQuery {
  /** The test whose runs are candidates. */
  readonly test: string;
  /** The configured tests (to tie runs without a test label to a test, as `loadtest runs` does). */
  readonly tests: readonly Pick<TestConfig, 'name'>[];
  /** The thresholds that judge a candidate (the test's config and script thresholds). */
  readonly thresholds: ThresholdsConfig;
  readonly validity?: ValidityInput;
  readonly trends: 'native' | 'classic';
  /** How far back to list runs (a PromQL duration). */
  readonly since: string;
  /** Evaluation time (unix ms). */
  readonly now: number;
  /** Only runs that started before this (unix ms): the compared run's start. */
  readonly before: number;
  /** The compared run, never a candidate. */
  readonly exclude: string;
  /** How many passing runs to collect (the search stops at this many; 1 stops at the first pass). */
  readonly want: number;
  /** Push interval of the runners, seconds: a run's window starts one interval before its first sample of work. */
  readonly pushIntervalSeconds: number;
  /** Milliseconds each candidate's verdict may take. */
  readonly timeoutMs: number;
}

/** Most candidates judged in one search, so an old test with many failing runs cannot make compare unbounded. */
export const MAX_CANDIDATES = 20;

/**
 * The newest passing earlier runs of the test, newest first; how many candidates were judged; the ones that did not
 * pass, and of those the ones newer than the first pass.
 */
export async function passingRuns(
  client: PrometheusClient,
  q: PassingRunsQuery,
): Promise<{ runs: RunRef[]; judged: number; failed: string[]; newerFailed: string[] }> {
  const listed = await listRuns(client, q.since, q.tests, q.now / 1000);
  const candidates = listed
    .filter((r) => r.test === q.test && r.started && r.testid !== q.exclude && r.start * 1000 < q.before)
    .slice(0, MAX_CANDIDATES);
  const runs: RunRef[] = [];
  const failed: string[] = [];
  const newerFailed: string[] = [];
  let judged = 0;
  for (const r of candidates) {
    if (runs.length >= q.want) break;
    const window = { start: (r.start - q.pushIntervalSeconds) * 1000, end: r.end * 1000 };
    const verdict = await evaluateVerdict(client, r.testid, q.thresholds, {
      start: window.start,
      end: window.end,
      trends: q.trends,
      now: q.now,
      timeoutMs: q.timeoutMs,
      ...(q.validity !== undefined ? { validity: q.validity } : {}),
    });
    judged++;
    if (verdict.status === 'unreachable') throw new UnreachableDuringSearch(verdict.message ?? 'Prometheus unreachable');
    if (verdict.status === 'pass') runs.push({ testid: r.testid, window });
    else {
      failed.push(`${r.testid} (${verdict.status})`);
      if (runs.length === 0) newerFailed.push(`${r.testid} (${verdict.status})`);
    }
  }
  return { runs, judged, failed, newerFailed };
}

/** The verdict of a candidate found Prometheus unreachable: the comparison is unreachable too. */
export class UnreachableDuringSearch extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'UnreachableDuringSearch';
  }
}
