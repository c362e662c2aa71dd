/**
 * The PromQL of each k6 threshold over ALL runners of a run (pure: no I/O): one expression per threshold whose value is
 * in k6's unit (milliseconds for time trends, although Prometheus stores seconds), for native histograms or classic
 * trend stats, and the classic trend stats a runner must write. The CLI verdict, the dashboards' pass/fail row and
 * LoadTest share these queries. See docs/verdict.md for why each aggregation is written the way it is.
 */
import { promqlString } from '../contract/prometheus';
import { DERIVED_SERIES, RECORDED_RUN_TRENDS, recordedRunIncrement, RULE_LEVELS, type RuleLevel } from '../monitoring/recording-rules';
import { prometheusMetricName } from './k6-metrics';
import { parseThresholds, type ParsedThreshold, type ThresholdsConfig } from './threshold-grammar';

/** What the queries are evaluated over. */
export interface ThresholdQueryScope {
  /** The run id (`testid` label), or a Grafana variable such as `$testid`. */
  readonly testid: string;
  /**
   * How `testid` is matched: `=` for one run, `=~` for a Grafana multi-value variable.
   * @default "="
   */
  readonly testidMatch?: '=' | '=~';
  /**
   * Range of the run window, evaluated at the run's end: seconds, or a PromQL duration / Grafana variable.
   * @example 3600, "1h", "$__range"
   */
  readonly window: number | string;
  /**
   * Length of the run in seconds for counter `rate` (k6: count per second of test duration); a number or a PromQL
   * expression such as `$__range_s`.
   * @default - the window in seconds (a number window only)
   */
  readonly durationSeconds?: number | string;
  /**
   * How runners write trends: `native` histograms (K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM, the platform default) or
   * `classic` stat gauges (K6_PROMETHEUS_RW_TREND_STATS), where percentiles of separate series cannot be combined.
   * @default "native"
   */
  readonly trends?: 'native' | 'classic';
  /**
   * The query language of the backend holding the runs: `prometheus` (Prometheus, Mimir, Thanos, Grafana Cloud), or
   * `victoriametrics`, which stores a remote-written native histogram as `_count`, `_sum` and `_bucket{vmrange=...}`
   * series (VictoriaMetrics v1.145.0 lib/prompb/write_request_unmarshaler.go `appendTimeSeries`), so native-mode trend
   * thresholds read those instead of the native name. Only native-mode trends differ.
   * @default "prometheus"
   */
  readonly dialect?: QueryDialect;
  /**
   * Where the whole-run totals come from that the recording rules keep (RECORDED_RUN_INCREMENTS, at the `outcome` or
   * `request` level, whichever keeps the threshold's filters): a native trend's histogram, `http_req_failed`'s failed
   * and judged requests, and the checks' weighted sums (by check). `raw`: every runner's series (`increase`,
   * `last_over_time`); `recorded`: the sum of the recorded increments (exact when complete: the verdict checks that
   * first, for trends); or both sides behind a dashboard's source guards (matchers on a label no series has,
   * dashboards/src/recorded-queries.ts). Other thresholds always read raw series.
   * @default "raw"
   */
  readonly runTotals?: RunTotalsSource;
}

/** See {@link ThresholdQueryScope.runTotals}. */
export type RunTotalsSource = 'raw' | 'recorded' | { readonly recordedGuard: string; readonly rawGuard: string };

/** The query language of a metrics backend: PromQL, or VictoriaMetrics' MetricsQL over its bucket series. */
export type QueryDialect = 'prometheus' | 'victoriametrics';

/** One threshold as PromQL. */
export interface ThresholdQuery {
  /** The parsed threshold. */
  readonly threshold: ParsedThreshold;
  /** k6 metric name. */
  readonly metric: string;
  /** Tag filters. */
  readonly filters: Readonly<Record<string, string>>;
  /** The expression as written. */
  readonly expression: string;
  /** One PromQL expression whose single value is in k6's unit (milliseconds for time trends). */
  readonly promql: string;
  /** How the runners' data is combined, in one sentence. */
  readonly aggregation: string;
}

