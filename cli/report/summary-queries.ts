/**
 * The PromQL behind summary.json (pure: no I/O). Which k6 metric a Prometheus series name stands for, and one query
 * per value of k6's end-of-test summary. Trend stats, counter counts, gauge values and rates are the verdict's own
 * threshold queries (constructs/src/k6/threshold-queries.ts `thresholdQuery`), so a summary value and the verdict's
 * observed value of the same aggregation are the same number.
 */
import {
  K6_BUILTIN_METRICS,
  promqlString,
  thresholdQuery,
  type K6MetricInfo,
  type K6MetricType,
  type ParsedThreshold,
  type ThresholdAggregation,
  type ThresholdQueryScope,
} from '@k6-platform/constructs/internal';

/** k6's `contains` of a metric (k6 v1.7.1 metrics/value_type.go): what its values measure. */
export type MetricContains = 'default' | 'time' | 'data';

/** A k6 metric found in Prometheus, or named by a threshold key (a submetric with tag filters). */
export interface SummaryMetricRef {
  /** The summary key: the k6 name, or a threshold key such as `http_req_duration{scenario:api}`. */
  readonly key: string;
  /** The k6 metric name. */
  readonly metric: string;
  /** Tag filters of a submetric (empty for the metric itself). */
  readonly filters: Readonly<Record<string, string>>;
  readonly info: K6MetricInfo;
  readonly contains: MetricContains;
}

/** The trend stats of k6's default summary (k6 v1.7.1 lib/options.go `DefaultSummaryTrendStats`), in its order. */
export const SUMMARY_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'] as const;

/** Classic trend-stat suffixes k6 writes (internal/output/prometheusrw/remotewrite/remotewrite.go `setTrendStatsResolver`). */
const CLASSIC_SUFFIX = /^k6_(.+)_(min|max|avg|med|sum|count|p\d+)$/;

/** The data counters of k6 (`contains: data`, bytes). */
const DATA_METRICS = new Set(['data_sent', 'data_received']);

/**
 * The k6 metrics behind the `__name__`s of a run. Names follow k6's remote-write output (K6_METRICS.md): `_total`
 * counters, `_rate` rates, `k6_<trend>_seconds` native histograms of time trends, classic `k6_<trend>_<stat>` gauges
 * (grouped back into their trend), the rest gauges. A custom non-time trend written as a native histogram has no
 * suffix: it is listed as a gauge here and retyped when its value query answers a histogram (see summary.ts).
 */
export function metricsOfNames(names: readonly string[], trends: 'native' | 'classic'): SummaryMetricRef[] {
  const found = new Map<string, SummaryMetricRef>();
  const add = (metric: string, info: K6MetricInfo) => {
    if (!found.has(metric)) found.set(metric, metricRef(metric, {}, info));
  };
  for (const name of names) {
    if (!name.startsWith('k6_')) continue;
    const bare = name.slice(3);
    const builtin = K6_BUILTIN_METRICS[bare];
    if (builtin !== undefined && builtin.type !== 'trend') add(bare, builtin);
    else if (name.endsWith('_total')) add(bare.slice(0, -'_total'.length), { type: 'counter', isTime: false });
    else if (name.endsWith('_rate')) add(bare.slice(0, -'_rate'.length), { type: 'rate', isTime: false });
    else if (trends === 'native' && name.endsWith('_seconds')) add(bare.slice(0, -'_seconds'.length), { type: 'trend', isTime: true });
    else if (trends === 'classic' && CLASSIC_SUFFIX.test(name)) {
      const metric = CLASSIC_SUFFIX.exec(name)![1]!;
      add(metric, K6_BUILTIN_METRICS[metric] ?? { type: 'trend', isTime: false });
    } else add(bare, builtin ?? { type: 'gauge', isTime: false });
  }
  return [...found.values()].sort((a, b) => a.key.localeCompare(b.key));
}

/** A metric or submetric reference. */
export function metricRef(metric: string, filters: Readonly<Record<string, string>>, info: K6MetricInfo, key?: string): SummaryMetricRef {
  const contains: MetricContains = info.isTime ? 'time' : DATA_METRICS.has(metric) ? 'data' : 'default';
  const tags = Object.entries(filters).map(([k, v]) => `${k}:${v}`);
  return { key: key ?? (tags.length > 0 ? `${metric}{${tags.join(',')}}` : metric), metric, filters, info, contains };
}

