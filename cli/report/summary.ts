/**
 * summary.json: every k6 metric of a run over all its runners, in the shape of k6's own end-of-test summary data
 * (k6 v1.7.1 internal/js/summary.go `summarizeMetricsToObject` and `metricValueGetter`: per metric `type`, `contains`,
 * `values` and `thresholds: { <expression>: { ok } }`; counters `count`/`rate`, gauges `value`/`min`/`max`, rates
 * `rate`/`passes`/`fails`, trends the default summary trend stats). What Prometheus cannot give exactly is listed
 * per value under `approximate` (docs/report.md).
 */
import { parseThresholdKey, type ParsedThreshold } from '@k6-platform/constructs/internal';
import { PrometheusQueryError, promValue, type PromData, type PrometheusClient } from '../prometheus/client';
import type { RunWindow, Verdict } from '../verdict/verdict';
import { histogramStat, parseHistogram, type NativeHistogram } from '../prometheus/histogram';
import {
  gaugeExtremeQuery,
  nativeTrendQueries,
  metricRef,
  metricsOfNames,
  namesQueries,
  ratePartsQueries,
  retyped,
  statQuery,
  SUMMARY_TREND_STATS,
  type MetricContains,
  type SummaryMetricRef,
  type SummaryScope,
} from './summary-queries';

/** Why a value is not exact (docs/report.md "What is approximate"). */
export type Approximation =
  /** A quantile of native histograms: within the bucket error of their schema. */
  | 'bucket-error'
  /** min/max of native histograms: a bound of the lowest/highest populated bucket. */
  | 'bucket-bound'
  /** A classic percentile: the highest of the runners' own percentiles, an upper bound. */
  | 'upper-bound'
  /** A gauge's min/max: the runners' sum sampled once per push interval. */
  | 'sampled'
  /** A rate other than http_req_failed: each runner's ratio weighted by its iterations of the same scenario. */
  | 'iteration-weighted';

/** One metric of the summary. */
export interface SummaryMetric {
  readonly type: 'counter' | 'gauge' | 'rate' | 'trend';
  readonly contains: MetricContains;
  /** k6's values; null when Prometheus had no sample (or answered NaN). Time trends in ms, data in bytes. */
  readonly values: Readonly<Record<string, number | null>>;
  /** The thresholds on exactly this key, by expression, as judged by the verdict. */
  readonly thresholds?: Readonly<Record<string, { readonly ok: boolean }>>;
  /** The values that are not exact, and why. */
  readonly approximate?: Readonly<Record<string, Approximation>>;
}

/** One check over all runners (k6's `root_group.checks[]`, with every group's checks). */
export interface SummaryCheck {
  readonly name: string;
  /** `<group>::<name>` as k6 writes it (`::<name>` for a check outside any group). */
  readonly path: string;
  readonly passes: number;
  readonly fails: number;
}

/** The summary document's metrics part. */
export interface RunSummaryData {
  readonly metrics: Readonly<Record<string, SummaryMetric>>;
  readonly checks: readonly SummaryCheck[];
}

/** Options of {@link summarizeRun}. */
export interface SummarizeOptions {
  readonly trends: 'native' | 'classic';
  /** The thresholds: each key with tag filters becomes a submetric entry ({@link markThresholds} adds the verdict). */
  readonly thresholds?: readonly ParsedThreshold[];
}

type Value = { readonly kind: 'float'; readonly value: number | null } | { readonly kind: 'histogram'; readonly histogram: NativeHistogram };

/** The one value of an instant query: a float, null for nothing (or NaN), or the fact that it is a histogram. */
async function valueOf(api: Pick<PrometheusClient, 'data'>, expr: string, time: number): Promise<Value> {
  const data = await api.data(expr, time);
  const samples = resultList(data, expr);
  if (samples.length === 0) return { kind: 'float', value: null };
  if (samples.length > 1) throw new PrometheusQueryError(`expected one sample, got ${samples.length}\n  query: ${expr}`);
  const s = samples[0]!;
  if (s.histogram !== undefined) return { kind: 'histogram', histogram: parseHistogram(s.histogram[1], expr) };
  const v = promValue(s.value?.[1] ?? '', expr);
  return { kind: 'float', value: Number.isFinite(v) ? v : null };
}

interface RawSample {
  readonly metric: Record<string, string>;
  readonly value?: [number, string];
  readonly histogram?: [number, unknown];
}

