/**
 * Recorded series written as rule evaluation writes them, for data pushed after the fact: rules evaluate only at "now",
 * so a run pushed with past timestamps is never recorded by them. `writeEvaluations` evaluates a rule's expression at
 * every step of [from, to] (the group's evaluation slots) and remote-writes the results under the rule's name, with
 * the result's own timestamps, as Prometheus v3.5.0 rules/group.go appends them. That this is what evaluation records
 * is checked on live evaluation by dashboards/test/recording-rules.prometheus.test.ts.
 */
import type { PrometheusHandle, PromHistogramJson, PromSeriesResult } from './prometheus';
import { DEFAULT_ZERO_THRESHOLD, pushSeries, type HistogramSample, type RemoteWriteSeries } from './remote-write';

/**
 * A histogram of the query API as a remote-write float histogram. The API gives each bucket's bounds: exponential
 * bucket i of schema s is (2^((i-1)/2^s), 2^(i/2^s)], so i = log2(upper) * 2^s; the zero bucket spans
 * [-threshold, threshold]. k6 durations are never negative.
 */
export function floatHistogramOf(h: PromHistogramJson, timestamp: number, schema = 3): HistogramSample {
  const positive: { index: number; count: number }[] = [];
  let zeroCount = 0;
  for (const [, lower, upper, count] of h.buckets ?? []) {
    const [lo, up] = [Number(lower), Number(upper)];
    if (lo < 0 && up > 0) zeroCount += Number(count);
    else if (lo < 0) throw new Error(`negative bucket (${lower}, ${upper}]: k6 durations are never negative`);
    else positive.push({ index: Math.round(Math.log2(up) * 2 ** schema), count: Number(count) });
  }
  const spans: { offset: number; length: number }[] = [];
  let next: number | undefined;
  for (const b of positive) {
    if (next !== undefined && b.index === next) spans[spans.length - 1]!.length++;
    else spans.push({ offset: next === undefined ? b.index : b.index - next, length: 1 });
    next = b.index + 1;
  }
  const sample = {
    count_float: Number(h.count),
    sum: Number(h.sum),
    schema,
    zero_threshold: DEFAULT_ZERO_THRESHOLD,
    zero_count_float: zeroCount,
    positive_spans: spans,
    positive_counts: positive.map((b) => b.count),
    // gauge histograms: what rule evaluation stores a histogram result as
    reset_hint: 3,
    timestamp,
  };
  return sample as unknown as HistogramSample;
}

/**
 * Writes what a rule records over [from, to] (unix ms) when evaluated every `stepSeconds`, steps aligned to `from`;
 * returns how many series it wrote.
 */
export async function writeEvaluations(
  p: PrometheusHandle,
  record: string,
  expr: string,
  from: number,
  to: number,
  stepSeconds: number,
): Promise<number> {
  const data = await p.queryRange(expr, from, to, stepSeconds);
  const series: RemoteWriteSeries[] = (data.result as PromSeriesResult[]).map((s) => ({
    labels: { ...s.metric, __name__: record },
    ...(s.values ? { samples: s.values.map(([t, v]) => ({ value: Number(v), timestamp: Math.round(t * 1000) })) } : {}),
    ...(s.histograms ? { histograms: s.histograms.map(([t, h]) => floatHistogramOf(h, Math.round(t * 1000))) } : {}),
  }));
  for (let i = 0; i < series.length; i += 50) await pushSeries(p.writeUrl, series.slice(i, i + 50));
  return series.length;
}

/** Whether two numbers agree within a relative tolerance (the same sums taken in another order differ by rounding). */
export function closeTo(a: number, b: number, rel: number): boolean {
  return a === b || Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));
}

/** Differences between two histograms of the query API: count, sum and every bucket (boundaries, bounds, count). */
export function histogramDiff(a: PromHistogramJson, b: PromHistogramJson, rel: number): string[] {
  const out: string[] = [];
  if (!closeTo(Number(a.count), Number(b.count), rel)) out.push(`count ${a.count} != ${b.count}`);
  if (!closeTo(Number(a.sum), Number(b.sum), rel)) out.push(`sum ${a.sum} != ${b.sum}`);
  const [ab, bb] = [a.buckets ?? [], b.buckets ?? []];
  if (ab.length !== bb.length) return [...out, `${ab.length} buckets != ${bb.length}`];
  ab.forEach((x, i) => {
    const y = bb[i]!;
    if (x[0] !== y[0] || x[1] !== y[1] || x[2] !== y[2] || !closeTo(Number(x[3]), Number(y[3]), rel))
      out.push(`bucket ${JSON.stringify(x)} != ${JSON.stringify(y)}`);
  });
  return out;
}
