/**
 * Regression rules judged: each rule's stat is the verdict's own threshold query of that stat
 * (constructs/src/k6/threshold-queries.ts `thresholdQuery`, same tag filters, same weighting of rates), or for trends
 * in native mode the same sum of histograms the verdict's quantiles are taken from, evaluated over
 * the run's and the baseline's windows; the run fails the rule when it lies beyond the limit (the baseline moved by
 * the rule's amount) by more than the noise band.
 */
import {
  parseThresholds,
  prometheusMetricName,
  promqlString,
  regressionLimit,
  thresholdQuery,
  type ParsedRegressionRule,
  type ParsedThreshold,
} from '@k6-platform/constructs/internal';
import { PrometheusQueryError, promValue, vectorSamples, type PromData } from '../prometheus/client';
import { quantileRelativeError, runSpread } from './noise';
import { histogramQuantile, sampleHistogram } from '../prometheus/histogram';
import { summedHistogramQuery, type StatWindow } from './queries';
import type { RegressionRuleResult } from './types';

/** The threshold whose query computes the rule's stat (the comparison operator and value are unused). */
export function ruleThreshold(rule: ParsedRegressionRule): ParsedThreshold {
  return parseThresholds({ [rule.key]: [`${rule.aggregationName}<0`] })[0]!;
}

/**
 * The PromQL of a rule's stat over a run window. A trend rule in native mode reads the summed histogram of its key
 * (`histogram: true`: p(N), med and avg are taken from it, cli/prometheus/histogram.ts), so rules on one key and the
 * whole run's percentiles share one sum; any other rule is the verdict's threshold query, in k6's unit.
 */
export function rulePromql(
  rule: ParsedRegressionRule,
  testid: string,
  window: StatWindow,
  trends: 'native' | 'classic',
): { readonly promql: string; readonly histogram: boolean } {
  if (trends === 'native' && rule.metricInfo.type === 'trend') {
    const sel = `{${[`testid=${promqlString(testid)}`, ...Object.entries(rule.filters).map(([k, v]) => `${k}=${promqlString(v)}`)].join(',')}}`;
    return { promql: summedHistogramQuery(prometheusMetricName(rule.metric, rule.metricInfo), sel, window), histogram: true };
  }
  const seconds = (window.end - window.start) / 1000;
  return { promql: thresholdQuery(ruleThreshold(rule), { testid, window: seconds, durationSeconds: seconds, trends }).promql, histogram: false };
}

/** A trend rule's stat from its summed histogram, in k6's unit (ms for time trends); null without observations. */
function histogramStat(rule: ParsedRegressionRule, data: PromData, expr: string): number | null {
  if (data.resultType !== 'vector' || !Array.isArray(data.result))
    throw new PrometheusQueryError(`expected an instant vector, got ${String(data.resultType)}\n  query: ${expr}`);
  if (data.result.length > 1) throw new PrometheusQueryError(`expected one sample, got ${data.result.length}\n  query: ${expr}`);
  const sample = data.result[0] as unknown;
  if (sample === undefined) return null;
  const h = sampleHistogram(sample, expr);
  if (h === undefined) throw new PrometheusQueryError(`expected a native histogram, got ${JSON.stringify(sample).slice(0, 200)}\n  query: ${expr}`);
  const a = rule.aggregation;
  const v = a.kind === 'avg' ? h.sum / h.count : histogramQuantile(h, a.kind === 'percentile' ? a.percentile / 100 : 0.5);
  const k6 = rule.metricInfo.isTime ? v * 1000 : v;
  return Number.isFinite(k6) ? k6 : null;
}

/** The one value of a rule query: null for no sample or a non-finite answer. */
function oneValue(data: PromData, expr: string): number | null {
  if (data.resultType === 'scalar') {
    const r = data.result as [number, string];
    const v = promValue(r[1], expr);
    return Number.isFinite(v) ? v : null;
  }
  if (data.resultType !== 'vector')
    throw new PrometheusQueryError(`expected an instant vector or a scalar, got ${String(data.resultType)}\n  query: ${expr}`);
  const samples = vectorSamples(data, expr);
  if (samples.length > 1) throw new PrometheusQueryError(`expected one sample, got ${samples.length}\n  query: ${expr}`);
  const v = samples[0]?.value;
  return v !== undefined && Number.isFinite(v) ? v : null;
}

/** Evaluates every rule's stat over one run's window (in parallel). */
export async function readRuleValues(
  api: { data(expr: string, time?: number): Promise<PromData> },
  rules: readonly ParsedRegressionRule[],
  testid: string,
  window: StatWindow,
  trends: 'native' | 'classic',
): Promise<(number | null)[]> {
  return Promise.all(
    rules.map(async (r) => {
      const { promql, histogram } = rulePromql(r, testid, window, trends);
      const data = await api.data(promql, window.end / 1000);
      return histogram ? histogramStat(r, data, promql) : oneValue(data, promql);
    }),
  );
}

const isQuantile = (r: ParsedRegressionRule) => r.aggregation.kind === 'percentile' || r.aggregation.kind === 'med';

/** One rule judged; `spreadValues` are the rule's stat over the recent passing runs. */
export function judgeRule(
  rule: ParsedRegressionRule,
  run: number | null,
  baseline: number | null,
  spreadValues: readonly (number | null)[],
  trends: 'native' | 'classic',
): RegressionRuleResult {
  const base = { metric: rule.key, rule: rule.rule, run, baseline };
  if (baseline === null) return { ...base, limit: null, pass: true, note: 'the baseline has no samples for this metric and filters: not judged' };
  const limit = regressionLimit(rule, baseline);
  if (run === null) return { ...base, limit, pass: false, note: 'the run has no samples for this metric and filters' };
  const bucket = trends === 'native' && isQuantile(rule) ? Math.abs(baseline) * quantileRelativeError() : 0;
  const spread = runSpread(spreadValues) ?? 0;
  const noise = Math.max(bucket, spread);
  const beyond = rule.worse === 'increase' ? run - limit : limit - run;
  if (beyond <= 0) return { ...base, limit, pass: true };
  const source = spread > bucket ? 'the spread of recent passing runs' : 'the histogram bucket error';
  if (beyond <= noise)
    return { ...base, limit, pass: true, note: `beyond the limit by ${fmt(beyond)}, within the noise band ±${fmt(noise)} (${source})` };
  return { ...base, limit, pass: false, note: `beyond the limit by ${fmt(beyond)}, more than the noise band ±${fmt(noise)} (${source})` };
}

const fmt = (v: number) => String(Number(v.toPrecision(4)));
