/**
 * `compareRuns`: a run next to its baseline, per scenario and request name, with deltas, noise bands and the test's
 * regression rules judged (docs/compare.md). Every Prometheus query is an instant, whole-run query (cli/compare/
 * queries.ts, cli/compare/rules.ts); the run windows come from the data as for the verdict (`findRunWindow`).
 *
 * Exit codes ({@link COMPARE_EXIT_CODES}): 0 no regression, 6 a rule regressed, 7 no baseline, 3 no data for the run,
 * 4 Prometheus unreachable. 6 and 7 collide with no verdict or CLI code (0, 1, 2, 3, 4, 5, 97, 99, 105) and with none
 * of k6 v1.7.1 (errext/exitcodes/codes.go: 1 and 97-110).
 */
import {
  parseRegressionRules,
  type ParsedRegressionRule,
  type RegressionConfig,
  type TestConfig,
  type ThresholdsConfig,
} from '@k6-platform/constructs/internal';
import { prometheusClient, PrometheusUnreachableError, type PrometheusClient } from '../prometheus/client';
import type { PrometheusAuth } from '../prometheus/auth';
import type { ValidityInput } from '../verdict/validity';
import { findRunWindow } from '../verdict/verdict';
import { passingRuns, UnreachableDuringSearch, type RunRef } from './baseline';
import { comparisonGroups } from './groups';
import { memoApi, readStats, type RunStats } from './queries';
import { judgeRule, readRuleValues } from './rules';
import type { ComparisonStatus, RunComparison } from './types';

/** Process exit code per outcome. */
export const COMPARE_EXIT_CODES: Readonly<Record<ComparisonStatus, number>> = {
  'no-regression': 0,
  regressed: 6,
  'no-baseline': 7,
  'no-data': 3,
  unreachable: 4,
};

/** Default number of recent passing runs whose spread is a noise band. */
export const DEFAULT_SPREAD_RUNS = 5;

/** What a comparison needs. */
export interface CompareInput {
  /** The compared run. */
  readonly testid: string;
  /** Its test: name, regression rules; undefined when the run is tied to no configured test (then only an explicit baseline works). */
  readonly test?: Pick<TestConfig, 'name'> & { readonly regression?: RegressionConfig };
  /** The configured tests (to tie listed runs to tests). */
  readonly tests: readonly Pick<TestConfig, 'name'>[];
  /** A baseline testid, or the newest earlier passing run of the test. */
  readonly baseline: string | 'last-pass';
  /** Thresholds judging candidate baselines (`last-pass`) and spread runs. @default - the test has none: every run passes */
  readonly thresholds?: ThresholdsConfig;
  /** Validity checks of candidate verdicts. @default - none */
  readonly validity?: ValidityInput;
  /** @default "native" */
  readonly trends?: 'native' | 'classic';
  /** Evaluation time (unix ms). @default - Date.now() */
  readonly now?: number;
  /** How far back runs are listed for `last-pass` and the spread. @default "24h" */
  readonly since?: string;
  /**
   * Passing runs whose spread is a noise band (0 or 1: none). With an explicit baseline the search for them lists
   * runs like `loadtest runs` and judges them, which costs more than the comparison itself: off unless asked for.
   * @default - 5 with `last-pass`, 0 with an explicit baseline
   */
  readonly spreadRuns?: number;
  /** Runner push interval in seconds. @default 5 */
  readonly pushIntervalSeconds?: number;
  /** The whole comparison's time budget. @default 60000 */
  readonly timeoutMs?: number;
  readonly auth?: PrometheusAuth;
}

type Done = (status: ComparisonStatus, rest: Partial<Omit<RunComparison, 'status' | 'exitCode' | 'testid'>>) => RunComparison;

/** Compares a run with its baseline. Never throws for an unreachable Prometheus, a run without data or no baseline. */
export async function compareRuns(prometheus: PrometheusClient | string, input: CompareInput): Promise<RunComparison> {
  const timeoutMs = input.timeoutMs ?? 60_000;
  const client =
    typeof prometheus === 'string'
      ? prometheusClient(prometheus, {
          timeoutMs,
          deadline: AbortSignal.timeout(timeoutMs),
          deadlineName: `the compare timeout of ${timeoutMs / 1000}s`,
          ...(input.auth !== undefined ? { auth: input.auth } : {}),
        })
      : prometheus;
  const notes: string[] = [];
  const done: Done = (status, rest) => ({
    status,
    exitCode: COMPARE_EXIT_CODES[status],
    testid: input.testid,
    ...(input.test !== undefined ? { test: input.test.name } : {}),
    groups: [],
    regressions: [],
    notes,
    ...rest,
  });
  try {
    return await compareWith(memoApi(client), input, notes, done, timeoutMs);
  } catch (e) {
    if (e instanceof PrometheusUnreachableError || e instanceof UnreachableDuringSearch) {
      notes.push(e.message);
      return done('unreachable', {});
    }
    throw e;
  }
}