/** `{testid="X",scenario="api"}` */
function selector(scope: ThresholdQueryScope, filters: Readonly<Record<string, string>>): string {
  const parts = [
    `testid${scope.testidMatch ?? '='}${promqlString(scope.testid)}`,
    ...Object.entries(filters).map(([k, v]) => `${k}=${promqlString(v)}`),
  ];
  return `{${parts.join(',')}}`;
}

/** The first of `levels` that keeps every label a threshold filters on (none: raw series). */
function levelKeeping(t: ParsedThreshold, levels: readonly RuleLevel[]): RuleLevel | undefined {
  return levels.find((l) => Object.keys(t.filters).every((k) => (RULE_LEVELS[l] as readonly string[]).includes(k)));
}

/** The coarsest level of the recorded run totals that keeps every label a threshold filters on (none: raw series). */
const totalsLevel = (t: ParsedThreshold): RuleLevel | undefined => levelKeeping(t, ['outcome', 'request']);

/**
 * The level of the recorded run totals a threshold's run histogram can come from: a recorded trend, and filters only
 * on labels the level keeps; the coarsest such level (`outcome`: a run's one or two series, expected or not; else
 * `request`), or none.
 */
export function runHistogramLevel(t: ParsedThreshold): RuleLevel | undefined {
  return (RECORDED_RUN_TRENDS as readonly string[]).includes(t.metric) ? totalsLevel(t) : undefined;
}

/** Whether a threshold's run histogram can come from the recorded run totals ({@link runHistogramLevel}). */
export function hasRecordedRunHistogram(t: ParsedThreshold): boolean {
  return runHistogramLevel(t) !== undefined;
}

/** Adds matchers to a selector in braces (`{a="x"}`), or leaves it as it is. */
type Guard = (sel: string) => string;
const unguarded: Guard = (sel) => sel;
const guardWith =
  (matcher: string): Guard =>
  (sel) =>
    `${sel.slice(0, -1)},${matcher}}`;

/**
 * `sum(...)` over the run of what `raw` reads from every runner's series, or of the recorded increments `recorded`
 * reads (none: raw), from the source the scope names; each reads its selectors through the guard it is given.
 */
function fromSource(source: RunTotalsSource, raw: (g: Guard) => string, recorded: ((g: Guard) => string) | undefined): string {
  if (source === 'raw' || recorded === undefined) return `sum(${raw(unguarded)})`;
  if (source === 'recorded') return `sum(${recorded(unguarded)})`;
  return `sum(${recorded(guardWith(source.recordedGuard))} or ${raw(guardWith(source.rawGuard))})`;
}

/** The recorded increments of `series` at `level` over `sel`, summed over the window; none without a level. */
function increments(series: string, level: RuleLevel | undefined, sel: string, w: string): ((g: Guard) => string) | undefined {
  return level === undefined ? undefined : (g) => `sum_over_time(${recordedRunIncrement(series, level)}${g(sel)}[${w}])`;
}

/** The level of the recorded check totals a `checks` threshold can read: filters only on labels it keeps. */
function checksLevel(t: ParsedThreshold): RuleLevel | undefined {
  return t.metric === 'checks' ? levelKeeping(t, ['check']) : undefined;
}

function windowOf(scope: ThresholdQueryScope): string {
  return typeof scope.window === 'number' ? `${Math.max(1, Math.ceil(scope.window))}s` : scope.window;
}

