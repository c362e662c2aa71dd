/**
 * `loadtest compare` against the verdict on the same data: two runs of one test, 1 h x 10 runners x 10 URLs of
 * native-histogram data each (test/support/k6-run.ts), in one Prometheus (the harness default, 2.42, or
 * `PROMETHEUS_BIN`). Both hours end now (Prometheus takes no samples older than its head block, so the baseline
 * cannot be an earlier hour). Times, as medians of `repeats` after one warm-up:
 * - the verdict of the run (cli/verdict `evaluateVerdict`: window search and every threshold of bench/thresholds.ts);
 * - `compareRuns` of the run against the explicit baseline (cli/compare): both windows, one query per stat for each
 *   run (the four percentiles share one sum of histograms, and the trend rules of the same key share it too), the rules;
 * - the same with `spreadRuns: 5`: the search for passing runs of the noise band on top (listRuns over 24 h; nothing
 *   earlier to judge here). `last-pass` costs that search too, plus one verdict per candidate judged.
 * The target: compare within 2x the verdict. Exported for bench/index.ts; `npx tsx bench/compare.ts` prints it alone.
 */
import { monitoringValues, parsePlatformConfig } from '@k6-platform/constructs/internal';
import { compareRuns } from '../cli/compare/compare';
import { statQueries } from '../cli/compare/queries';
import { evaluateVerdict } from '../cli/verdict/verdict';
import { pushK6Run, type SyntheticUrl } from '../test/support/k6-run';
import { startPrometheus } from '../test/support/prometheus';
import { median, ms, timeMs } from './machine';
import { BENCH_THRESHOLDS } from './thresholds';

const URLS: SyntheticUrl[] = Array.from({ length: 10 }, (_, i) => ({ url: `http://target.local/api/${i}`, name: `api-${i}` }));
/** The rules compared: one of each kind. */
export const BENCH_REGRESSION: Readonly<Record<string, readonly string[]>> = {
  http_req_duration: ['p(95) < +10%', 'avg < +20'],
  'http_req_duration{scenario:default}': ['p(99) < +15%'],
  http_req_failed: ['rate < +0.5pp'],
  checks: ['rate > -1pp'],
  http_reqs: ['rate > -10%'],
};

/** The figures. */
export interface CompareFigures {
  readonly verdictMs: number;
  readonly compareMs: number;
  /** With `spreadRuns: 5`: the search for passing runs (listRuns over 24 h) on top. */
  readonly compareSpreadMs: number;
  /** compareMs / verdictMs. */
  readonly ratio: number;
  /** Instant queries of one compare: stats of both runs, rules of both runs. */
  readonly statQueries: number;
  readonly ruleQueries: number;
  /** Distinct sums of an hour of histograms per compare (the cost), against the verdict's 8 (bench/thresholds.ts). */
  readonly heavyQueries: number;
  readonly pushMs: number;
  readonly note: string;
}

/** Pushes the two hours and times verdict and compare on them. */
export async function benchCompare(repeats = 3, log: (line: string) => void = () => undefined): Promise<CompareFigures> {
  const p = await startPrometheus({ spec: monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec });
  try {
    const end = Date.now();
    const shape = { test: 'bench', runners: 10, urls: URLS, durationSeconds: 3600, endTime: end, pausedSeconds: 0 };
    const baseMs = await timeMs(() => pushK6Run(p.writeUrl, { ...shape, testid: 'bench-base', seed: 2 }));
    log(`pushed the baseline hour in ${ms(baseMs)}`);
    const pushMs = baseMs + (await timeMs(() => pushK6Run(p.writeUrl, { ...shape, testid: 'bench-run', latency: { medianMs: 110 } })));
    log(`pushed both hours in ${ms(pushMs)}`);
    const now = Date.now();
    const times = async (fn: () => Promise<unknown>) => {
      await fn();
      const xs: number[] = [];
      for (let i = 0; i < repeats; i++) xs.push(await timeMs(fn));
      return median(xs);
    };
    const input = {
      testid: 'bench-run',
      test: { name: 'bench', regression: BENCH_REGRESSION },
      tests: [{ name: 'bench' }],
      baseline: 'bench-base',
      thresholds: BENCH_THRESHOLDS,
      now,
      timeoutMs: 300_000,
    } as const;
    log('timing the verdict');
    const verdictMs = await times(() => evaluateVerdict(p.url, 'bench-run', BENCH_THRESHOLDS, { now, timeoutMs: 300_000 }));
    const compareMs = await times(async () => {
      const c = await compareRuns(p.url, input);
      if (c.status !== 'regressed' && c.status !== 'no-regression') throw new Error(`bench compare: ${c.status}: ${c.notes.join('; ')}`);
    });
    log('timing compare with the spread search');
    const compareSpreadMs = await times(() => compareRuns(p.url, { ...input, spreadRuns: 5 }));
    const rules = Object.values(BENCH_REGRESSION).flat().length;
    return {
      verdictMs,
      compareMs,
      compareSpreadMs,
      ratio: compareMs / verdictMs,
      statQueries: 2 * statQueries('x', { start: 0, end: 1 }, 'native').length,
      heavyQueries: 2 * (2 + new Set(Object.keys(BENCH_REGRESSION).filter((k) => k.startsWith('http_req_duration'))).size - 1),
      ruleQueries: 2 * rules,
      pushMs,
      note: `2 runs x 720 pushes x 10 runners x 10 URLs (native histograms), ${Object.values(BENCH_THRESHOLDS).flat().length} thresholds, ${rules} regression rules`,
    };
  } finally {
    await p.stop();
  }
}

/** The figures as lines of text. */
export function formatCompareFigures(f: CompareFigures): string {
  return [
    `compare vs verdict (${f.note}):`,
    `  verdict            ${ms(f.verdictMs)}`,
    `  compare            ${ms(f.compareMs)} (${f.ratio.toFixed(2)}x the verdict; ${f.statQueries} stat + ${f.ruleQueries} rule queries, ${f.heavyQueries} distinct histogram sums)`,
    `  compare + spread   ${ms(f.compareSpreadMs)} (--spread-runs 5: listRuns over 24 h, nothing earlier to judge here)`,
    `  push               ${ms(f.pushMs)}`,
  ].join('\n');
}

if (require.main === module) {
  benchCompare(3, (line) => process.stderr.write(`${line}\n`))
    .then((f) => process.stdout.write(`${formatCompareFigures(f)}\n`))
    .catch((e: unknown) => {
      process.stderr.write(`${String(e instanceof Error ? e.stack : e)}\n`);
      process.exit(1);
    });
}
