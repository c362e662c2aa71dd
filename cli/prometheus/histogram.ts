/**
 * Native histograms as Prometheus' HTTP API renders them (`{count, sum, buckets: [[boundaryRule, lower, upper,
 * count], ...]}`), and their quantiles and k6 trend stats (pure). `compare` and `report` ask Prometheus once for each
 * summed histogram and take every percentile here, instead of one `histogram_quantile` query per percentile that would
 * each sum the same hour of histograms again: the summing is what costs (docs/compare.md, docs/report.md).
 *
 * The quantile follows Prometheus v3.5.0 promql/quantile.go `HistogramQuantile` for standard (exponential) schemas:
 * forward from the lowest bucket for q < 0.5, backward from the highest for q >= 0.5, linear interpolation in the
 * zero bucket (from 0 when there are no negative buckets), logarithmic interpolation in the others. Prometheus 2.42
 * interpolates linearly in every bucket: the two differ within one bucket, less than the bucket error.
 */
import { PrometheusQueryError } from './client';

/** One bucket of a native histogram. */
export interface HistogramBucket {
  readonly lower: number;
  readonly upper: number;
  readonly count: number;
}

/** A native histogram as answered: observations, their sum, the non-empty buckets in ascending order. */
export interface NativeHistogram {
  readonly count: number;
  readonly sum: number;
  readonly buckets: readonly HistogramBucket[];
}

const num = (raw: unknown, expr: string): number => {
  if (typeof raw !== 'string') throw new PrometheusQueryError(`malformed histogram value ${JSON.stringify(raw)}\n  query: ${expr}`);
  if (raw === '+Inf' || raw === 'Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  return Number(raw);
};

/** The API's rendering of a histogram (`{count, sum, buckets}`), checked; buckets in ascending order. */
export function parseHistogram(raw: unknown, expr: string): NativeHistogram {
  const body = raw as { count?: unknown; sum?: unknown; buckets?: unknown } | null | undefined;
  if (body === undefined || body === null || typeof body !== 'object')
    throw new PrometheusQueryError(`malformed histogram ${JSON.stringify(raw)?.slice(0, 200)}\n  query: ${expr}`);
  const buckets = (Array.isArray(body.buckets) ? (body.buckets as unknown[]) : []).map((b) => {
    if (!Array.isArray(b) || b.length < 4) throw new PrometheusQueryError(`malformed histogram bucket ${JSON.stringify(b)}\n  query: ${expr}`);
    return { lower: num(b[1], expr), upper: num(b[2], expr), count: num(b[3], expr) };
  });
  const h = { count: num(body.count, expr), sum: num(body.sum, expr), buckets: buckets.sort((a, b) => a.lower - b.lower) };
  if (Number.isNaN(h.count) || buckets.some((b) => Number.isNaN(b.count) || Number.isNaN(b.lower) || Number.isNaN(b.upper)))
    throw new PrometheusQueryError(`malformed histogram ${JSON.stringify(raw).slice(0, 200)}\n  query: ${expr}`);
  return h;
}

/**
 * The histogram of an instant-vector sample (`"histogram": [t, {count, sum, buckets}]`); undefined for a float sample.
 */
export function sampleHistogram(sample: unknown, expr: string): NativeHistogram | undefined {
  const h = (sample as { histogram?: unknown }).histogram;
  if (h === undefined) return undefined;
  const body: unknown = Array.isArray(h) ? h[1] : undefined;
  if (body === undefined || body === null || typeof body !== 'object')
    throw new PrometheusQueryError(`malformed histogram sample ${JSON.stringify(sample).slice(0, 200)}\n  query: ${expr}`);
  return parseHistogram(body, expr);
}

/** The q-quantile (0..1) of a native histogram; NaN for an empty one. */
export function histogramQuantile(h: NativeHistogram, q: number): number {
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  if (h.count === 0 || Number.isNaN(q)) return NaN;
  const forward = Number.isNaN(h.sum) || q < 0.5;
  const ordered = forward ? h.buckets : [...h.buckets].reverse();
  let rank = forward ? q * h.count : (1 - q) * h.count;
  let count = 0;
  let bucket: HistogramBucket | undefined;
  for (const b of ordered) {
    if (b.count === 0) continue;
    bucket = b;
    count += b.count;
    if (count >= rank) break;
  }
  if (bucket === undefined) return NaN;
  let { lower, upper } = bucket;
  if (lower < 0 && upper > 0) {
    const negatives = h.buckets.some((b) => b.upper <= 0 && !(b.lower < 0 && b.upper > 0));
    const positives = h.buckets.some((b) => b.lower >= 0 && !(b.lower < 0 && b.upper > 0));
    if (!negatives && positives) lower = 0;
    else if (negatives && !positives) upper = 0;
  }
  count = Math.min(count, h.count);
  if (count < rank) return Number.isNaN(h.sum) ? NaN : upper;
  rank = forward ? rank - (count - bucket.count) : count - rank;
  const fraction = rank / bucket.count;
  if (lower <= 0 && upper >= 0) return lower + (upper - lower) * fraction;
  const logLower = Math.log2(Math.abs(lower));
  const logUpper = Math.log2(Math.abs(upper));
  if (lower > 0) return 2 ** (logLower + (logUpper - logLower) * fraction);
  return -(2 ** (logUpper + (logLower - logUpper) * (1 - fraction)));
}

/** A stat of k6's summary from a histogram: `avg` (sum / count, exact), `min`, `max`, `med`, `p(N)`. */
export function histogramStat(h: NativeHistogram, stat: string): number {
  if (stat === 'avg') return h.count > 0 ? h.sum / h.count : NaN;
  if (stat === 'min') return histogramQuantile(h, 0);
  if (stat === 'max') return histogramQuantile(h, 1);
  if (stat === 'med') return histogramQuantile(h, 0.5);
  const p = /^p\((\d+(?:\.\d+)?)\)$/.exec(stat);
  if (p === null) throw new Error(`summary: ${JSON.stringify(stat)} is not a trend stat`);
  return histogramQuantile(h, Number(p[1]) / 100);
}
