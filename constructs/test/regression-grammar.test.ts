import { parsePlatformConfig } from '../src/config/platform-config';
import { THRESHOLD_RULES } from '../src/k6/threshold-grammar';
import { parseRegressionRule, parseRegressionRules, REGRESSION_RULES, regressionLimit } from '../src/k6/regression-grammar';

describe('parseRegressionRule', () => {
  test.each([
    ['http_req_duration', 'p(95) < +10%', { kind: 'percentile', percentile: 95 }, 'p(95)', 'increase', 10, 'percent'],
    ['http_req_duration{scenario:api}', 'avg<+20', { kind: 'avg' }, 'avg', 'increase', 20, 'absolute'],
    ['http_req_failed', 'rate < +0.5pp', { kind: 'rate' }, 'rate', 'increase', 0.5, 'pp'],
    ['checks', 'rate > -1pp', { kind: 'rate' }, 'rate', 'decrease', 1, 'pp'],
    ['http_reqs', 'rate > -10%', { kind: 'rate' }, 'rate', 'decrease', 10, 'percent'],
    ['iterations', 'count > -100', { kind: 'count' }, 'count', 'decrease', 100, 'absolute'],
    ['iteration_duration', ' med < +.5 ', { kind: 'med' }, 'med', 'increase', 0.5, 'absolute'],
    ['http_req_waiting', 'p( 99.9 ) < +5%', { kind: 'percentile', percentile: 99.9 }, 'p(99.9)', 'increase', 5, 'percent'],
  ] as const)('%s %j', (key, rule, aggregation, aggregationName, worse, amount, unit) => {
    // WHEN
    const r = parseRegressionRule(key, rule);
    // THEN
    expect(r).toMatchObject({ key, rule, index: 0, aggregation, aggregationName, worse, amount, unit });
  });

  test('the tag filters and the metric type come with the key', () => {
    const r = parseRegressionRule('http_req_duration{scenario:api,method:GET}', 'p(95) < +10%', 3);
    expect(r).toMatchObject({
      metric: 'http_req_duration',
      filters: { scenario: 'api', method: 'GET' },
      index: 3,
      metricInfo: { type: 'trend', isTime: true },
    });
  });

  test.each([
    ['http_req_duration', 'p(95) < 10', REGRESSION_RULES.direction],
    ['http_req_duration', 'p(95) < -10%', REGRESSION_RULES.direction],
    ['http_req_duration', 'p(95) > +10%', REGRESSION_RULES.direction],
    ['http_req_duration', 'p95 < +10%', REGRESSION_RULES.rule],
    ['http_req_duration', 'p(95) <= +10%', REGRESSION_RULES.rule],
    ['http_req_duration', 'p(95) < +10ms', REGRESSION_RULES.rule],
    ['http_req_duration', 'p(101) < +10%', REGRESSION_RULES.percentile],
    ['http_req_duration', 'p() < +10%', REGRESSION_RULES.percentile],
    ['http_req_duration', 'min < +10%', REGRESSION_RULES.rule],
    ['http_req_duration', 'p(95) < +1pp', REGRESSION_RULES.pp],
    ['http_reqs', 'rate < +1pp', REGRESSION_RULES.pp],
    ['http_req_duration', 'rate < +1%', "must use a statistic a trend metric has in compare (p(N), avg, med): 'http_req_duration' is a trend"],
    ['http_req_failed', 'count < +1', "must use a statistic a rate metric has in compare (rate): 'http_req_failed' is a rate"],
    ['vus', 'rate < +1%', "must name a metric with a whole-run statistic: 'vus' is a gauge (compare has none for gauges)"],
    ['my_metric', 'p(95) < +10%', REGRESSION_RULES.metric],
  ])('%s %j is refused: %s', (key, rule, message) => {
    expect(() => parseRegressionRule(key, rule)).toThrow(message);
  });
});

