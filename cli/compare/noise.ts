/**
 * How much of a delta between a run and its baseline is noise (pure: no I/O). Two sources, the wider wins:
 *
 * - The native histogram's bucket error, for quantiles only. k6 v1.7.1 (internal/output/prometheusrw/remotewrite/
 *   trend.go `newNativeHistogramSink`) builds each trend with client_golang's `NativeHistogramBucketFactor: 1.1` and no
 *   bucket limit; client_golang v1.23.2 (prometheus/histogram.go `pickSchema`) turns a factor f into the schema
 *   -floor(log2(log2 f)) = 3 for 1.1. Schema s has buckets growing by g = 2^(2^-s) (1.0905 at schema 3); a quantile
 *   estimated inside its bucket is within ±(g-1)/(g+1) (±4.33 %) of the truth when taken at the bucket's midpoint.
 * - The spread of the test's own recent passing runs: max - min of the stat over them (at least two runs), used as
 *   the half-width of the band around the baseline: a change no larger than what passing runs already showed among
 *   themselves is not significant.
 *
 * Classic trend stats (gauges k6 computes exactly per series) have no bucket error: their band is the spread alone.
 */
import type { ComparedStat, DeltaSignificance, StatDelta } from './types';

/** k6 v1.7.1's native histogram bucket factor (trend.go `NativeHistogramBucketFactor: 1.1`). */
export const K6_NATIVE_HISTOGRAM_BUCKET_FACTOR = 1.1;

/** The schema client_golang v1.23.2 picks for a bucket factor (histogram.go `pickSchema`: -floor(log2(log2 f)), -4..8). */
export function schemaOfBucketFactor(factor: number): number {
  if (!(factor > 1)) throw new Error(`schemaOfBucketFactor: the bucket factor must be > 1, got ${factor}`);
  const floor = Math.floor(Math.log2(Math.log2(factor)));
  if (floor <= -8) return 8;
  if (floor >= 4) return -4;
  return floor === 0 ? 0 : -floor;
}

/** The schema of k6's native histograms: 3. */
export const K6_NATIVE_HISTOGRAM_SCHEMA = schemaOfBucketFactor(K6_NATIVE_HISTOGRAM_BUCKET_FACTOR);

/** Growth of consecutive bucket boundaries at a schema: 2^(2^-schema). */
export function bucketGrowth(schema: number): number {
  return 2 ** (2 ** -schema);
}

/** Relative error of a quantile estimated at its bucket's midpoint: ±(g-1)/(g+1). */
export function quantileRelativeError(schema: number = K6_NATIVE_HISTOGRAM_SCHEMA): number {
  const g = bucketGrowth(schema);
  return (g - 1) / (g + 1);
}

/** Stats estimated from histogram buckets (the quantiles). */
export const QUANTILE_STATS: readonly ComparedStat[] = ['p50', 'p90', 'p95', 'p99'];

/** Stats where a higher value is worse; the others (throughput, checks) are worse when lower. */
const HIGHER_IS_WORSE: Readonly<Record<ComparedStat, boolean>> = {
  p50: true,
  p90: true,
  p95: true,
  p99: true,
  error_ratio: true,
  request_rate: false,
  iteration_rate: false,
  checks_ratio: false,
  data_sent: true,
  data_received: true,
};

/** Whether a higher value of the stat is worse. */
export function higherIsWorse(stat: ComparedStat): boolean {
  return HIGHER_IS_WORSE[stat];
}

/** Spread of a stat over recent passing runs: max - min of the finite values; undefined with fewer than two. */
export function runSpread(values: readonly (number | null)[]): number | undefined {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (xs.length < 2) return undefined;
  return Math.max(...xs) - Math.min(...xs);
}

/** The noise band of a stat: half-width and where it came from (the wider of bucket error and spread). */
export function noiseBand(
  stat: ComparedStat,
  baseline: number | null,
  trends: 'native' | 'classic',
  spread: number | undefined,
): Pick<StatDelta, 'noise' | 'noiseSource'> {
  const bucket =
    trends === 'native' && QUANTILE_STATS.includes(stat) && baseline !== null && Number.isFinite(baseline)
      ? Math.abs(baseline) * quantileRelativeError()
      : 0;
  const s = spread ?? 0;
  if (bucket === 0 && s === 0) return { noise: 0, noiseSource: 'none' };
  return s > bucket ? { noise: s, noiseSource: 'baseline-spread' } : { noise: bucket, noiseSource: 'bucket-error' };
}

/** What a delta means once the band is taken out. */
export function significance(stat: ComparedStat, run: number | null, baseline: number | null, noise: number): DeltaSignificance {
  if (run === null || baseline === null || !Number.isFinite(run) || !Number.isFinite(baseline)) return 'no-data';
  const delta = run - baseline;
  if (Math.abs(delta) <= noise) return 'no-significant-change';
  return delta > 0 === higherIsWorse(stat) ? 'worse' : 'better';
}

/** One stat compared: deltas, band and significance. */
export function statDelta(
  stat: ComparedStat,
  run: number | null,
  baseline: number | null,
  trends: 'native' | 'classic',
  spread: number | undefined,
): StatDelta {
  const both = run !== null && baseline !== null && Number.isFinite(run) && Number.isFinite(baseline);
  const band = noiseBand(stat, baseline, trends, spread);
  return {
    stat,
    run,
    baseline,
    absolute: both ? run - baseline : null,
    relative: both && baseline !== 0 ? (run - baseline) / baseline : null,
    ...band,
    significance: significance(stat, run, baseline, band.noise),
  };
}