/** PromQL of one threshold over all runners of a run; see docs/verdict.md. */
export function thresholdQuery(t: ParsedThreshold, scope: ThresholdQueryScope): ThresholdQuery {
  const sel = selector(scope, t.filters);
  const w = windowOf(scope);
  const name = prometheusMetricName(t.metric, t.metricInfo);
  const last = (m: string, s = sel) => `last_over_time(${m}${s}[${w}])`;
  const toK6Unit = t.metricInfo.isTime ? ' * 1000' : '';
  const source = scope.runTotals ?? 'raw';
  const hist = fromSource(source, (g) => `increase(${name}${g(sel)}[${w}])`, increments(`k6_${t.metric}_seconds`, runHistogramLevel(t), sel, w));
  const from = recordedNote(source, runHistogramLevel(t));
  const base = { threshold: t, metric: t.metric, filters: t.filters, expression: t.expression };
  const a = t.aggregation;
  if (t.metricInfo.type === 'trend' && scope.trends === 'classic') return classicTrendQuery(t, base, last, toK6Unit);
  if (t.metricInfo.type === 'trend' && scope.dialect === 'victoriametrics') return vmrangeTrendQuery(t, base, last, toK6Unit);
  switch (a.kind) {
    case 'percentile':
    case 'med': {
      const q = a.kind === 'percentile' ? Number((a.percentile / 100).toPrecision(12)) : 0.5;
      return {
        ...base,
        promql: `histogram_quantile(${q}, ${hist})${toK6Unit}`,
        aggregation: `quantile ${q} of the native histograms of all runners summed over the run window${from} (within the bucket error)`,
      };
    }
    case 'avg':
      return {
        ...base,
        promql: `(histogram_sum(${hist}) / histogram_count(${hist}))${toK6Unit}`,
        aggregation: `sum of all observations / their count, over the native histograms of all runners${from}`,
      };
    case 'min':
    case 'max':
      return {
        ...base,
        promql: `histogram_quantile(${a.kind === 'min' ? 0 : 1}, ${hist})${toK6Unit}`,
        aggregation: `${a.kind === 'min' ? 'lower' : 'upper'} bound of the ${a.kind === 'min' ? 'lowest' : 'highest'} populated bucket over all runners${from} (native histograms keep no exact min/max)`,
      };
    case 'count':
      return { ...base, promql: `sum(${last(name)})`, aggregation: 'sum over all runners of each counter series’ final value' };
    case 'value':
      return { ...base, promql: `sum(${last(name)})`, aggregation: 'sum over all runners of each gauge series’ last value' };
    case 'rate': {
      if (t.metricInfo.type === 'counter') {
        const d = scope.durationSeconds ?? (typeof scope.window === 'number' ? scope.window : undefined);
        if (d === undefined)
          throw new Error(`thresholdQuery: '${t.key}' '${t.expression}' needs scope.durationSeconds when the window is not a number`);
        return { ...base, promql: `sum(${last(name)}) / ${String(d)}`, aggregation: 'final count over all runners / run duration in seconds' };
      }
      return ratioRateQuery(t, scope, base, { sel, w, name, last, source });
    }
  }
}

/** What {@link thresholdQuery} reads a threshold's series with. */
interface QueryReads {
  /** The threshold's selector, in braces. */
  readonly sel: string;
  /** The run window. */
  readonly w: string;
  /** The metric's series name. */
  readonly name: string;
  /** `last_over_time` of a series over the window, with a selector. */
  readonly last: (m: string, s?: string) => string;
  readonly source: RunTotalsSource;
}

/** The aggregation sentence's ending when the query reads the recorded run totals at `level`. */
const recordedNote = (source: RunTotalsSource, level: RuleLevel | undefined): string =>
  source === 'recorded' && level !== undefined ? ' (the recorded run totals)' : '';

