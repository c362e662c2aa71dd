/**
 * Native histograms as Prometheus' HTTP API renders them (`{count, sum, buckets: [[boundaryRule, lower, upper,
 * count], ...]}`), and the stats of k6's summary computed from one of them. One answer per trend gives every stat:
 * asking Prometheus for each stat separately would decode the run's histograms once per stat.
 */
import { PrometheusQueryError } from '../prometheus/client';

/** One bucket: its bounds and its count. */
export interface Bucket {
  readonly lower: number;
  readonly upper: number;
  readonly count: number;
}

/** A native histogram: total count, sum of the observations, buckets in ascending order. */
export interface NativeHistogram {
  readonly count: number;
  readonly sum: number;
  readonly buckets: readonly Bucket[];
}

/** The API's rendering of a histogram, checked. */
export function parseHistogram(raw: unknown, expr: string): NativeHistogram {
  const h = raw as { count?: unknown; sum?: unknown; buckets?: unknown };
  const num = (v: unknown) => (typeof v === 'string' ? Number(v) : NaN);
  const buckets = (Array.isArray(h?.buckets) ? (h.buckets as unknown[]) : []).map((b) => {
    if (!Array.isArray(b) || b.length !== 4) throw new PrometheusQueryError(`malformed histogram bucket ${JSON.stringify(b)}\n  query: ${expr}`);
    return { lower: num(b[1]), upper: num(b[2]), count: num(b[3]) };
  });
  const out = { count: num(h?.count), sum: num(h?.sum), buckets: buckets.sort((a, b) => a.lower - b.lower) };
  if (Number.isNaN(out.count) || buckets.some((b) => Number.isNaN(b.count) || Number.isNaN(b.lower) || Number.isNaN(b.upper)))
    throw new PrometheusQueryError(`malformed histogram ${JSON.stringify(raw).slice(0, 200)}\n  query: ${expr}`);
  return out;
}

/**
 * The q-quantile of a native histogram, estimated as Prometheus v3.5.0 promql/quantile.go `HistogramQuantile` does for
 * exponential buckets: the bucket holding the rank (counted from the top for q >= 0.5), then interpolation on a log
 * scale inside it (linear in the zero bucket, whose lower bound is 0 when there are no negative buckets). q = 0 is
 * the lower bound of the lowest populated bucket, q = 1 the upper bound of the highest. NaN for an empty histogram.
 */
export function histogramQuantile(h: NativeHistogram, q: number): number {
  if (!(h.count > 0) || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const populated = h.buckets.filter((b) => b.count > 0);
  if (populated.length === 0) return NaN;
  const forward = q < 0.5;
  const order = forward ? populated : [...populated].reverse();
  let rank = forward ? q * h.count : (1 - q) * h.count;
  let count = 0;
  let bucket = order[0]!;
  for (const b of order) {
    bucket = b;
    count += b.count;
    if (count >= rank) break;
  }
  const onlyPositive = !h.buckets.some((b) => b.upper < 0);
  const lower = bucket.lower < 0 && bucket.upper > 0 && onlyPositive ? 0 : bucket.lower;
  const upper = bucket.upper;
  count = Math.min(count, h.count);
  if (count < rank) return upper;
  rank = forward ? rank - (count - bucket.count) : count - rank;
  const fraction = rank / bucket.count;
  if (lower <= 0 && upper >= 0) return lower + (upper - lower) * fraction;
  const [logLower, logUpper] = [Math.log2(Math.abs(lower)), Math.log2(Math.abs(upper))];
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
