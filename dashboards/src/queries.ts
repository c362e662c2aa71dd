/**
 * The queries the load-test panels share, written once for both trend modes: latency ({@link LatencyQueries}, native
 * histograms or classic trend-stat gauges) and counters.
 */
import { DERIVED_SERIES } from '@k6-platform/constructs/internal';

/** A latency quantile, in the vocabulary of each mode. */
export interface Quantile {
  /** Native mode: the quantile as a number (`0.95`) or a variable (`$quantile`). */
  readonly native: string;
  /** Classic mode: the stat suffix (`p95`, `med`) or a variable (`$quantile_stat`). */
  readonly classic: string;
  /** Legend/title label (`p95`, `$quantile`). */
  readonly label: string;
}

/** The quantiles panels use. */
export const QUANTILES = {
  p50: { native: '0.5', classic: 'med', label: 'p50' },
  p90: { native: '0.9', classic: 'p90', label: 'p90' },
  p95: { native: '0.95', classic: 'p95', label: 'p95' },
  p99: { native: '0.99', classic: 'p99', label: 'p99' },
  selected: { native: '$quantile', classic: '$quantile_stat', label: 'selected quantile' },
} as const satisfies Record<string, Quantile>;

/** How one trend mode expresses latency queries. */
export interface LatencyQueries {
  /** `native` (histograms) or `classic` (one gauge per trend stat). */
  readonly mode: 'native' | 'classic';
  /**
   * Latency of `trend` (a k6 trend name, e.g. `http_req_duration`) at a quantile, as a time series, optionally per
   * label set (`by`).
   */
  overTime(trend: string, q: Quantile, sel: string, by?: readonly string[]): string;
  /** Latency of `trend` at a quantile over the whole run up to the end of the time range (tables, stats). */
  overRun(trend: string, q: Quantile, sel: string, by?: readonly string[]): string;
  /** Smallest and largest observed latency over the run (native: bucket bounds; classic: the min/max stats). */
  extreme(trend: string, which: 'min' | 'max', sel: string, by?: readonly string[]): string;
  /** Per-second rate of a k6 counter (`k6_http_reqs_total`), summed (optionally per label set). */
  rate(metric: string, sel: string, by?: readonly string[]): string;
  /** Sum of a k6 gauge (`k6_vus`) over runners (optionally per label set). */
  gauge(metric: string, sel: string, by?: readonly string[]): string;
  /** Total of a k6 counter over the run up to the end of the time range (optionally per label set). */
  total(metric: string, sel: string, by?: readonly string[]): string;
  /**
   * Sum of a series the recording rules derive from k6's (DERIVED_SERIES: the checks' weighted sums), over runners, at
   * each step or at the end of the range (`overRun`), by `by`.
   */
  derived(series: string, sel: string, by: readonly string[], overRun: boolean): string;
  /** The merged rate of a native-histogram trend (what quantiles and the heatmap read); native mode only. */
  histogramRate(trend: string, sel: string, by?: readonly string[]): string;
}

export const byClause = (by?: readonly string[]): string => (by !== undefined && by.length > 0 ? ` by (${by.join(', ')})` : '');

/**
 * Native histograms: quantiles come from the merged histogram of all runners and label sets, so they are true
 * quantiles of all requests (within the bucket resolution), not averages of per-runner quantiles.
 */
export const nativeLatency: LatencyQueries = {
  mode: 'native',
  overTime: (trend, q, sel, by) => `histogram_quantile(${q.native}, ${nativeLatency.histogramRate(trend, sel, by)})`,
  // Over the run: the increase of each series' histogram over the range. (last_over_time would be exact, but
  // Prometheus before 2.50 ignores histogram samples in *_over_time functions; increase works from 2.40 on. It misses
  // the first push interval of each series and extrapolates the rest, which leaves quantiles within the bucket error.)
  overRun: (trend, q, sel, by) => `histogram_quantile(${q.native}, sum${byClause(by)} (increase(k6_${trend}_seconds{${sel}}[$__range])))`,
  extreme: (trend, which, sel, by) =>
    `histogram_quantile(${which === 'min' ? '0' : '1'}, sum${byClause(by)} (increase(k6_${trend}_seconds{${sel}}[$__range])))`,
  rate: (metric, sel, by) => counterRate(metric, sel, by),
  gauge: (metric, sel, by) => gaugeSum(metric, sel, by),
  total: (metric, sel, by) => counterTotal(metric, sel, by),
  derived: (series, sel, by, overRun) => derivedSum(series, sel, by, overRun),
  histogramRate: (trend, sel, by) => `sum${byClause(by)} (rate(k6_${trend}_seconds{${sel}}[$__rate_interval]))`,
};