/** A rate threshold over k6's per-series ratios (`k6_<rate>_rate`), which do not add up over runners: weighted sums. */
function ratioRateQuery(
  t: ParsedThreshold,
  scope: ThresholdQueryScope,
  base: Omit<ThresholdQuery, 'promql' | 'aggregation'>,
  { sel, w, name, last, source }: QueryReads,
): ThresholdQuery {
  if (t.metric === 'http_req_failed') {
    // Each rate series is weighted by the request count of exactly the same tag set: its failed requests over its
    // requests, which the recorded run totals hold as they are (DERIVED_SERIES).
    const level = totalsLevel(t);
    const [failed, samples] = (['k6_http_req_failed_nonzero', 'k6_http_req_failed_samples'] as const).map((series) =>
      fromSource(source, (g) => DERIVED_SERIES[series]!((m) => last(m, g(sel))), increments(series, level, sel, w)),
    );
    return {
      ...base,
      promql: `${failed} / ${samples}`,
      aggregation: `each runner’s cumulative ratio per tag set weighted by k6_http_reqs_total of the same tag set${recordedNote(source, level)}`,
    };
  }
  // Other rates (checks, custom): weight each series by its runner's iterations of the same scenario (over the run,
  // whatever the threshold filters on; the recorded check totals weigh them the same way).
  const iterations = (g: Guard) => `sum by (instance_id, scenario) (${last('k6_iterations_total', g(selector(scope, {})))})`;
  const on = 'on (instance_id, scenario) group_left';
  const level = checksLevel(t);
  const weighted = fromSource(source, (g) => `${last(name, g(sel))} * ${on} ${iterations(g)}`, increments('k6_checks_weighted', level, sel, w));
  const weight = fromSource(source, (g) => `(${last(name, g(sel))} * 0 + 1) * ${on} ${iterations(g)}`, increments('k6_checks_weight', level, sel, w));
  return {
    ...base,
    promql: `${weighted} / ${weight}`,
    aggregation: `each runner’s cumulative ratio weighted by that runner’s iterations of the same scenario${recordedNote(source, level)}`,
  };
}

/**
 * A trend threshold over classic stat gauges (`k6_<metric>_<stat>`, seconds, cumulative per series since the start):
 * avg, min and max combine exactly; a percentile is the highest value of any series (an upper bound of the run's
 * percentile: a mix of series never has a higher percentile than its highest series).
 */
function classicTrendQuery(
  t: ParsedThreshold,
  base: Pick<ThresholdQuery, 'threshold' | 'metric' | 'filters' | 'expression'>,
  last: (m: string) => string,
  toK6Unit: string,
): ThresholdQuery {
  const stat = (s: string) => `k6_${t.metric}_${s}`;
  const a = t.aggregation;
  switch (a.kind) {
    case 'avg': {
      // k6 v1.7.1 internal/output/prometheusrw/remotewrite/trend.go adaptUnit divides EVERY stat of a time trend by
      // 1000, `_count` included: the number of observations is `_count * 1000` for time trends.
      const count = t.metricInfo.isTime ? `(sum(${last(stat('count'))}) * 1000)` : `sum(${last(stat('count'))})`;
      return {
        ...base,
        promql: `(sum(${last(stat('sum'))}) / ${count})${toK6Unit}`,
        aggregation:
          'sum of all observations / their count over all runners, from the classic sum and count gauges (exact; a time trend’s _count is written divided by 1000)',
      };
    }
    case 'min':
    case 'max':
      return {
        ...base,
        promql: `${a.kind}(${last(stat(a.kind))})${toK6Unit}`,
        aggregation: `${a.kind} over all runners of the classic ${a.kind} gauges (exact)`,
      };
    default: {
      const name = a.kind === 'percentile' ? `p${String(a.percentile).replace('.', '')}` : 'med';
      return {
        ...base,
        promql: `max(${last(stat(name))})${toK6Unit}`,
        aggregation: `highest ${name} gauge of any runner and series: an upper bound, classic percentiles cannot be combined (use native histograms)`,
      };
    }
  }
}

/**
 * A native-mode trend threshold on VictoriaMetrics, over the series it converts each native histogram into. k6's
 * native histograms are cumulative from the run's start, so the last value of each series in the run window IS the
 * run's total: `sum(last_over_time(...))` is exact (no extrapolation, unlike `increase`). `histogram_quantile` over
 * buckets grouped by `vmrange` is MetricsQL's form for VictoriaMetrics histograms (docs/victoriametrics/MetricsQL.md
 * `histogram_quantile`, v1.145.0).
 */
