/**
 * The in-cluster abortOnFail watcher's input: for a run started without the CLI (a scheduled run), the starter beside
 * runner 0 (constructs/src/k6/starter.sh) evaluates the test's `abortOnFail` thresholds over all runners, once per push
 * interval, the way `loadtest run` does (cli/run/abort-watch.ts). A shell can compare only what Prometheus answers, so
 * each threshold goes in as its 0/1 `crossed` expression (constructs/src/k6/abort-thresholds.ts) with placeholders
 * the starter fills at each evaluation: the run id (a scheduled run's id is its Job's name, known only in the pod),
 * the window and the seconds since the resume (k6's `timeSpentInTest`).
 */
import { abortQueries, abortThresholdName } from './abort-thresholds';
import type { ParsedThreshold, ThresholdsConfig } from './threshold-grammar';
import type { QueryDialect } from './threshold-queries';

/** ConfigMap key (and file name beside the starter script) of the watch file. */
export const ABORT_WATCH_KEY = 'abort-on-fail.tsv';

/** Placeholders of the watch file's PromQL; the starter replaces each with a number or a Job name. */
export const ABORT_WATCH_TOKENS = { testid: '@K6P_TESTID@', window: '@K6P_WINDOW@', elapsed: '@K6P_ELAPSED@' } as const;

/**
 * The watch file: one line per `abortOnFail` threshold, in the order declared, four tab-separated fields:
 * `delayAbortEval` in ms (`-` for none), the threshold's name, its `crossed` PromQL, its `observed` PromQL.
 * Undefined when the test has no `abortOnFail` threshold.
 */
export function abortWatchFile(
  thresholds: ThresholdsConfig | readonly ParsedThreshold[],
  trends: 'native' | 'classic',
  dialect?: QueryDialect,
): string | undefined {
  const queries = abortQueries(thresholds, {
    testid: ABORT_WATCH_TOKENS.testid,
    window: `${ABORT_WATCH_TOKENS.window}s`,
    elapsedSeconds: ABORT_WATCH_TOKENS.elapsed,
    trends,
    ...(dialect !== undefined ? { dialect } : {}),
  });
  if (queries.length === 0) return undefined;
  const lines = queries.map((q) => {
    const fields = [
      q.threshold.delayAbortEvalMs === undefined ? '-' : String(q.threshold.delayAbortEvalMs),
      abortThresholdName(q.threshold),
      q.crossed,
      q.observed,
    ];
    // The starter splits on tabs and reads line by line: neither may occur inside a field.
    const bad = fields.find((f) => /[\t\r\n]/.test(f));
    if (bad !== undefined) throw new Error(`abortWatchFile: ${JSON.stringify(bad)} holds a tab or a line break, which the watch file cannot carry`);
    return fields.join('\t');
  });
  return `${lines.join('\n')}\n`;
}
