import { executionSegments, executionSegmentSequence, Rational } from '../src/k6/execution-segments';

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
