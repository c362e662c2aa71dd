import { parsePlatformConfig, PlatformConfigError } from '../src/platform-config';
import {
  compareThreshold,
  parseThresholdExpression,
  parseThresholdKey,
  parseThresholds,
  THRESHOLD_RULES,
  thresholdProblems,
  thresholdQueries,
  thresholdQuery,
} from '../src/thresholds';

describe('parseThresholdKey', () => {
  test('a plain metric has no filters', () => {
    expect(parseThresholdKey('http_req_duration')).toEqual({ metric: 'http_req_duration', filters: {} });
  });

  test('tag filters keep their order; spaces and quotes are trimmed; values may contain colons', () => {
    // WHEN
    const k = parseThresholdKey("http_req_duration{ scenario: api , method:'GET', url:https://x.test:8443/a }");
    // THEN
    expect(k.metric).toBe('http_req_duration');
    expect(Object.entries(k.filters)).toEqual([
      ['scenario', 'api'],
      ['method', 'GET'],
      ['url', 'https://x.test:8443/a'],
    ]);
  });

  test.each([
    ['http req duration', THRESHOLD_RULES.key],
    ['http_req_duration{scenario:api', THRESHOLD_RULES.key],
    ['1metric', THRESHOLD_RULES.key],
    ['http_req_duration{scenario}', THRESHOLD_RULES.filter],
    ['http_req_duration{my-tag:x}', THRESHOLD_RULES.tagName],
    ['http_req_duration{__name__:x}', THRESHOLD_RULES.tagName],
  ])('%s is refused', (key, rule) => {
    expect(() => parseThresholdKey(key)).toThrow(rule);
  });
});

describe('parseThresholdExpression', () => {
  test.each([
    ['p(95)<500', { aggregation: { kind: 'percentile', percentile: 95 }, aggregationName: 'p(95)', operator: '<', value: 500 }],
    ['p(99.9) <= 1500', { aggregation: { kind: 'percentile', percentile: 99.9 }, aggregationName: 'p(99.9)', operator: '<=', value: 1500 }],
    ['avg<200', { aggregation: { kind: 'avg' }, aggregationName: 'avg', operator: '<', value: 200 }],
    ['rate<0.01', { aggregation: { kind: 'rate' }, aggregationName: 'rate', operator: '<', value: 0.01 }],
    ['count>1000', { aggregation: { kind: 'count' }, aggregationName: 'count', operator: '>', value: 1000 }],
    ['value>=0', { aggregation: { kind: 'value' }, aggregationName: 'value', operator: '>=', value: 0 }],
    ['med!=3', { aggregation: { kind: 'med' }, aggregationName: 'med', operator: '!=', value: 3 }],
    ['max===5', { aggregation: { kind: 'max' }, aggregationName: 'max', operator: '==', value: 5 }],
    ['min > .5', { aggregation: { kind: 'min' }, aggregationName: 'min', operator: '>', value: 0.5 }],
  ])('%s', (expr, expected) => {
    expect(parseThresholdExpression(expr)).toEqual(expected);
  });

  test.each([
    ['p95<500', THRESHOLD_RULES.expression],
    ['p(95)<<500', THRESHOLD_RULES.expression],
    ['p(95)<', THRESHOLD_RULES.expression],
    ['p(95)<500ms', THRESHOLD_RULES.expression],
    ['p(101)<500', THRESHOLD_RULES.percentile],
    ['p(abc)<500', THRESHOLD_RULES.percentile],
    ['p()<500', THRESHOLD_RULES.percentile],
    ['mean<500', THRESHOLD_RULES.aggregation],
    ['avg(5)<500', THRESHOLD_RULES.aggregation],
  ])('%s is refused', (expr, rule) => {
    expect(() => parseThresholdExpression(expr)).toThrow(rule);
  });
});

