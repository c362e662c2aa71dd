import { apportionRunners, executionSegments, executionSegmentSequence, executionSplit, Rational } from '../src/k6/execution-segments';

/** Parses k6's fraction syntax (`0`, `1`, `3/7`) back into an exact Rational. */
function parse(s: string): Rational {
  const [num, den] = s.split('/');
  return new Rational(Number(num), den === undefined ? 1 : Number(den));
}

describe('Rational', () => {
  test('keeps fractions in lowest terms with a positive denominator', () => {
    // GIVEN / WHEN / THEN
    expect(new Rational(2, 4).toString()).toBe('1/2');
    expect(new Rational(3, -6).toString()).toBe('-1/2');
    expect(new Rational(0, 5).toString()).toBe('0');
    expect(new Rational(6, 3).toString()).toBe('2');
  });

  test('adds, subtracts and compares exactly', () => {
    // GIVEN thirds, which floats cannot represent
    const third = new Rational(1, 3);
    // WHEN / THEN
    expect(third.add(third).add(third).equals(Rational.ONE)).toBe(true);
    expect(Rational.ONE.sub(third).toString()).toBe('2/3');
    expect(third.compare(new Rational(1, 2))).toBe(-1);
    expect(new Rational(2, 6).compare(third)).toBe(0);
  });

  test('rejects a zero denominator', () => {
    // GIVEN / WHEN / THEN
    expect(() => new Rational(1, 0)).toThrow('Rational: needs safe integers and a non-zero denominator, got 1/0');
  });
});

describe('executionSegments', () => {
  test('N = 1..32: the segments cover [0, 1] exactly once, with no gap or overlap', () => {
    for (let n = 1; n <= 32; n++) {
      // GIVEN / WHEN
      const segs = executionSegments(n);
      // THEN there are N, indexed 0..N-1, contiguous from 0 to 1, each of width exactly 1/N
      expect(segs.map((s) => s.index)).toEqual([...Array(n).keys()]);
      expect(segs[0]!.from.equals(Rational.ZERO)).toBe(true);
      expect(segs[n - 1]!.to.equals(Rational.ONE)).toBe(true);
      let covered = Rational.ZERO;
      segs.forEach((s, i) => {
        expect(s.from.equals(covered)).toBe(true); // no gap, no overlap with the previous one
        expect(s.to.sub(s.from).equals(new Rational(1, n))).toBe(true);
        expect(s.from.equals(i === 0 ? Rational.ZERO : segs[i - 1]!.to)).toBe(true);
        // the k6 string parses back to the same exact bounds
        const [from, to] = s.segment.split(':');
        expect(parse(from!).equals(s.from)).toBe(true);
        expect(parse(to!).equals(s.to)).toBe(true);
        covered = covered.add(s.to.sub(s.from));
      });
      expect(covered.equals(Rational.ONE)).toBe(true);
      // AND the sequence lists exactly the segment bounds, in order
      const seq = executionSegmentSequence(n).split(',').map(parse);
      expect(seq).toHaveLength(n + 1);
      seq.forEach((b, i) => expect(b.equals(i === n ? segs[n - 1]!.to : segs[i]!.from)).toBe(true));
    }
  });

  test('formats segments and the sequence in k6 syntax', () => {
    // GIVEN / WHEN / THEN
    expect(executionSegments(1).map((s) => s.segment)).toEqual(['0:1']);
    expect(executionSegments(4).map((s) => s.segment)).toEqual(['0:1/4', '1/4:1/2', '1/2:3/4', '3/4:1']);
    expect(executionSegmentSequence(4)).toBe('0,1/4,1/2,3/4,1');
    expect(executionSegmentSequence(3)).toBe('0,1/3,2/3,1');
  });

  test('rejects a runner count that is not an integer between 1 and 1000', () => {
    // GIVEN / WHEN / THEN
    expect(() => executionSegments(0)).toThrow("executionSegments: 'parallelism' must be an integer between 1 and 1000, got 0");
    expect(() => executionSegmentSequence(1.5)).toThrow("executionSegments: 'parallelism' must be an integer between 1 and 1000, got 1.5");
  });
});

/**
 * What k6 v1.7.1 lib/execution_segment.go requires of a runner's `--execution-segment` in its
 * `--execution-segment-sequence` (NewExecutionTuple -> FindSegmentPosition): the sequence's points parse to
 * consecutive parts (NewExecutionSegmentSequenceFromString), and the segment is exactly one of them. Re-checked here
 * with our own parser on every runner of every cluster.
 */
