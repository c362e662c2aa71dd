/**
 * Prometheus figures: head series of the same synthetic run (10 runners x 10 URLs) written with native histograms vs
 * classic trend stats, read from `/api/v1/status/tsdb`; and the time of every dashboard panel query and every CLI
 * query over 1 h x 10 runners of native-histogram data. Uses the test harness (a real Prometheus 2.42 with the
 * construct's flags) and the synthetic k6 run generator.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitoringValues } from '@k6-platform/constructs/internal';
import { parsePlatformConfig } from '@k6-platform/constructs/internal';
import { startPrometheus, type PrometheusHandle } from '../test/support/prometheus';
import { pushK6Run, type SyntheticUrl } from '../test/support/k6-run';
import { progressQueries } from '../cli/run/progress';
import { runsQueries } from '../cli/prometheus/runs';
import { median, timeMs } from './machine';

/** The classic stats compared (the list: what a classic setup typically asks k6 for). */
export const CLASSIC_BENCH_STATS = ['p90', 'p95', 'p99', 'min', 'max', 'avg', 'med'] as const;

const spec = () => monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec;
const URLS: SyntheticUrl[] = Array.from({ length: 10 }, (_, i) => ({ url: `http://target.local/api/${i}`, name: `api-${i}` }));

/** Series of one run in each mode. */
export interface SeriesFigure {
  readonly mode: 'native' | 'classic';
  /** `headStats.numSeries`. */
  readonly series: number;
  /** Top metric names by series. */
  readonly top: readonly { name: string; value: number }[];
}

async function withPrometheus<T>(fn: (p: PrometheusHandle) => Promise<T>): Promise<T> {
  const p = await startPrometheus({ spec: spec() });
  try {
    return await fn(p);
  } finally {
    await p.stop();
  }
}

/** Writes the same run (10 runners x 10 URLs, 2 min) to a fresh Prometheus per mode and reads the head series count. */
export async function benchSeries(): Promise<SeriesFigure[]> {
  const out: SeriesFigure[] = [];
  for (const mode of ['native', 'classic'] as const) {
    out.push(
      await withPrometheus(async (p) => {
        await pushK6Run(p.writeUrl, {
          testid: `bench-${mode}`,
          mode,
          runners: 10,
          urls: URLS,
          durationSeconds: 120,
          classicStats: CLASSIC_BENCH_STATS,
        });
        const tsdb = await p.tsdbStatus();
        return { mode, series: tsdb.headStats.numSeries, top: tsdb.seriesCountByMetricName.slice(0, 5) };
      }),
    );
  }
  return out;
}

/** One timed query. */
export interface QueryFigure {
  readonly source: string;
  readonly title: string;
  readonly kind: 'range' | 'instant';
  readonly medianMs: number;
  readonly expr: string;
}

interface Target {
  readonly expr?: string;
  readonly interval?: string;
  readonly instant?: boolean;
  readonly range?: boolean;
}
interface Panel {
  readonly title?: string;
  readonly targets?: readonly Target[];
  readonly panels?: readonly Panel[];
}

/**
 * The step Grafana gives a range query of a 1 h view: the range over the panel's max data points, never under the
 * data source's scrape interval (15 s when unset: 15 s for any panel at least 240 px wide), or under the query's own
 * "Min interval" when it has one, which takes the scrape interval's place (grafana/grafana pkg/promlib/models/query.go
 * `calculatePrometheusInterval`, `gtime.GetIntervalFrom`; dashboards/reference-queries.json `variables.about`).
 */
export const VIEW_STEP_SECONDS = 15;

/** The step of a query with an optional min interval (`1m`, `30s`), in seconds, for a 1 h view. */
export function stepSeconds(interval: string | undefined): number {
  if (interval === undefined || interval === '') return VIEW_STEP_SECONDS;
  const m = /^(\d+)(s|m)$/.exec(interval);
  if (m === null) throw new Error(`bench: unsupported query min interval ${JSON.stringify(interval)} (expected <n>s or <n>m)`);
  return Math.max(VIEW_STEP_SECONDS, Number(m[1]) * (m[2] === 'm' ? 60 : 1));
}

/** Grafana's $__rate_interval for a step: max(step + scrape interval, 4 x scrape interval), scrape interval 15 s. */
export function rateIntervalSeconds(step: number): number {
  return Math.max(step + 15, 4 * 15);
}

/**
 * Values the dashboard variables take in the benchmark (what Grafana would substitute for a 1 h view); the comparison
 * dashboard compares the run with itself (its `shift` variable is then 1 ms).
 */
export function substitute(expr: string, testid: string, stepSeconds: number = VIEW_STEP_SECONDS): string {
  return expr
    .replaceAll('$__rate_interval', `${rateIntervalSeconds(stepSeconds)}s`)
    .replaceAll('$__range', '1h')
    .replaceAll('$__interval', `${stepSeconds}s`)
    .replaceAll('${shift}', '1')
    .replaceAll('$baseline', testid)
    .replaceAll('$testid', testid)
    .replaceAll('$zone', '.*')
    .replaceAll('$scenario', '.*')
    .replaceAll('$name', '.*')
    .replaceAll('$quantile_stat', 'p95')
    .replaceAll('$quantile', '0.95')
    .replaceAll('$runner_namespace', 'k6')
    .replaceAll('$runner_pod', '.*')
    .replaceAll('$threshold_p95', '0.5')
    .replaceAll('$threshold_error_ratio', '0.01');
}