/** The same metric retyped (a histogram answered where a gauge was assumed). */
export function retyped(ref: SummaryMetricRef, type: K6MetricType): SummaryMetricRef {
  return { ...ref, info: { ...ref.info, type } };
}

/** What the queries of one run are evaluated over. */
export interface SummaryScope {
  readonly testid: string;
  /** Run length in seconds: the range of every query, evaluated at the run's end. */
  readonly durationSeconds: number;
  /** Push interval in seconds: the step at which gauges are sampled for their min and max. */
  readonly pushIntervalSeconds: number;
  readonly trends: 'native' | 'classic';
}

/** The range of every query: the whole run. */
const range = (scope: SummaryScope) => `${Math.max(1, Math.ceil(scope.durationSeconds))}s`;

/**
 * Step of the subqueries that find each series' last sample: at most a minute, below any sane lookback delta (5 min
 * by default), so every series' last sample is seen by some step.
 */
export const LAST_SAMPLE_STEP_SECONDS = 60;

/**
 * Each series' last sample in the run, as a cheap expression: the latest sample at the run's end (series that wrote
 * in the last lookback delta), else the last of the subquery's once-a-minute samples. A subquery evaluates the instant
 * selector once per step, so Prometheus materializes one sample per series and step instead of every sample of the
 * run, as `last_over_time(<sel>[<run>])` does: for native histograms that is the report's main cost (bench/report.ts).
 * `or` matches on the labels without `__name__`: `sel` must select one metric.
 */
export function lastSamples(sel: string, scope: SummaryScope): string {
  return `(${sel} or last_over_time(${sel}[${range(scope)}:${LAST_SAMPLE_STEP_SECONDS}s]))`;
}

const AGGREGATION_OF: Readonly<Record<string, ThresholdAggregation>> = {
  avg: { kind: 'avg' },
  min: { kind: 'min' },
  max: { kind: 'max' },
  med: { kind: 'med' },
  count: { kind: 'count' },
  rate: { kind: 'rate' },
  value: { kind: 'value' },
};

/** The aggregation of a k6 stat name: `avg`, `p(95)`, `count`... */
export function aggregationOf(stat: string): ThresholdAggregation {
  const p = /^p\((\d+(?:\.\d+)?)\)$/.exec(stat);
  if (p !== null) return { kind: 'percentile', percentile: Number(p[1]) };
  const a = AGGREGATION_OF[stat];
  if (a === undefined) throw new Error(`summary: unknown stat ${JSON.stringify(stat)}`);
  return a;
}

/**
 * The run's histogram of a native-histogram trend, summed over all runners: k6 writes each series' histogram
 * cumulative since the runner started (k6 v1.7.1 internal/output/prometheusrw/remotewrite/trend.go: one client_golang
 * Histogram per series, never reset), so the sum of every series' last histogram (`whole`) holds every observation of
 * the run and its average is exact. (The verdict's `increase()` over the window leaves out what the first push
 * carried and extrapolates.) Prometheus 2.42's `last_over_time` answers a float 0 for a histogram series; `latest`,
 * each series' latest histogram at the run's end (within the lookback delta, 5 min by default), is then the answer.
 */
export function nativeTrendQueries(
  ref: SummaryMetricRef,
  scope: SummaryScope,
): { readonly whole: string; readonly latest: string; readonly twin?: string } {
  const sel = `k6_${ref.metric}${ref.info.isTime ? '_seconds' : ''}${selectorOf(scope.testid, ref.filters)}`;
  const twin = TWIN_COUNTERS[ref.metric];
  return {
    whole: `sum${lastSamples(sel, scope)}`,
    latest: `sum(${sel})`,
    ...(twin !== undefined ? { twin: statQuery(metricRef(twin, ref.filters, { type: 'counter', isTime: false }), 'count', scope) } : {}),
  };
}

/**
 * The counter that counts a trend's observations with the same tags, so that a histogram's count can be checked
 * against it: k6 v1.7.1 lib/netext/httpext/transport.go `measureAndEmitMetrics` (`trail.SaveSamples`) emits
 * `http_reqs` and every `http_req_*` timing of a request with one tag set, and internal/js/runner.go
 * `iterationSamples` emits `iterations` with each `iteration_duration`, with the same tags.
 */