describe('regressionLimit', () => {
  test('relative, percentage points and absolute, for increases and decreases', () => {
    expect(regressionLimit(parseRegressionRule('http_req_duration', 'p(95) < +10%'), 200)).toBeCloseTo(220, 12);
    expect(regressionLimit(parseRegressionRule('http_req_failed', 'rate < +0.5pp'), 0.01)).toBeCloseTo(0.015, 12);
    expect(regressionLimit(parseRegressionRule('http_req_duration', 'avg < +20'), 200)).toBe(220);
    expect(regressionLimit(parseRegressionRule('http_reqs', 'rate > -10%'), 50)).toBeCloseTo(45, 12);
    expect(regressionLimit(parseRegressionRule('checks', 'rate > -1pp'), 0.99)).toBeCloseTo(0.98, 12);
    // a relative rule on a zero baseline allows no change
    expect(regressionLimit(parseRegressionRule('http_req_failed', 'rate < +50%'), 0)).toBe(0);
  });
});

describe('tests[].regression in the platform config', () => {
  test('every bad rule is an error naming its field, the value and what is allowed', () => {
    // GIVEN
    const tests = [
      { name: 'a', script: 'a.js' },
      { name: 'b', script: 'b.js', regression: { http_req_duration: ['p(95) < +10%'] } },
      {
        name: 'c',
        script: 'c.js',
        regression: { http_req_duration: ['p(95) < 10', 'p(95) < +10%'], 'http_req_failed{scenario}': ['rate < +1pp'], vus: ['rate < +1%'] },
      },
    ];
    // WHEN / THEN
    expect(() => parsePlatformConfig({ tests })).toThrow(
      [
        `  - 'tests[2].regression.http_req_duration[0]' ${REGRESSION_RULES.direction}, got "p(95) < 10"`,
        `  - 'tests[2].regression.http_req_failed{scenario}' ${THRESHOLD_RULES.filter}, got "http_req_failed{scenario}"`,
        `  - 'tests[2].regression.vus[0]' must name a metric with a whole-run statistic: 'vus' is a gauge (compare has none for gauges), got "rate < +1%"`,
      ].join('\n'),
    );
  });

  test('valid rules parse, and a test without rules has no regression key (its default run id stays as it was)', () => {
    const cfg = parsePlatformConfig({
      tests: [
        { name: 'a', script: 'a.js', regression: { http_req_failed: ['rate < +0.5pp'] } },
        { name: 'b', script: 'b.js' },
      ],
    });
    expect(cfg.tests[0]!.regression).toEqual({ http_req_failed: ['rate < +0.5pp'] });
    expect(cfg.tests[1]!.regression).toBeUndefined();
    expect(parseRegressionRules(cfg.tests[0]!.regression!)).toHaveLength(1);
  });

  test('parseRegressionRules lists every problem under the given field', () => {
    expect(() => parseRegressionRules({ http_req_duration: ['p(95) < +1pp'], my_metric: [] }, 'tests[0].regression')).toThrow(
      [
        'Invalid regression rules (2 problems):',
        `  - 'tests[0].regression.http_req_duration[0]' ${REGRESSION_RULES.pp}, got "p(95) < +1pp"`,
        `  - 'tests[0].regression.my_metric' ${REGRESSION_RULES.metric}, got "my_metric"`,
      ].join('\n'),
    );
  });

  test('with classic trend stats, a trend rule on a stat the runners do not write is refused', () => {
    // GIVEN runners writing classic stats: the dashboards' (p(90), p(95), p(99), med, min, max) and the thresholds'
    const tests = [
      {
        name: 'a',
        script: 'a.js',
        thresholds: { http_req_waiting: ['p(97)<500'] },
        regression: { http_req_duration: ['p(95) < +10%', 'p(97) < +10%', 'p(98) < +10%', 'avg < +5%'], http_req_failed: ['rate < +1pp'] },
      },
    ];
    // WHEN / THEN p(97) is written (a threshold uses it, for every trend), p(98) and avg's sum and count are not
    const rule = (missing: string) =>
      `must use a trend stat the runners write with runner.nativeHistograms false (p(90), p(95), p(99), med, min, max, p(97)); ${missing} is written only when a config threshold of the test uses it (or with native histograms)`;
    expect(() => parsePlatformConfig({ runner: { nativeHistograms: false }, tests })).toThrow(
      [
        'Invalid platform config (2 problems):',
        `  - 'tests[0].regression.http_req_duration[2]' ${rule('p(98)')}, got "p(98) < +10%"`,
        `  - 'tests[0].regression.http_req_duration[3]' ${rule('sum and count')}, got "avg < +5%"`,
      ].join('\n'),
    );
    expect(() => parsePlatformConfig({ tests })).not.toThrow();
  });
});
