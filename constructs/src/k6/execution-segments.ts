/**
 * k6 execution segments for N runners, computed with exact rational numbers (never floats), so the N segments cover
 * [0, 1] exactly once with no gap and no overlap.
 */

/** Greatest common divisor of two non-negative integers. */
function gcd(a: number, b: number): number {
  let x = Math.abs(a);
  let y = Math.abs(b);
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/** An exact fraction `num/den` in lowest terms, den > 0. Integer parts stay far below 2^53 for N <= 1000. */
export class Rational {
  /** 0 */
  public static readonly ZERO = new Rational(0, 1);
  /** 1 */
  public static readonly ONE = new Rational(1, 1);

  /** Numerator (lowest terms). */
  public readonly num: number;
  /** Denominator (lowest terms, > 0). */
  public readonly den: number;

  public constructor(num: number, den: number) {
    if (!Number.isSafeInteger(num) || !Number.isSafeInteger(den) || den === 0) {
      throw new Error(`Rational: needs safe integers and a non-zero denominator, got ${num}/${den}`);
    }
    const sign = den < 0 ? -1 : 1;
    const g = num === 0 ? Math.abs(den) : gcd(num, den);
    this.num = (sign * num) / g;
    this.den = (sign * den) / g;
  }

  /** this + other, exactly. */
  public add(other: Rational): Rational {
    return new Rational(this.num * other.den + other.num * this.den, this.den * other.den);
  }

  /** this - other, exactly. */
  public sub(other: Rational): Rational {
    return new Rational(this.num * other.den - other.num * this.den, this.den * other.den);
  }

  /** -1, 0 or 1 as this is less than, equal to or greater than `other`. */
  public compare(other: Rational): number {
    return Math.sign(this.num * other.den - other.num * this.den);
  }

  /** Whether both fractions are the same number. */
  public equals(other: Rational): boolean {
    return this.num === other.num && this.den === other.den;
  }

  /** k6 syntax: `0`, `1`, `1/3`. */
  public toString(): string {
    return this.den === 1 ? String(this.num) : `${this.num}/${this.den}`;
  }
}

/** One runner's share of the test. */
export interface ExecutionSegment {
  /** Runner index (0-based: the Indexed Job's completion index). */
  readonly index: number;
  /** Start of the segment (inclusive). */
  readonly from: Rational;
  /** End of the segment (exclusive, except 1). */
  readonly to: Rational;
  /** `--execution-segment` value (`0:1/2`). */
  readonly segment: string;
}

/** Upper bound on runners; keeps every numerator and denominator exact. */
export const MAX_RUNNERS = 1000;

function checkCount(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_RUNNERS) {
    throw new Error(`executionSegments: 'parallelism' must be an integer between 1 and ${MAX_RUNNERS}, got ${n}`);
  }
}

/** The N equal segments `i/N:(i+1)/N`, index 0 first. */
export function executionSegments(n: number): ExecutionSegment[] {
  checkCount(n);
  return Array.from({ length: n }, (_, i) => {
    const from = new Rational(i, n);
    const to = new Rational(i + 1, n);
    return { index: i, from, to, segment: `${from.toString()}:${to.toString()}` };
  });
}

/** `--execution-segment-sequence` value for N runners: `0,1/N,...,1` (in lowest terms). */
export function executionSegmentSequence(n: number): string {
  checkCount(n);
  return Array.from({ length: n + 1 }, (_, i) => new Rational(i, n).toString()).join(',');
}

/** Upper bound on clusters of one run; with {@link MAX_WEIGHT} and {@link MAX_RUNNERS} every product stays exact. */
export const MAX_CLUSTERS = 16;
/** Upper bound on one cluster's weight in a split (`--split 3:1`). */
export const MAX_WEIGHT = 1000;

/** One cluster's share of a run split over several clusters. */
export interface ClusterShare {
  /** Cluster index (0-based, in the order the clusters were given). */
  readonly index: number;
  /** Start of the cluster's range (inclusive). */
  readonly from: Rational;
  /** End of the cluster's range (exclusive, except 1). */
  readonly to: Rational;
  /** The cluster's runners' segments, its runner 0 first: equal parts of [from, to). `index` is the runner's index in its cluster. */
  readonly segments: readonly ExecutionSegment[];
}