function positionIn(sequence: string, segment: string): number {
  const points = sequence.split(',').map(parse);
  const [from, to] = segment.split(':').map(parse);
  const i = points.findIndex((p) => p.equals(from!));
  if (i < 0 || i + 1 >= points.length || !points[i + 1]!.equals(to!)) throw new Error(`couldn't find segment ${segment} in sequence ${sequence}`);
  return i;
}

describe('executionSplit (a run over several clusters)', () => {
  test('--split 3:1 with 4 runners: cluster a gets [0, 3/4) in 3 runners, b gets [3/4, 1] in 1; one sequence for all', () => {
    // GIVEN / WHEN
    const split = executionSplit([3, 1], apportionRunners(4, [3, 1]));
    // THEN the exact boundaries
    expect(split.clusters.map((c) => `${c.from.toString()}:${c.to.toString()}`)).toEqual(['0:3/4', '3/4:1']);
    expect(split.clusters.map((c) => c.segments.map((s) => s.segment))).toEqual([['0:1/4', '1/4:1/2', '1/2:3/4'], ['3/4:1']]);
    expect(split.sequence).toBe('0,1/4,1/2,3/4,1');
    // AND every runner's segment is one part of the shared sequence, in order, each used once
    const positions = split.clusters.flatMap((c) => c.segments.map((s) => positionIn(split.sequence, s.segment)));
    expect(positions).toEqual([0, 1, 2, 3]);
  });

  test('uneven shares stay exact: 3 clusters 1:1:1 of 5 runners, and 3:1 of 2 runners', () => {
    // GIVEN / WHEN
    const even = executionSplit([1, 1, 1], apportionRunners(5, [1, 1, 1]));
    // THEN 2 + 2 + 1 runners; thirds split in halves are sixths
    expect(even.clusters.map((c) => c.segments.length)).toEqual([2, 2, 1]);
    expect(even.sequence).toBe('0,1/6,1/3,1/2,2/3,1');
    // AND with fewer runners than weight: each cluster one runner of unequal size
    const skewed = executionSplit([3, 1], apportionRunners(2, [3, 1]));
    expect(skewed.clusters.map((c) => c.segments.map((s) => s.segment))).toEqual([['0:3/4'], ['3/4:1']]);
    expect(skewed.sequence).toBe('0,3/4,1');
  });

  test('the parts add up to exactly [0, 1] for many weights and runner counts, with no gap or overlap', () => {
    for (const weights of [
      [1, 1],
      [3, 1],
      [2, 3, 5],
      [7, 1, 1, 4],
      [1000, 1],
    ]) {
      for (const n of [weights.length, 7, 10, 99, 1000]) {
        const split = executionSplit(weights, apportionRunners(n, weights));
        const segments = split.clusters.flatMap((c) => c.segments);
        expect(segments).toHaveLength(n);
        let total = Rational.ZERO;
        segments.forEach((s, i) => {
          expect(positionIn(split.sequence, s.segment)).toBe(i);
          total = total.add(s.to.sub(s.from));
        });
        expect(total.equals(Rational.ONE)).toBe(true);
        expect(split.sequence.split(',')).toHaveLength(n + 1);
      }
    }
  });

  test('apportionRunners: largest remainders by weight, every cluster at least one, the total kept', () => {
    expect(apportionRunners(4, [3, 1])).toEqual([3, 1]);
    expect(apportionRunners(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(apportionRunners(3, [100, 1, 1])).toEqual([1, 1, 1]);
    expect(apportionRunners(5, [10, 1])).toEqual([4, 1]);
    expect(apportionRunners(7, [2, 3, 5])).toEqual([1, 2, 4]);
  });

  test('bad input names what is allowed', () => {
    expect(() => apportionRunners(1, [1, 1])).toThrow(
      "executionSplit: 'parallelism' (1) must be at least the number of clusters (2): each cluster runs at least one runner",
    );
    expect(() => executionSplit([1, 0], [1, 1])).toThrow('executionSplit: every weight must be an integer between 1 and 1000, got 0');
    expect(() => executionSplit([1.5, 1], [1, 1])).toThrow('every weight must be an integer between 1 and 1000, got 1.5');
    expect(() => executionSplit([1, 1], [1])).toThrow('executionSplit: 1 runner counts for 2 clusters');
    expect(() => executionSplit(Array(17).fill(1), Array(17).fill(1))).toThrow('executionSplit: needs 1 to 16 clusters, got 17');
  });
});