function resultList(data: PromData, expr: string): RawSample[] {
  if (data.resultType !== 'vector' || !Array.isArray(data.result))
    throw new PrometheusQueryError(`expected an instant vector, got ${String(data.resultType)}\n  query: ${expr}`);
  return data.result as RawSample[];
}

const float = async (api: Pick<PrometheusClient, 'data'>, expr: string, time: number): Promise<number | null> => {
  const v = await valueOf(api, expr, time);
  return v.kind === 'float' ? v.value : null;
};

/** k6's `passes`/`fails` are counts: products of ratios and counts are rounded back to whole numbers. */
const whole = (v: number | null) => (v === null ? null : Math.round(v));

/** The values of one metric; a gauge whose value is a histogram is a custom non-time trend and is summarized as one. */
async function summarizeMetric(
  api: Pick<PrometheusClient, 'data'>,
  ref: SummaryMetricRef,
  scope: SummaryScope,
  time: number,
): Promise<{ ref: SummaryMetricRef; values: Record<string, number | null>; approximate: Record<string, Approximation> }> {
  const q = (stat: string) => statQuery(ref, stat, scope);
  switch (ref.info.type) {
    case 'counter': {
      const count = await float(api, q('count'), time);
      return { ref, values: { count, rate: count === null ? null : count / scope.durationSeconds }, approximate: {} };
    }
    case 'gauge': {
      const value = await valueOf(api, q('value'), time);
      if (value.kind === 'histogram') return summarizeMetric(api, retyped(ref, 'trend'), scope, time);
      const [min, max] = await Promise.all([
        float(api, gaugeExtremeQuery(ref, 'min', scope), time),
        float(api, gaugeExtremeQuery(ref, 'max', scope), time),
      ]);
      return { ref, values: { value: value.value, min, max }, approximate: { min: 'sampled', max: 'sampled' } };
    }
    case 'rate': {
      const parts = ratePartsQueries(ref, scope);
      const [passes, total] = await Promise.all([float(api, parts.passes, time), float(api, parts.total, time)]);
      const p = whole(passes);
      const n = whole(total);
      const values = { rate: p !== null && n !== null && n > 0 ? p / n : null, passes: p, fails: p !== null && n !== null ? n - p : null };
      return {
        ref,
        values,
        approximate:
          ref.metric === 'http_req_failed' ? {} : { rate: 'iteration-weighted', passes: 'iteration-weighted', fails: 'iteration-weighted' },
      };
    }
    case 'trend': {
      if (scope.trends === 'native') return { ref, ...(await nativeTrend(api, ref, scope, time)) };
      const stats = await Promise.all(SUMMARY_TREND_STATS.map((s) => float(api, q(s), time)));
      const approximate: Record<string, Approximation> = {};
      for (const s of SUMMARY_TREND_STATS) if (s !== 'avg' && s !== 'min' && s !== 'max') approximate[s] = 'upper-bound';
      return { ref, values: Object.fromEntries(SUMMARY_TREND_STATS.map((s, i) => [s, stats[i]!])), approximate };
    }
  }
}

/** A native trend's stats from the run's one histogram (cli/prometheus/histogram.ts); nulls when it has none. */
async function nativeTrend(
  api: Pick<PrometheusClient, 'data'>,
  ref: SummaryMetricRef,
  scope: SummaryScope,
  time: number,
): Promise<{ values: Record<string, number | null>; approximate: Record<string, Approximation> }> {
  const { whole, latest, twin } = nativeTrendQueries(ref, scope);
  // The latest histograms are cheap (the last chunk of each series); they are the run's when their count is the
  // twin counter's total. Otherwise some series ended before the lookback delta: ask for every series' last one.
  const [cheap, total] = await Promise.all([valueOf(api, latest, time), twin !== undefined ? float(api, twin, time) : Promise.resolve(null)]);
  let v = cheap;
  if (v.kind !== 'histogram' || total === null || v.histogram.count !== total) {
    const full = await valueOf(api, whole, time);
    if (full.kind === 'histogram') v = full;
  }
  const h = v.kind === 'histogram' ? v.histogram : undefined;
  const approximate: Record<string, Approximation> = {};
  const values: Record<string, number | null> = {};
  for (const s of SUMMARY_TREND_STATS) {
    const x = h !== undefined ? histogramStat(h, s) * (ref.info.isTime ? 1000 : 1) : NaN;
    values[s] = Number.isFinite(x) ? x : null;
    if (s !== 'avg') approximate[s] = s === 'min' || s === 'max' ? 'bucket-bound' : 'bucket-error';
  }
  return { values, approximate };
}