/** A run's execution range [0, 1] split over clusters. */
export interface ExecutionSplit {
  /** One share per cluster, in order; together they cover [0, 1] once. */
  readonly clusters: readonly ClusterShare[];
  /**
   * The one `--execution-segment-sequence` every runner of every cluster gets: all runners' segment boundaries in
   * order. k6 v1.7.1 lib/execution_segment.go `NewExecutionTuple` finds a runner's segment in the sequence
   * (`FindSegmentPosition`: it must be exactly one of its parts) and partitions VUs and iterations by the whole
   * sequence (striped offsets), so every runner needs the same sequence for the parts to add up to the test.
   */
  readonly sequence: string;
}

/**
 * How many of `parallelism` runners each cluster gets for the weights: the largest-remainder apportionment of
 * `parallelism * w / sum(w)` (ties to the earlier cluster), then every cluster at least one runner, taken from the
 * cluster with the most (the later one on a tie). The total stays `parallelism`, so the run's planned runner count
 * is the test's.
 */
export function apportionRunners(parallelism: number, weights: readonly number[]): number[] {
  checkCount(parallelism);
  checkWeights(weights);
  if (parallelism < weights.length) {
    throw new Error(
      `executionSplit: 'parallelism' (${parallelism}) must be at least the number of clusters (${weights.length}): each cluster runs at least one runner`,
    );
  }
  const total = weights.reduce((a, b) => a + b, 0);
  const counts = weights.map((w) => Math.floor((parallelism * w) / total));
  const byRemainder = weights.map((w, i) => ({ i, rest: (parallelism * w) % total })).sort((a, b) => b.rest - a.rest || a.i - b.i);
  const left = parallelism - counts.reduce((a, b) => a + b, 0);
  for (let k = 0; k < left; k++) counts[byRemainder[k]!.i]!++;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i]! > 0) continue;
    const donor = counts.reduce((best, c, j) => (c >= counts[best]! ? j : best), 0);
    counts[donor]!--;
    counts[i] = 1;
  }
  return counts;
}

/**
 * Splits [0, 1] over clusters by integer `weights` (cluster i gets [W_<i / W, W_<=i / W), W the sum), and each
 * cluster's range into equal segments for its `runners[i]` runners; all boundaries exact.
 */
export function executionSplit(weights: readonly number[], runners: readonly number[]): ExecutionSplit {
  checkWeights(weights);
  if (runners.length !== weights.length) throw new Error(`executionSplit: ${runners.length} runner counts for ${weights.length} clusters`);
  runners.forEach(checkCount);
  const total = weights.reduce((a, b) => a + b, 0);
  let before = 0;
  const clusters = weights.map((w, index): ClusterShare => {
    const n = runners[index]!;
    // runner j of cluster i: [(before + w * j / n) / total, (before + w * (j + 1) / n) / total)
    const point = (j: number) => new Rational(before * n + w * j, total * n);
    const segments = Array.from({ length: n }, (_, j) => {
      const from = point(j);
      const to = point(j + 1);
      return { index: j, from, to, segment: `${from.toString()}:${to.toString()}` };
    });
    const share = { index, from: point(0), to: point(n), segments };
    before += w;
    return share;
  });
  const points = [Rational.ZERO, ...clusters.flatMap((c) => c.segments.map((s) => s.to))];
  return { clusters, sequence: points.map((p) => p.toString()).join(',') };
}

function checkWeights(weights: readonly number[]): void {
  if (weights.length < 1 || weights.length > MAX_CLUSTERS) {
    throw new Error(`executionSplit: needs 1 to ${MAX_CLUSTERS} clusters, got ${weights.length}`);
  }
  for (const w of weights) {
    if (!Number.isInteger(w) || w < 1 || w > MAX_WEIGHT) {
      throw new Error(`executionSplit: every weight must be an integer between 1 and ${MAX_WEIGHT}, got ${w}`);
    }
  }
}