/** One target of a generated dashboard. */
export interface BenchDashboardQuery {
  /** The dashboard's uid. */
  readonly source: string;
  /** Panel title. */
  readonly title: string;
  readonly expr: string;
  /** Whether Grafana runs it as an instant query. */
  readonly instant: boolean;
  /** The step Grafana runs it at over a 1 h view ({@link stepSeconds} of its min interval). */
  readonly step: number;
}

/** Every target of every generated dashboard, with its panel title, its kind and its step. */
export function dashboardQueries(rootDir: string): BenchDashboardQuery[] {
  const dir = path.join(rootDir, 'dashboards', 'generated');
  const out: BenchDashboardQuery[] = [];
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith('.json'))
    .sort()) {
    const d = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { uid: string; panels?: Panel[] };
    const walk = (panels: readonly Panel[]) => {
      for (const p of panels) {
        if (p.panels) walk(p.panels);
        for (const t of p.targets ?? []) {
          if (t.expr !== undefined)
            out.push({
              source: d.uid,
              title: p.title ?? '',
              expr: t.expr,
              instant: t.instant === true && t.range !== true,
              step: stepSeconds(t.interval),
            });
        }
      }
    };
    walk(d.panels ?? []);
  }
  return out;
}

/** Extra queries to time (e.g. the verdict's), each instant at the end of the run. */
export interface ExtraQuery {
  readonly source: string;
  readonly title: string;
  readonly expr: string;
}

/**
 * Pushes 1 h x 10 runners x 10 URLs of data twice into one Prometheus, in time order, ending now: once with native
 * histograms (testid `bench-1h`) and once with classic trend stats (testid `bench-1h-classic`). Times each query
 * (`repeats` runs after one warm-up): the classic dashboard's queries against the classic run, everything else against
 * the native run; range queries over the hour at a 15 s step (a 240-point panel), instant queries at the end.
 */
export async function benchQueries(
  rootDir: string,
  extra: (testid: string) => readonly ExtraQuery[],
  repeats = 3,
): Promise<{ figures: QueryFigure[]; pushMs: number; series: number; samplesNote: string; loadAverage: readonly number[] }> {
  return withPrometheus(async (p) => {
    const native = 'bench-1h';
    const classic = 'bench-1h-classic';
    const end = Date.now();
    // No paused phase: the hour already starts at the edge of what Prometheus accepts into its head block ("out of
    // bounds" for older samples), and the figures are about the hour of load.
    const base = { runners: 10, urls: URLS, durationSeconds: 3600, endTime: end, pausedSeconds: 0 };
    const pushMs =
      (await timeMs(() => pushK6Run(p.writeUrl, { ...base, testid: native, mode: 'native' }))) +
      (await timeMs(() => pushK6Run(p.writeUrl, { ...base, testid: classic, mode: 'classic', classicStats: CLASSIC_BENCH_STATS })));
    const series = (await p.tsdbStatus()).headStats.numSeries;
    const start = end - 3600_000;
    const figures: QueryFigure[] = [];
    const loads: number[] = [];
    const time = async (source: string, title: string, expr: string, instant: boolean, step = VIEW_STEP_SECONDS) => {
      const run = () => (instant ? p.query(expr, end) : p.queryRange(expr, start, end, step));
      await run();
      const times: number[] = [];
      for (let i = 0; i < repeats; i++) times.push(await timeMs(run));
      loads.push(os.loadavg()[0]!);
      figures.push({ source, title, kind: instant ? 'instant' : 'range', medianMs: median(times), expr });
    };
    for (const q of dashboardQueries(rootDir)) {
      await time(q.source, q.title, substitute(q.expr, /classic/.test(q.source) ? classic : native, q.step), q.instant, q.step);
    }
    const cli = progressQueries(native);
    await time('cli run', 'progress: VUs', cli.vus, true);
    await time('cli run', 'progress: request rate', cli.requestRate, true);
    await time('cli run', 'progress: error rate', cli.errorRate, true);
    const runs = runsQueries('2h');
    await time('cli runs', 'runs: start (VUs > 0)', runs.startVus, true);
    await time('cli runs', 'runs: start (iterations)', runs.startIterations, true);
    await time('cli runs', 'runs: start (requests)', runs.startRequests, true);
    await time('cli runs', 'runs: first k6_vus sample', runs.firstSeen, true);
    await time('cli runs', 'runs: end', runs.end, true);
    await time('cli runs', 'runs: end (latest push)', runs.endNow, true);
    await time('cli runs', 'runs: runners', runs.runners, true);
    for (const q of extra(native)) await time(q.source, q.title, q.expr, true);
    return {
      figures,
      pushMs,
      series,
      samplesNote: `2 runs (native and classic) x 720 pushes x 10 runners x 10 URLs, ${series} series`,
      loadAverage: [Math.min(...loads), median(loads), Math.max(...loads)],
    };
  });
}
