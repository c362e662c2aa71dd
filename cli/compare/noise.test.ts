import {
  bucketGrowth,
  K6_NATIVE_HISTOGRAM_SCHEMA,
  noiseBand,
  quantileRelativeError,
  runSpread,
  schemaOfBucketFactor,
  significance,
  statDelta,
} from './noise';

describe('the bucket error of k6 native histograms', () => {
  test('factor 1.1 gives schema 3 (client_golang pickSchema), growth 2^(1/8), midpoint error ±4.33 %', () => {
    expect(schemaOfBucketFactor(1.1)).toBe(3);
    expect(K6_NATIVE_HISTOGRAM_SCHEMA).toBe(3);
    expect(bucketGrowth(3)).toBeCloseTo(1.0905077, 7);
    expect(quantileRelativeError(3)).toBeCloseTo(0.0432946, 7);
    expect(quantileRelativeError()).toBe(quantileRelativeError(3));
  });

  test('other factors and schemas, and the clamping to -4..8', () => {
    expect(schemaOfBucketFactor(2)).toBe(0);
    expect(schemaOfBucketFactor(1.5)).toBe(1);
    expect(schemaOfBucketFactor(1.0001)).toBe(8);
    expect(schemaOfBucketFactor(1e9)).toBe(-4);
    expect(quantileRelativeError(0)).toBeCloseTo(1 / 3, 12);
    expect(() => schemaOfBucketFactor(1)).toThrow('the bucket factor must be > 1, got 1');
  });
});

describe('noise bands', () => {
  test('the spread is max - min of at least two finite values', () => {
    expect(runSpread([100, 104, 98, null])).toBe(6);
    expect(runSpread([100])).toBeUndefined();
    expect(runSpread([100, null, NaN])).toBeUndefined();
  });

  test('quantiles in native mode: the bucket error of the baseline, or the spread when wider', () => {
    expect(noiseBand('p95', 200, 'native', undefined)).toEqual({ noise: 200 * quantileRelativeError(), noiseSource: 'bucket-error' });
    expect(noiseBand('p95', 200, 'native', 5)).toEqual({ noise: 200 * quantileRelativeError(), noiseSource: 'bucket-error' });
    expect(noiseBand('p95', 200, 'native', 20)).toEqual({ noise: 20, noiseSource: 'baseline-spread' });
  });

  test('classic mode and exact stats have no bucket error: the spread, else none', () => {
    expect(noiseBand('p95', 200, 'classic', undefined)).toEqual({ noise: 0, noiseSource: 'none' });
    expect(noiseBand('p95', 200, 'classic', 7)).toEqual({ noise: 7, noiseSource: 'baseline-spread' });
    expect(noiseBand('error_ratio', 0.01, 'native', undefined)).toEqual({ noise: 0, noiseSource: 'none' });
    expect(noiseBand('request_rate', 40, 'native', 2)).toEqual({ noise: 2, noiseSource: 'baseline-spread' });
  });

  test('significance: within the band is no significant change; outside, worse or better by the stat’s direction', () => {
    expect(significance('p95', 208, 200, 8.66)).toBe('no-significant-change');
    expect(significance('p95', 210, 200, 8.66)).toBe('worse');
    expect(significance('p95', 190, 200, 8.66)).toBe('better');
    expect(significance('request_rate', 30, 40, 2)).toBe('worse');
    expect(significance('checks_ratio', 1, 0.9, 0)).toBe('better');
    expect(significance('error_ratio', 0, 0, 0)).toBe('no-significant-change');
    expect(significance('p95', null, 200, 0)).toBe('no-data');
  });

  test('statDelta: absolute and relative deltas; no relative delta on a zero baseline', () => {
    expect(statDelta('p95', 260, 200, 'native', undefined)).toEqual({
      stat: 'p95',
      run: 260,
      baseline: 200,
      absolute: 60,
      relative: 0.3,
      noise: 200 * quantileRelativeError(),
      noiseSource: 'bucket-error',
      significance: 'worse',
    });
    expect(statDelta('error_ratio', 0.01, 0, 'native', undefined)).toMatchObject({ absolute: 0.01, relative: null, significance: 'worse' });
    expect(statDelta('data_sent', null, 5, 'native', undefined)).toMatchObject({ absolute: null, relative: null, significance: 'no-data' });
  });
});
