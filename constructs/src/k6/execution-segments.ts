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
