import { histogramQuantile, sampleHistogram } from './histogram';

describe('histogramQuantile (Prometheus v3.5.0 HistogramQuantile for exponential schemas)', () => {
  // GIVEN two schema-0 buckets, (1,2] and (2,4], two observations each
  const h = sampleHistogram(
    {
      metric: {},
      histogram: [
        1,
        {
          count: '4',
          sum: '10',
          buckets: [
            [0, '1', '2', '2'],
            [0, '2', '4', '2'],
          ],
        },
      ],
    },
    'q',
  )!;

  test('reads the HTTP API histogram sample', () => {
    expect(h).toEqual({
      count: 4,
      sum: 10,
      buckets: [
        { lower: 1, upper: 2, count: 2 },
        { lower: 2, upper: 4, count: 2 },
      ],
    });
    expect(sampleHistogram({ metric: {}, value: [1, '2'] }, 'q')).toBeUndefined();
    expect(() => sampleHistogram({ metric: {}, histogram: [1] }, 'q')).toThrow('malformed histogram sample');
  });

  test('below the median: forward from the lowest bucket, logarithmic interpolation', () => {
    expect(histogramQuantile(h, 0.25)).toBeCloseTo(Math.SQRT2, 12);
    expect(histogramQuantile(h, 0)).toBe(1);
  });

  test('from the median up: backward from the highest bucket', () => {
    expect(histogramQuantile(h, 0.75)).toBeCloseTo(2 * Math.SQRT2, 12);
    expect(histogramQuantile(h, 0.5)).toBeCloseTo(2, 12);
    expect(histogramQuantile(h, 1)).toBe(4);
  });

  test('the zero bucket interpolates linearly from 0 when there are no negative buckets', () => {
    const z = {
      count: 4,
      sum: 3,
      buckets: [
        { lower: -0.001, upper: 0.001, count: 2 },
        { lower: 1, upper: 2, count: 2 },
      ],
    };
    expect(histogramQuantile(z, 0.25)).toBeCloseTo(0.0005, 12);
  });

  test('out of range and empty', () => {
    expect(histogramQuantile(h, 1.5)).toBe(Infinity);
    expect(histogramQuantile(h, -1)).toBe(-Infinity);
    expect(histogramQuantile({ count: 0, sum: 0, buckets: [] }, 0.5)).toBeNaN();
  });
});