/** Aggregation across runners and label sets of a classic stat gauge (per-runner stats cannot be merged exactly). */
function classicAggregate(stat: string): string {
  if (stat === 'min') return 'min';
  if (stat === 'avg') return 'avg';
  return 'max';
}

/**
 * Classic trend stats: each runner sends one gauge per stat and label set, cumulative since it started. Percentiles of
 * different runners cannot be merged, so panels show the worst (max) one; min shows the smallest.
 */
export const classicLatency: LatencyQueries = {
  mode: 'classic',
  overTime: (trend, q, sel, by) => `${classicAggregate(q.classic)}${byClause(by)} (k6_${trend}_${q.classic}{${sel}})`,
  overRun: (trend, q, sel, by) => `${classicAggregate(q.classic)}${byClause(by)} (last_over_time(k6_${trend}_${q.classic}{${sel}}[$__range]))`,
  extreme: (trend, which, sel, by) => `${which}${byClause(by)} (${which}_over_time(k6_${trend}_${which}{${sel}}[$__range]))`,
  rate: (metric, sel, by) => counterRate(metric, sel, by),
  gauge: (metric, sel, by) => gaugeSum(metric, sel, by),
  total: (metric, sel, by) => counterTotal(metric, sel, by),
  derived: (series, sel, by, overRun) => derivedSum(series, sel, by, overRun),
  histogramRate: () => {
    throw new Error('classic mode has no histograms: trend stats are gauges');
  },
};

/** Total of a k6 counter over the run up to the end of the time range (counters are cumulative per series). */
export function counterTotal(metric: string, sel: string, by?: readonly string[]): string {
  return `sum${byClause(by)} (last_over_time(${metric}{${sel}}[$__range]))`;
}

/** A derived series (DERIVED_SERIES) read from k6's own: each series at the step, or its last value over the range. */
export function derivedRaw(series: string, sel: string, overRun: boolean): string {
  const formula = DERIVED_SERIES[series];
  if (formula === undefined) throw new Error(`derivedRaw: no derived series ${series}`);
  return formula((m) => (overRun ? `last_over_time(${m}{${sel}}[$__range])` : `${m}{${sel}}`));
}

/** Sum of a derived series over runners (see {@link LatencyQueries.derived}). */
export function derivedSum(series: string, sel: string, by: readonly string[], overRun: boolean): string {
  return `sum${byClause(by)} (${derivedRaw(series, sel, overRun)})`;
}

/** Per-second rate of a k6 counter. */
export function counterRate(metric: string, sel: string, by?: readonly string[]): string {
  return `sum${byClause(by)} (rate(${metric}{${sel}}[$__rate_interval]))`;
}

/** Sum of a k6 gauge over runners. */
export function gaugeSum(metric: string, sel: string, by?: readonly string[]): string {
  return `sum${byClause(by)} (${metric}{${sel}})`;
}

/** The sentence a latency panel's description ends with: how the mode aggregates runners. */
export const descriptionSuffix = (l: LatencyQueries): string =>
  l.mode === 'native'
    ? " Quantiles come from the merged native histograms of all runners (exact within the bucket resolution, about 9% with k6's default schema)."
    : ' Classic mode: each runner reports each percentile since it started, per label set; percentiles cannot be merged, so the ' +
      'panel shows the worst series (max): an upper bound of the true percentile over all requests, not the percentile itself. ' +
      'For true percentiles over all runners, run with native histograms and use the "k6 load test" dashboard.';

/**
 * A latency panel title or legend as the mode can claim it: a classic percentile is the worst series' (an upper bound
 * of the true one), a native one the merged histogram's.
 */
export const latencyLabel = (l: LatencyQueries, text: string): string => (l.mode === 'classic' ? `${text} (worst series)` : text);
