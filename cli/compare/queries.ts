/**
 * The PromQL of `loadtest compare` (pure but for {@link readStats}): ONE instant query per compared stat (the four
 * percentiles share one: the summed native histograms, whose quantiles cli/prometheus/histogram.ts takes), evaluated at
 * the end of a run window over the whole window like the verdict's threshold queries
 * (constructs/src/k6/threshold-queries.ts), answering every group at once: `by (scenario, name)` for the HTTP stats,
 * `by (scenario)` for iterations, checks and data (k6 tags those per iteration, without a request name), and the whole
 * run as one more sample marked `compare_scope="run"` (joined with `or`: its label set differs from every group's).
 * Values are in k6's units: ms for latencies, 0-1 ratios, per second, bytes.
 */
import { promqlString } from '@k6-platform/constructs/internal';
import type { PromData, PrometheusClient } from '../prometheus/client';
import { PrometheusQueryError, vectorSamples } from '../prometheus/client';
import { histogramQuantile, sampleHistogram } from '../prometheus/histogram';
import type { ComparedStat } from './types';

/** The window a run's stats are computed over (unix ms). */
export interface StatWindow {
  readonly start: number;
  readonly end: number;
}

/** One query and the stats it answers. */
export interface StatQuery {
  /** The stat of each float sample; for a histogram query, the percentiles taken from each histogram. */
  readonly stats: readonly ComparedStat[];
  /** `request`: grouped by scenario and name; `scenario`: by scenario; `run`: the whole run only. */
  readonly level: 'request' | 'scenario' | 'run';
  readonly promql: string;
  /** The answer holds native histograms (seconds) whose percentiles are the stats (cli/prometheus/histogram.ts). */
  readonly histogram?: boolean;
}

/** The scenario shown for samples without a `scenario` tag. */
export const NO_SCENARIO = '(none)';

/** The label marking the whole-run sample of a stat query. */
export const RUN_SCOPE_LABEL = 'compare_scope';

/** The compared stats in table order. */
export const COMPARED_STATS: readonly ComparedStat[] = [
  'p50',
  'p90',
  'p95',
  'p99',
  'error_ratio',
  'request_rate',
  'iteration_rate',
  'checks_ratio',
  'data_sent',
  'data_received',
];

const QUANTILE: Readonly<Partial<Record<ComparedStat, number>>> = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99 };
const QUANTILE_STATS: readonly ComparedStat[] = ['p50', 'p90', 'p95', 'p99'];
/** Classic gauges of each quantile (k6 writes `p(50)` as `med`; the platform's classic runners write these four). */
const CLASSIC_SUFFIX: Readonly<Partial<Record<ComparedStat, string>>> = { p50: 'med', p90: 'p90', p95: 'p95', p99: 'p99' };

/** The window as a PromQL range: whole seconds, at least 1 (as the verdict's threshold queries). */
export function windowRange(window: StatWindow): string {
  return `${Math.max(1, Math.ceil((window.end - window.start) / 1000))}s`;
}

/**
 * The native histogram of all a selector's series summed over the window: one text for the whole-run stats and the
 * regression rules alike, so {@link memoApi} asks Prometheus once for both.
 */
export function summedHistogramQuery(metric: string, selector: string, window: StatWindow): string {
  return `sum(increase(${metric}${selector}[${windowRange(window)}]))`;
}

/** An API answering each (query, time) once: the stats and the rules share their histogram sums. */
export function memoApi(api: PrometheusClient): PrometheusClient {
  const seen = new Map<string, Promise<PromData>>();
  return {
    url: api.url,
    query: (expr, time) => api.query(expr, time),
    data: (expr, time) => {
      const key = `${time ?? ''}\u0000${expr}`;
      let p = seen.get(key);
      if (p === undefined) seen.set(key, (p = api.data(expr, time)));
      return p;
    },
  };
}

/** `<grouped> or label_replace(<whole run>, "compare_scope", "run", "", "")`. */
function withRun(agg: (by: string) => string, by: string): string {
  return `${agg(`by (${by}) `)} or label_replace(${agg('')}, "${RUN_SCOPE_LABEL}", "run", "", "")`;
}