const TWIN_COUNTERS: Readonly<Record<string, string>> = {
  http_req_duration: 'http_reqs',
  http_req_waiting: 'http_reqs',
  http_req_blocked: 'http_reqs',
  http_req_connecting: 'http_reqs',
  http_req_tls_handshaking: 'http_reqs',
  http_req_sending: 'http_reqs',
  http_req_receiving: 'http_reqs',
  iteration_duration: 'iterations',
};

/**
 * The verdict's query of `stat` over the metric: a threshold `<stat> < 0` that is never judged, only queried (native
 * trends: {@link nativeTrendQueries}).
 */
export function statQuery(ref: SummaryMetricRef, stat: string, scope: SummaryScope): string {
  const t: ParsedThreshold = {
    key: ref.key,
    expression: `${stat}<0`,
    index: 0,
    metric: ref.metric,
    filters: ref.filters,
    aggregation: aggregationOf(stat),
    aggregationName: stat,
    operator: '<',
    value: 0,
    metricInfo: ref.info,
    abortOnFail: false,
  };
  const s: ThresholdQueryScope = {
    testid: scope.testid,
    window: scope.durationSeconds,
    durationSeconds: scope.durationSeconds,
    trends: scope.trends,
  };
  return thresholdQuery(t, s).promql;
}

/** `{testid="X",k="v"}` */
export function selectorOf(testid: string, filters: Readonly<Record<string, string>> = {}): string {
  return `{${[`testid=${promqlString(testid)}`, ...Object.entries(filters).map(([k, v]) => `${k}=${promqlString(v)}`)].join(',')}}`;
}

/**
 * Every series name of the run, in two queries whose answers are joined (evaluated at the run's end): every name
 * with a sample in the last lookback delta, and every name over the whole run but those of time-trend histograms
 * (`k6_<trend>_seconds`), whose decoding over the run would cost more than the rest of the summary. A time trend all of
 * whose series ended more than the lookback delta (5 min by default) before the run did is not found (docs/report.md).
 */
export function namesQueries(scope: SummaryScope): readonly string[] {
  const floats = `{testid=${promqlString(scope.testid)},__name__!~"k6_.+_seconds"}`;
  return [`count by (__name__) (${selectorOf(scope.testid)})`, `count by (__name__) (last_over_time(${floats}[${range(scope)}]))`];
}

/**
 * A gauge's lowest or highest value over the run, summed over all runners: the sum sampled every push interval (a
 * subquery), so a peak shorter than one interval, or runners pushing out of step, can be missed.
 */
export function gaugeExtremeQuery(ref: SummaryMetricRef, which: 'min' | 'max', scope: SummaryScope): string {
  const step = Math.max(1, Math.round(scope.pushIntervalSeconds));
  return `${which}_over_time(sum(k6_${ref.metric}${selectorOf(scope.testid, ref.filters)})[${range(scope)}:${step}s])`;
}

/**
 * The true values and all values of a k6 rate over all runners (k6's `passes` and `passes + fails`), with the same
 * weights as the verdict's rate query: http_req_failed by the requests of the same tag set, other rates by the
 * iterations of the same runner and scenario.
 */
export function ratePartsQueries(ref: SummaryMetricRef, scope: SummaryScope, by = ''): { passes: string; total: string } {
  const w = range(scope);
  const last = (m: string, sel = selectorOf(scope.testid, ref.filters)) => `last_over_time(${m}${sel}[${w}])`;
  const name = `k6_${ref.metric}_rate`;
  const sum = by === '' ? 'sum' : `sum by (${by})`;
  if (ref.metric === 'http_req_failed') {
    const reqs = last('k6_http_reqs_total');
    return { passes: `${sum}(${last(name)} * ${reqs})`, total: `${sum}(${reqs} and ${last(name)})` };
  }
  const iterations = `sum by (instance_id, scenario) (${last('k6_iterations_total', selectorOf(scope.testid))})`;
  return {
    passes: `${sum}(${last(name)} * on (instance_id, scenario) group_left ${iterations})`,
    total: `${sum}((${last(name)} * 0 + 1) * on (instance_id, scenario) group_left ${iterations})`,
  };
}