function vmrangeTrendQuery(
  t: ParsedThreshold,
  base: Pick<ThresholdQuery, 'threshold' | 'metric' | 'filters' | 'expression'>,
  last: (m: string) => string,
  toK6Unit: string,
): ThresholdQuery {
  const name = prometheusMetricName(t.metric, t.metricInfo);
  const total = (m: string) => `sum(${last(m)})`;
  const buckets = `sum by (vmrange) (${last(`${name}_bucket`)})`;
  const a = t.aggregation;
  switch (a.kind) {
    case 'avg':
      return {
        ...base,
        promql: `(${total(`${name}_sum`)} / ${total(`${name}_count`)})${toK6Unit}`,
        aggregation: 'sum of all observations / their count over all runners, from the _sum and _count series VictoriaMetrics stores (exact)',
      };
    case 'min':
    case 'max':
      return {
        ...base,
        promql: `histogram_quantile(${a.kind === 'min' ? 0 : 1}, ${buckets})${toK6Unit}`,
        aggregation: `${a.kind === 'min' ? 'lowest' : 'highest'} populated vmrange bucket over all runners (native histograms keep no exact min/max)`,
      };
    default: {
      const q = a.kind === 'percentile' ? Number((a.percentile / 100).toPrecision(12)) : a.kind === 'med' ? 0.5 : NaN;
      if (Number.isNaN(q)) throw new Error(`thresholdQuery: '${t.key}' '${t.expression}': a trend has no '${a.kind}' aggregation`);
      return {
        ...base,
        promql: `histogram_quantile(${q}, ${buckets})${toK6Unit}`,
        aggregation: `quantile ${q} of the vmrange buckets of all runners' native histograms at the run's end (within the bucket error)`,
      };
    }
  }
}

/**
 * The classic trend stats the generated classic dashboards read (dashboards/src/load-test-panels.ts `QUANTILES`
 * p50/p90/p95/p99 and the min/max of `extreme`, the `quantile_stat` variable of k6-load-test-classic.ts), in k6's
 * K6_PROMETHEUS_RW_TREND_STATS notation. dashboards/test/dashboards.test.ts checks every `k6_<trend>_<stat>` the
 * classic dashboard queries is covered.
 */
export const CLASSIC_DASHBOARD_TREND_STATS: readonly string[] = ['p(90)', 'p(95)', 'p(99)', 'med', 'min', 'max'];

/**
 * K6_PROMETHEUS_RW_TREND_STATS for runners writing classic trend stats (`runner.nativeHistograms: false`): what the
 * classic dashboards read ({@link CLASSIC_DASHBOARD_TREND_STATS}) plus what the test's trend thresholds need: `avg` →
 * `sum` and `count` (the verdict's exact average over all runners, {@link thresholdQuery}), `min`/`max`/`med` as
 * themselves, `p(N)` → `p(N)` (k6 writes `_p<N without the dot>`). One list for every trend of the runner: the variable
 * is per runner, not per metric. Stat names as k6 v1.7.1 metrics/sample.go `GetResolversForTrendColumns` and
 * internal/output/prometheusrw/remotewrite/remotewrite.go `setTrendStatsResolver` (`sum`) accept them.
 */
export function classicTrendStats(thresholds: ThresholdsConfig | readonly ParsedThreshold[] = {}): string[] {
  const parsed = Array.isArray(thresholds) ? (thresholds as readonly ParsedThreshold[]) : parseThresholds(thresholds as ThresholdsConfig);
  const stats = [...CLASSIC_DASHBOARD_TREND_STATS];
  const add = (s: string) => {
    if (!stats.includes(s)) stats.push(s);
  };
  for (const t of parsed) {
    if (t.metricInfo.type !== 'trend') continue;
    const a = t.aggregation;
    if (a.kind === 'avg') {
      add('sum');
      add('count');
    } else if (a.kind === 'percentile') add(`p(${String(a.percentile)})`);
    else add(a.kind);
  }
  return stats;
}

/** PromQL of every threshold of a test (thresholds as in the config, or already parsed). */
export function thresholdQueries(thresholds: ThresholdsConfig | readonly ParsedThreshold[], scope: ThresholdQueryScope): ThresholdQuery[] {
  const parsed = Array.isArray(thresholds) ? (thresholds as readonly ParsedThreshold[]) : parseThresholds(thresholds as ThresholdsConfig);
  return parsed.map((t) => thresholdQuery(t, scope));
}