/** The query of every compared stat for one run. */
export function statQueries(testid: string, window: StatWindow, trends: 'native' | 'classic'): StatQuery[] {
  const seconds = (window.end - window.start) / 1000;
  const w = windowRange(window);
  const sel = `{testid=${promqlString(testid)}}`;
  const last = (m: string) => `last_over_time(${m}${sel}[${w}])`;
  const req = 'scenario, name';
  const out: StatQuery[] = [];
  if (trends === 'native') {
    // one sum of the hour of histograms for all four percentiles: summing is what costs, not the quantile. The whole
    // run is a query of its own: Prometheus 2.42's label_replace turns a histogram sample into the float 0.
    const hist = (by: string) => `sum ${by}(increase(k6_http_req_duration_seconds${sel}[${w}]))`;
    out.push({ stats: QUANTILE_STATS, level: 'request', promql: hist(`by (${req}) `), histogram: true });
    out.push({ stats: QUANTILE_STATS, level: 'run', promql: summedHistogramQuery('k6_http_req_duration_seconds', sel, window), histogram: true });
  } else {
    for (const stat of QUANTILE_STATS) {
      // the highest gauge of any runner and series: an upper bound, as the verdict's classic percentiles
      const promql = withRun((by) => `max ${by}(${last(`k6_http_req_duration_${CLASSIC_SUFFIX[stat]!}`)}) * 1000`, req);
      out.push({ stats: [stat], level: 'request', promql });
    }
  }
  const failed = last('k6_http_req_failed_rate');
  const reqs = last('k6_http_reqs_total');
  // each series' cumulative ratio weighted by the request count of exactly the same tag set (as the verdict)
  out.push({
    stats: ['error_ratio'],
    level: 'request',
    promql: withRun((by) => `sum ${by}(${failed} * ${reqs}) / sum ${by}(${reqs} and ${failed})`, req),
  });
  out.push({ stats: ['request_rate'], level: 'request', promql: withRun((by) => `sum ${by}(${reqs}) / ${seconds}`, req) });
  const iterations = last('k6_iterations_total');
  out.push({ stats: ['iteration_rate'], level: 'scenario', promql: withRun((by) => `sum ${by}(${iterations}) / ${seconds}`, 'scenario') });
  // each runner's cumulative checks ratio weighted by that runner's iterations of the same scenario (as the verdict)
  const checks = last('k6_checks_rate');
  const perRunner = `on (instance_id, scenario) group_left sum by (instance_id, scenario) (${iterations})`;
  out.push({
    stats: ['checks_ratio'],
    level: 'scenario',
    promql: withRun((by) => `sum ${by}(${checks} * ${perRunner}) / sum ${by}((${checks} * 0 + 1) * ${perRunner})`, 'scenario'),
  });
  out.push({ stats: ['data_sent'], level: 'scenario', promql: withRun((by) => `sum ${by}(${last('k6_data_sent_total')})`, 'scenario') });
  out.push({ stats: ['data_received'], level: 'scenario', promql: withRun((by) => `sum ${by}(${last('k6_data_received_total')})`, 'scenario') });
  return out;
}

/** `scenario\u0000name` of a group; `''` parts for the whole run and for scenario-level samples' name. */
export function groupKey(scenario: string, name: string): string {
  return `${scenario}\u0000${name}`;
}

/** The stats of one run: per group key, per stat, the value (null for NaN/±Inf). */
export type RunStats = Map<string, Map<ComparedStat, number | null>>;

/** Reads one answer into `stats`. */
export function addStatAnswer(stats: RunStats, q: StatQuery, data: PromData): void {
  if (data.resultType !== 'vector')
    throw new PrometheusQueryError(`expected an instant vector, got ${String(data.resultType)}\n  query: ${q.promql}`);
  const samples =
    q.histogram === true ? histogramSamples(data, q) : vectorSamples(data, q.promql).map((x) => ({ metric: x.metric, values: [x.value] }));
  for (const s of samples) {
    const m = s.metric;
    // a sample without a scenario tag must not take the whole run's key
    const key =
      m[RUN_SCOPE_LABEL] === 'run' || q.level === 'run'
        ? groupKey('', '')
        : groupKey(m.scenario ?? NO_SCENARIO, q.level === 'request' ? (m.name ?? '') : '');
    let g = stats.get(key);
    if (g === undefined) stats.set(key, (g = new Map()));
    q.stats.forEach((stat, i) => g.set(stat, Number.isFinite(s.values[i]) ? s.values[i]! : null));
  }
}

/** The percentiles (ms) of each histogram sample of a histogram query. */
function histogramSamples(data: PromData, q: StatQuery): { metric: Readonly<Record<string, string>>; values: number[] }[] {
  if (!Array.isArray(data.result)) throw new PrometheusQueryError(`malformed vector answer: result is not a list\n  query: ${q.promql}`);
  return (data.result as { metric?: Record<string, string> }[]).map((r) => {
    const h = sampleHistogram(r, q.promql);
    if (h === undefined || r.metric === undefined)
      throw new PrometheusQueryError(`expected native histogram samples, got ${JSON.stringify(r).slice(0, 200)}\n  query: ${q.promql}`);
    return { metric: r.metric, values: q.stats.map((stat) => histogramQuantile(h, QUANTILE[stat]!) * 1000) };
  });
}

/** Evaluates every stat query of a run (in parallel) at the window's end. */
export async function readStats(
  api: { data(expr: string, time?: number): Promise<PromData> },
  testid: string,
  window: StatWindow,
  trends: 'native' | 'classic',
): Promise<RunStats> {
  const queries = statQueries(testid, window, trends);
  const answers = await Promise.all(queries.map((q) => api.data(q.promql, window.end / 1000)));
  const stats: RunStats = new Map();
  queries.forEach((q, i) => addStatAnswer(stats, q, answers[i]!));
  return stats;
}