describe('parseThresholds', () => {
  test('collects every problem with its field path', () => {
    // GIVEN
    const thresholds = {
      http_req_duration: ['p(95)<500', 'p95<500'],
      'http_req_duration{scenario}': ['p(95)<500'],
      http_reqs: ['p(95)<1'],
      checks: ['rate>0.99'],
    };
    // WHEN / THEN
    expect(() => parseThresholds(thresholds, 'tests[0].thresholds')).toThrow(
      [
        'Invalid thresholds (3 problems):',
        `  - 'tests[0].thresholds.http_req_duration[1]' ${THRESHOLD_RULES.expression}, got "p95<500"`,
        `  - 'tests[0].thresholds.http_req_duration{scenario}' ${THRESHOLD_RULES.filter}, got "http_req_duration{scenario}"`,
        `  - 'tests[0].thresholds.http_reqs[0]' must use an aggregation a counter metric has (count, rate): 'http_reqs' is a counter, got "p(95)<1"`,
      ].join('\n'),
    );
  });

  test('knows the type of built-in metrics and infers custom ones from the aggregation', () => {
    // WHEN
    const parsed = parseThresholds({
      http_req_duration: ['avg<1'],
      vus: ['value<10'],
      my_trend: ['p(90)<3'],
      my_counter: ['count>1'],
      my_rate: ['rate>0.5'],
    });
    // THEN
    expect(parsed.map((p) => [p.metric, p.metricInfo])).toEqual([
      ['http_req_duration', { type: 'trend', isTime: true }],
      ['vus', { type: 'gauge', isTime: false }],
      ['my_trend', { type: 'trend', isTime: false }],
      ['my_counter', { type: 'counter', isTime: false }],
      ['my_rate', { type: 'rate', isTime: false }],
    ]);
  });

  test.each([
    ['vus', 'rate<1', "must use an aggregation a gauge metric has (value): 'vus' is a gauge"],
    ['checks', 'count>1', "must use an aggregation a rate metric has (rate): 'checks' is a rate"],
    ['http_req_failed', 'avg<1', "must use an aggregation a rate metric has (rate): 'http_req_failed' is a rate"],
    ['iteration_duration', 'rate<1', "must use an aggregation a trend metric has (avg, min, max, med, p(N)): 'iteration_duration' is a trend"],
  ])('%s %s is refused', (key, expr, message) => {
    expect(thresholdProblems({ [key]: [expr] })).toEqual([{ path: [key, 0], input: expr, message }]);
  });
});

describe('the platform config validates thresholds', () => {
  const withThresholds = (thresholds: Record<string, string[]>) => ({ tests: [{ name: 'api', script: 'sample.js', thresholds }] });

  test('valid thresholds parse', () => {
    const cfg = parsePlatformConfig(withThresholds({ 'http_req_duration{scenario:api}': ['p(95)<500'], http_req_failed: ['rate<0.01'] }));
    expect(cfg.tests[0]!.thresholds).toEqual({ 'http_req_duration{scenario:api}': ['p(95)<500'], http_req_failed: ['rate<0.01'] });
  });

  test('a bad expression fails parsing with the field path', () => {
    // WHEN
    let error: unknown;
    try {
      parsePlatformConfig(withThresholds({ http_req_duration: ['p(95)<500', 'p(95)<<1500'] }));
    } catch (e) {
      error = e;
    }
    // THEN
    expect(error).toBeInstanceOf(PlatformConfigError);
    expect((error as PlatformConfigError).problems).toEqual([
      `'tests[0].thresholds.http_req_duration[1]' ${THRESHOLD_RULES.expression}, got "p(95)<<1500"`,
    ]);
  });

  test('a bad key fails parsing with the field path', () => {
    expect(() => parsePlatformConfig(withThresholds({ 'http_req_duration{method}': ['p(95)<500'] }))).toThrow(
      `'tests[0].thresholds.http_req_duration{method}' ${THRESHOLD_RULES.filter}, got "http_req_duration{method}"`,
    );
  });
});