async function compareWith(client: PrometheusClient, input: CompareInput, notes: string[], done: Done, timeoutMs: number): Promise<RunComparison> {
  const now = input.now ?? Date.now();
  const trends = input.trends ?? 'native';
  const rules: ParsedRegressionRule[] = parseRegressionRules(input.test?.regression ?? {}, `tests[${input.test?.name ?? '?'}].regression`);
  const found = await findRunWindow(client, input.testid, { now });
  if (found === undefined || 'idle' in found) {
    notes.push(
      `no data for testid ${JSON.stringify(input.testid)} in Prometheus at ${client.url}${found !== undefined ? ' (the run never started)' : ''}`,
    );
    return done('no-data', {});
  }
  const runWindow = { start: found.start, end: found.end };
  const chosen = await chooseBaseline(client, input, runWindow.start, now, notes, timeoutMs);
  if (chosen === undefined) return done('no-baseline', { runWindow });
  const { baseline, spread } = chosen;
  const spreadRuns = spread.filter((r) => r.testid !== input.testid);
  const [runStats, baseStats, runRules, baseRules, ...spreadData] = await Promise.all([
    readStats(client, input.testid, runWindow, trends),
    readStats(client, baseline.ref.testid, baseline.ref.window, trends),
    readRuleValues(client, rules, input.testid, runWindow, trends),
    readRuleValues(client, rules, baseline.ref.testid, baseline.ref.window, trends),
    ...spreadRuns.map(async (r) => ({
      stats: await readStats(client, r.testid, r.window, trends),
      rules: await readRuleValues(client, rules, r.testid, r.window, trends),
    })),
  ]);
  if (spreadRuns.length >= 2) notes.push(`noise: the spread of ${spreadRuns.length} passing runs (${spreadRuns.map((r) => r.testid).join(', ')})`);
  const spreadStats: RunStats[] = spreadData.map((d) => d.stats);
  const groups = comparisonGroups(runStats, baseStats, spreadStats, trends);
  const regressions = rules.map((r, i) =>
    judgeRule(
      r,
      runRules[i]!,
      baseRules[i]!,
      spreadData.map((d) => d.rules[i]!),
      trends,
    ),
  );
  if (rules.length === 0)
    notes.push(`test ${input.test?.name ?? '(none)'} declares no regression rules (tests[].regression): the deltas are shown, nothing is judged`);
  return done(regressions.some((r) => !r.pass) ? 'regressed' : 'no-regression', {
    baseline: { testid: baseline.ref.testid, source: baseline.source },
    runWindow,
    baselineWindow: baseline.ref.window,
    groups,
    regressions,
  });
}

/** The baseline (explicit or `last-pass`) and the passing runs whose spread is the noise band; undefined when none. */
async function chooseBaseline(
  client: PrometheusClient,
  input: CompareInput,
  runStart: number,
  now: number,
  notes: string[],
  timeoutMs: number,
): Promise<{ baseline: { ref: RunRef; source: 'explicit' | 'last-pass' }; spread: RunRef[] } | undefined> {
  const lastPass = input.baseline === 'last-pass';
  const want = Math.max(input.spreadRuns ?? (lastPass ? DEFAULT_SPREAD_RUNS : 0), lastPass ? 1 : 0);
  const search = async (n: number) =>
    input.test === undefined
      ? { runs: [], judged: 0, failed: [], newerFailed: [] }
      : passingRuns(client, {
          test: input.test.name,
          tests: input.tests,
          thresholds: input.thresholds ?? {},
          ...(input.validity !== undefined ? { validity: input.validity } : {}),
          trends: input.trends ?? 'native',
          since: input.since ?? '24h',
          now,
          before: runStart,
          exclude: input.testid,
          want: n,
          pushIntervalSeconds: input.pushIntervalSeconds ?? 5,
          timeoutMs,
        });
  if (input.baseline !== 'last-pass') {
    const found = await findRunWindow(client, input.baseline, { now });
    if (found === undefined || 'idle' in found) {
      notes.push(`the baseline ${input.baseline} has no data in Prometheus at ${client.url}${found !== undefined ? ' (it never started)' : ''}`);
      return undefined;
    }
    const spread = want >= 2 ? (await search(want)).runs : [];
    return { baseline: { ref: { testid: input.baseline, window: { start: found.start, end: found.end } }, source: 'explicit' }, spread };
  }
  if (input.test === undefined) {
    notes.push(`run ${input.testid} is tied to no configured test: pass --test <name> or --baseline <testid>`);
    return undefined;
  }
  const { runs, judged, failed, newerFailed } = await search(want);
  if (runs.length === 0) {
    notes.push(
      `no earlier passing run of test ${input.test.name} in the last ${input.since ?? '24h'} (${judged} judged${failed.length > 0 ? `: ${failed.join(', ')}` : ''})`,
    );
    return undefined;
  }
  const skipped = newerFailed.length > 0 ? `, skipping the newer ${newerFailed.join(', ')}` : '';
  notes.push(`baseline ${runs[0]!.testid}: the newest earlier run of test ${input.test.name} whose verdict passed${skipped}`);
  return { baseline: { ref: runs[0]!, source: 'last-pass' }, spread: want >= 2 ? runs : [] };
}