/** The submetrics the thresholds name (`http_req_duration{scenario:api}`), typed like their metric. */
function submetricsOf(thresholds: readonly ParsedThreshold[], metrics: readonly SummaryMetricRef[]): SummaryMetricRef[] {
  const seen = new Map<string, SummaryMetricRef>();
  for (const t of thresholds) {
    if (Object.keys(t.filters).length === 0 || seen.has(t.key)) continue;
    const base = metrics.find((m) => m.metric === t.metric);
    seen.set(t.key, metricRef(t.metric, parseThresholdKey(t.key).filters, base?.info ?? t.metricInfo, t.key));
  }
  return [...seen.values()];
}

/** Every check by group and name, passes and fails over all runners. */
async function summarizeChecks(api: Pick<PrometheusClient, 'data'>, scope: SummaryScope, time: number): Promise<SummaryCheck[]> {
  const ref = metricRef('checks', {}, { type: 'rate', isTime: false });
  const parts = ratePartsQueries(ref, scope, 'group, check');
  const [passes, totals] = await Promise.all([api.data(parts.passes, time), api.data(parts.total, time)]);
  const key = (m: Record<string, string>) => `${m.group ?? ''}::${m.check ?? ''}`;
  const passed = new Map(resultList(passes, parts.passes).map((s) => [key(s.metric), Math.round(promValue(s.value?.[1] ?? '', parts.passes))]));
  return resultList(totals, parts.total)
    .map((s) => {
      const total = Math.round(promValue(s.value?.[1] ?? '', parts.total));
      const p = passed.get(key(s.metric)) ?? 0;
      return { name: s.metric.check ?? '', path: key(s.metric), passes: p, fails: total - p };
    })
    .sort((a, b) => a.path.localeCompare(b.path));
}

/** The summary of a run over its window: every metric the run wrote, the thresholds' submetrics, the checks. */
export async function summarizeRun(
  api: Pick<PrometheusClient, 'data'>,
  testid: string,
  window: RunWindow,
  options: SummarizeOptions,
): Promise<RunSummaryData> {
  const scope: SummaryScope = {
    testid,
    durationSeconds: (window.end - window.start) / 1000,
    pushIntervalSeconds: window.pushIntervalSeconds,
    trends: options.trends,
  };
  const time = window.end / 1000;
  const names = await Promise.all(namesQueries(scope).map(async (q) => resultList(await api.data(q, time), q)));
  const found = metricsOfNames([...new Set(names.flat().map((s) => s.metric.__name__ ?? ''))], options.trends);
  const refs = [...found, ...submetricsOf(options.thresholds ?? [], found)];
  // Every query at once: the caller's API bounds how many are in flight (cli/report/limit.ts).
  const [summarized, checks] = await Promise.all([
    Promise.all(refs.map((ref) => summarizeMetric(api, ref, scope, time))),
    found.some((m) => m.metric === 'checks') ? summarizeChecks(api, scope, time) : Promise.resolve([]),
  ]);
  const metrics: Record<string, SummaryMetric> = {};
  for (const { ref, values, approximate } of summarized) {
    metrics[ref.key] = { type: ref.info.type, contains: ref.contains, values, ...(Object.keys(approximate).length > 0 ? { approximate } : {}) };
  }
  return { metrics, checks };
}

/** The summary with each metric's `thresholds`: the verdict's rows on exactly its key, by expression. */
export function markThresholds(data: RunSummaryData, verdict: Pick<Verdict, 'rows'>): RunSummaryData {
  const metrics: Record<string, SummaryMetric> = {};
  for (const [key, m] of Object.entries(data.metrics)) {
    const judged = verdict.rows.filter((r) => r.query.threshold.key === key);
    const { approximate, ...rest } = m;
    metrics[key] = {
      ...rest,
      ...(judged.length > 0 ? { thresholds: Object.fromEntries(judged.map((r) => [r.query.expression, { ok: r.pass }])) } : {}),
      ...(approximate !== undefined ? { approximate } : {}),
    };
  }
  return { metrics, checks: data.checks };
}