describe('thresholdQuery', () => {
  const scope = { testid: 'run-1', window: 600 };
  const q = (key: string, expr: string) => thresholdQuery(parseThresholds({ [key]: [expr] })[0]!, scope);

  test('a percentile of a time trend: quantile of the summed native histograms, in milliseconds', () => {
    const t = q('http_req_duration{scenario:api,method:GET}', 'p(99.9)<=1500');
    expect(t.metric).toBe('http_req_duration');
    expect(t.filters).toEqual({ scenario: 'api', method: 'GET' });
    expect(t.expression).toBe('p(99.9)<=1500');
    expect(t.promql).toBe(
      'histogram_quantile(0.999, sum(increase(k6_http_req_duration_seconds{testid="run-1",scenario="api",method="GET"}[600s]))) * 1000',
    );
  });

  test('med and avg', () => {
    expect(q('iteration_duration', 'med<1').promql).toBe(
      'histogram_quantile(0.5, sum(increase(k6_iteration_duration_seconds{testid="run-1"}[600s]))) * 1000',
    );
    expect(q('http_req_waiting', 'avg<1').promql).toBe(
      '(histogram_sum(sum(increase(k6_http_req_waiting_seconds{testid="run-1"}[600s]))) / histogram_count(sum(increase(k6_http_req_waiting_seconds{testid="run-1"}[600s])))) * 1000',
    );
  });

  test('a custom non-time trend is not scaled', () => {
    expect(q('payload_size', 'p(90)<1000').promql).toBe('histogram_quantile(0.9, sum(increase(k6_payload_size{testid="run-1"}[600s])))');
  });

  test('counter count and rate use each series’ final value', () => {
    expect(q('http_reqs{status:200}', 'count>1000').promql).toBe('sum(last_over_time(k6_http_reqs_total{testid="run-1",status="200"}[600s]))');
    expect(q('http_reqs', 'rate>10').promql).toBe('sum(last_over_time(k6_http_reqs_total{testid="run-1"}[600s])) / 600');
  });

  test('http_req_failed is weighted by the requests of the same tag set', () => {
    expect(q('http_req_failed', 'rate<0.01').promql).toBe(
      'sum(last_over_time(k6_http_req_failed_rate{testid="run-1"}[600s]) * last_over_time(k6_http_reqs_total{testid="run-1"}[600s])) / sum(last_over_time(k6_http_reqs_total{testid="run-1"}[600s]) and last_over_time(k6_http_req_failed_rate{testid="run-1"}[600s]))',
    );
  });

  test('checks are weighted by the iterations of the same runner and scenario', () => {
    expect(q('checks{check:status is 200}', 'rate>0.99').promql).toBe(
      'sum(last_over_time(k6_checks_rate{testid="run-1",check="status is 200"}[600s]) * on (instance_id, scenario) group_left sum by (instance_id, scenario) (last_over_time(k6_iterations_total{testid="run-1"}[600s]))) / sum((last_over_time(k6_checks_rate{testid="run-1",check="status is 200"}[600s]) * 0 + 1) * on (instance_id, scenario) group_left sum by (instance_id, scenario) (last_over_time(k6_iterations_total{testid="run-1"}[600s])))',
    );
  });

  test('Grafana variables for the dashboards’ pass/fail row', () => {
    // WHEN
    const [t] = thresholdQueries(
      { http_reqs: ['rate>1'] },
      { testid: '$testid', testidMatch: '=~', window: '$__range', durationSeconds: '$__range_s' },
    );
    // THEN
    expect(t!.promql).toBe('sum(last_over_time(k6_http_reqs_total{testid=~"$testid"}[$__range])) / $__range_s');
  });

  test('label values are escaped', () => {
    expect(q('http_req_duration{name:say "hi"\\}', 'p(95)<1').promql).toContain('name="say \\"hi\\"\\\\"');
  });

  test('classic trend stats: avg from sum/count, min/max exact, percentiles as the highest series', () => {
    // WHEN
    const queries = thresholdQueries(
      { 'http_req_duration{scenario:api}': ['avg<1', 'min<1', 'max<1', 'p(99.9)<1', 'med<1'], http_reqs: ['count>1'] },
      { ...scope, trends: 'classic' },
    );
    // THEN
    const s = '{testid="run-1",scenario="api"}[600s]';
    expect(queries.map((x) => x.promql)).toEqual([
      `(sum(last_over_time(k6_http_req_duration_sum${s})) / sum(last_over_time(k6_http_req_duration_count${s}))) * 1000`,
      `min(last_over_time(k6_http_req_duration_min${s})) * 1000`,
      `max(last_over_time(k6_http_req_duration_max${s})) * 1000`,
      `max(last_over_time(k6_http_req_duration_p999${s})) * 1000`,
      `max(last_over_time(k6_http_req_duration_med${s})) * 1000`,
      'sum(last_over_time(k6_http_reqs_total{testid="run-1"}[600s]))',
    ]);
  });

  test('a counter rate over a non-numeric window needs the duration', () => {
    expect(() => thresholdQueries({ http_reqs: ['rate>1'] }, { testid: 'x', window: '1h' })).toThrow(
      "thresholdQuery: 'http_reqs' 'rate>1' needs scope.durationSeconds when the window is not a number",
    );
  });
});

describe('compareThreshold', () => {
  test.each([
    [1, '<', 2, true],
    [2, '<', 2, false],
    [2, '<=', 2, true],
    [3, '>', 2, true],
    [2, '>=', 2, true],
    [2, '==', 2, true],
    [2, '!=', 2, false],
  ] as const)('%d %s %d is %s', (a, op, b, expected) => {
    expect(compareThreshold(a, op, b)).toBe(expected);
  });
});
