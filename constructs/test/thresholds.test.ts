import { parsePlatformConfig, PlatformConfigError } from '../src/config/platform-config';
import {
  classicTrendStats,
  compareThreshold,
  parseThresholdExpression,
  parseK6Duration,
  parseThresholdKey,
  parseThresholds,
  THRESHOLD_RULES,
  thresholdProblems,
  thresholdQueries,
  thresholdQuery,
} from '../src/k6/thresholds';

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

  // k6 v1.7.1 metrics/metric_test.go TestParseMetricName: the accepted cases, re-typed as data.
  test.each([
    ['test_metric', 'test_metric', {}],
    ['test_metric{abc:123}', 'test_metric', { abc: '123' }],
    ['test_metric{abc:123,easyas:doremi}', 'test_metric', { abc: '123', easyas: 'doremi' }],
    ['test_metric{abc:123, easyas:doremi}', 'test_metric', { abc: '123', easyas: 'doremi' }],
    ['test_metric{group:::mygroup}', 'test_metric', { group: '::mygroup' }],
    ['http_req_duration{name:http://${}.com}', 'http_req_duration', { name: 'http://${}.com' }],
    [
      'http_req_duration{name:http://${}.com,url:ssh://github.com:grafana/k6}',
      'http_req_duration',
      { name: 'http://${}.com', url: 'ssh://github.com:grafana/k6' },
    ],
  ])('k6 TestParseMetricName accepts %s', (key, metric, filters) => {
    expect(parseThresholdKey(key)).toEqual({ metric, filters });
  });

  // k6 v1.7.1 metrics/metric_test.go TestParseMetricName: the refused cases.
  test.each([
    ['test_metric{easyas}', THRESHOLD_RULES.filter],
    ['test_metric{easyas:}', THRESHOLD_RULES.filter],
    ['test_metric{abc:123,easyas:}', THRESHOLD_RULES.filter],
    ['test_metric{abc:123,easyas:doremi', THRESHOLD_RULES.key],
    ['test_metricabc:123,easyas:doremi}', THRESHOLD_RULES.key],
    ['test_metric}abc:123,easyas:doremi}', THRESHOLD_RULES.key],
    ['test_metric}abc{bar', THRESHOLD_RULES.key],
    ['test_metric{foo:ba}r', THRESHOLD_RULES.key],
  ])('k6 TestParseMetricName refuses %s', (key, rule) => {
    expect(() => parseThresholdKey(key)).toThrow(rule);
  });

  // k6 v1.7.1 metrics/metric_test.go TestAddSubmetric: how tag keys and values are trimmed (the cases that also pass
  // ParseMetricName; `a` and `a,b` have no colon and are refused there).
  test.each([
    ['m{a:1}', { a: '1' }],
    ['m{ a : 1 }', { a: '1' }],
    [`m{ a:"",b: ''}`, { a: '', b: '' }],
    ['m{a:1,b:2}', { a: '1', b: '2' }],
    ['m{ a : 1, b : 2 }', { a: '1', b: '2' }],
    [`m{a : '1' , b : "2"}`, { a: '1', b: '2' }],
    [`m{a : ' 1' , b : "2 " }`, { a: ' 1', b: '2 ' }],
  ])('k6 TestAddSubmetric: %s', (key, filters) => {
    // `m` alone is not a k6 metric name (2 characters at least), so the metric here is "mm"
    expect(parseThresholdKey(key.replace(/^m/, 'mm')).filters).toEqual(filters);
  });

  test('an empty quoted value is an empty filter (k6 accepts it; an empty tag is no label in Prometheus)', () => {
    expect(parseThresholdKey("http_reqs{group:''}").filters).toEqual({ group: '' });
  });

  test.each([
    ['http req duration', THRESHOLD_RULES.metricName],
    ['1metric', THRESHOLD_RULES.metricName],
    // k6 v1.7.1 metrics/registry.go nameRegexString: at least two characters
    ['m', THRESHOLD_RULES.metricName],
    ['http_reqs {status:200}', THRESHOLD_RULES.metricName],
    ['http_req_duration{}', THRESHOLD_RULES.filter],
    ['http_req_duration{a:1,,b:2}', THRESHOLD_RULES.filter],
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
    // Go strconv.ParseFloat forms k6 accepts on the right-hand side
    ['count<1e3', { aggregation: { kind: 'count' }, aggregationName: 'count', operator: '<', value: 1000 }],
    ['count<0x1p-2', { aggregation: { kind: 'count' }, aggregationName: 'count', operator: '<', value: 0.25 }],
    ['count<+Inf', { aggregation: { kind: 'count' }, aggregationName: 'count', operator: '<', value: Infinity }],
  ])('%s', (expr, expected) => {
    expect(parseThresholdExpression(expr)).toEqual(expected);
  });

  // k6 v1.7.1 metrics/thresholds_parser_test.go TestParseThresholdExpression, TestParseThresholdAggregationMethod and
  // TestScanThresholdExpression, re-typed as data: what k6 accepts ...
  test.each([
    'count>20',
    'count<=20',
    'count<20',
    'count>=20',
    'count===20',
    'count==20',
    'count!=20',
    '  count  <=20',
    'count<=  20  ',
    'rate<1',
    'value<1',
    'avg<1',
    'min<1',
    'max<1',
    'med<1',
    'p(99)<1',
    'p(99.9)<1',
  ])('k6 parser table accepts %s', (expr) => {
    expect(() => parseThresholdExpression(expr)).not.toThrow();
  });

  // ... and what it refuses.
  test.each(['count!20', 'foo>20', 'count>abc', 'foo<1', 'p()<1', 'p(99<1', 'p(foo)<1', 'foo&1'])('k6 parser table refuses %s', (expr) => {
    expect(() => parseThresholdExpression(expr)).toThrow();
  });

  test('the first operator token with text after it splits, in k6’s order (so "<" wins over a later ">=")', () => {
    // k6 v1.7.1 metrics/thresholds_parser.go scanThresholdExpression: "count<5>=3" cuts at "<", rhs "5>=3" is no float
    expect(() => parseThresholdExpression('count<5>=3')).toThrow(THRESHOLD_RULES.value);
  });

  test.each([
    ['p95<500', THRESHOLD_RULES.aggregation],
    ['p(95)<<500', THRESHOLD_RULES.value],
    ['p(95)<', THRESHOLD_RULES.expression],
    ['p(95)=500', THRESHOLD_RULES.expression],
    ['p(95)<500ms', THRESHOLD_RULES.value],
    ['count<1e400', THRESHOLD_RULES.value],
    ['p(101)<500', THRESHOLD_RULES.percentile],
    ['p(-1)<500', THRESHOLD_RULES.percentile],
    ['p( 95 )<500', THRESHOLD_RULES.percentile],
    ['p(abc)<500', THRESHOLD_RULES.percentile],
    ['p()<500', THRESHOLD_RULES.percentile],
    ['p (95)<500', THRESHOLD_RULES.aggregation],
    ['mean<500', THRESHOLD_RULES.aggregation],
    ['avg(5)<500', THRESHOLD_RULES.aggregation],
  ])('%s is refused', (expr, rule) => {
    expect(() => parseThresholdExpression(expr)).toThrow(rule);
  });
});

describe('parseK6Duration (delayAbortEval)', () => {
  // k6 v1.7.1 lib/types/types.go ParseExtendedDuration / Duration.UnmarshalJSON
  test.each([
    ['10s', 10_000],
    ['1m30s', 90_000],
    ['250ms', 250],
    ['1.5h', 5_400_000],
    ['1d', 86_400_000],
    ['1d2h', 93_600_000],
    ['0', 0],
    ['1500', 1500],
    [2000, 2000],
  ] as const)('%s is %d ms', (input, ms) => {
    expect(parseK6Duration(input)).toBe(ms);
  });

  test.each(['10x', 's', '1d-2h', 'xd', '1 s'])('%s is refused', (input) => {
    expect(parseK6Duration(input)).toBeUndefined();
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
        `  - 'tests[0].thresholds.http_req_duration[1]' ${THRESHOLD_RULES.aggregation}, got "p95<500"`,
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

  test('count and rate on one custom metric make it a counter (rate = count per second), over all its keys', () => {
    const parsed = parseThresholds({ 'orders{kind:a}': ['rate>1'], orders: ['count>10'] });
    expect(parsed.map((p) => p.metricInfo.type)).toEqual(['counter', 'counter']);
  });

  test('aggregations that contradict each other on one custom metric are refused, naming both fields', () => {
    // GIVEN a custom metric judged as a rate, a trend and a gauge at once
    const thresholds = { my_metric: ['rate>0.9', 'p(95)<1'], 'my_metric{kind:a}': ['value<3'] };
    // WHEN / THEN
    expect(thresholdProblems(thresholds)).toEqual([
      {
        path: ['my_metric', 1],
        input: 'p(95)<1',
        message:
          "must use an aggregation that fits the other thresholds of custom metric 'my_metric': \"rate>0.9\" at 'my_metric[0]' makes it a counter or rate (count, rate)",
      },
      {
        path: ['my_metric{kind:a}', 0],
        input: 'value<3',
        message:
          "must use an aggregation that fits the other thresholds of custom metric 'my_metric': \"rate>0.9\" at 'my_metric[0]' makes it a counter or rate (count, rate)",
      },
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

  // k6 v1.7.1 metrics/thresholds_test.go TestThresholdsJSON: the list forms k6 accepts, re-typed as data.
  test.each([
    [[], []],
    [['rate<0.01'], [{ expression: 'rate<0.01', abortOnFail: false }]],
    [
      ['rate<0.01', 'p(95)<200'],
      [
        { expression: 'rate<0.01', abortOnFail: false },
        { expression: 'p(95)<200', abortOnFail: false },
      ],
    ],
    [[{ threshold: 'rate<0.01' }], [{ expression: 'rate<0.01', abortOnFail: false }]],
    [[{ threshold: 'rate<0.01', abortOnFail: true, delayAbortEval: null }], [{ expression: 'rate<0.01', abortOnFail: true }]],
    [[{ threshold: 'rate<0.01', abortOnFail: true, delayAbortEval: '2s' }], [{ expression: 'rate<0.01', abortOnFail: true, delayAbortEvalMs: 2000 }]],
    [[{ threshold: 'rate<0.01', abortOnFail: false }], [{ expression: 'rate<0.01', abortOnFail: false }]],
    [
      [{ threshold: 'rate<0.01' }, 'p(95)<200'],
      [
        { expression: 'rate<0.01', abortOnFail: false },
        { expression: 'p(95)<200', abortOnFail: false },
      ],
    ],
  ] as const)('k6 TestThresholdsJSON: %j', (list, expected) => {
    // k6 applies these lists to any metric; here each entry is judged on a built-in metric of the fitting type
    const keyFor = (x: (typeof list)[number]) =>
      (typeof x === 'string' ? x : x.threshold).startsWith('rate') ? 'http_req_failed' : 'http_req_duration';
    const parsed = list.flatMap((x) => parseThresholds({ [keyFor(x)]: [x] }));
    expect(
      parsed.map((p) => ({
        expression: p.expression,
        abortOnFail: p.abortOnFail,
        ...(p.delayAbortEvalMs !== undefined ? { delayAbortEvalMs: p.delayAbortEvalMs } : {}),
      })),
    ).toEqual(expected);
    // and the whole list is accepted by the platform config as written
    expect(
      parsePlatformConfig({
        tests: [{ name: 'api', script: 'sample.js', thresholds: { http_req_failed: list.filter((x) => keyFor(x) === 'http_req_failed') } }],
      }).tests[0]!.thresholds.http_req_failed,
    ).toEqual(list.filter((x) => keyFor(x) === 'http_req_failed'));
  });

  test('a bad delayAbortEval names its field', () => {
    expect(thresholdProblems({ http_req_failed: [{ threshold: 'rate<0.01', abortOnFail: true, delayAbortEval: '10 seconds' }] })).toEqual([
      { path: ['http_req_failed', 0, 'delayAbortEval'], input: '10 seconds', message: THRESHOLD_RULES.delayAbortEval },
    ]);
  });
});

describe('the platform config validates thresholds', () => {
  const withThresholds = (thresholds: Record<string, unknown[]>) => ({ tests: [{ name: 'api', script: 'sample.js', thresholds }] });
  const problemsOf = (thresholds: Record<string, unknown[]>): readonly string[] => {
    try {
      parsePlatformConfig(withThresholds(thresholds));
    } catch (e) {
      expect(e).toBeInstanceOf(PlatformConfigError);
      return (e as PlatformConfigError).problems;
    }
    return [];
  };

  test('valid thresholds parse', () => {
    const cfg = parsePlatformConfig(withThresholds({ 'http_req_duration{scenario:api}': ['p(95)<500'], http_req_failed: ['rate<0.01'] }));
    expect(cfg.tests[0]!.thresholds).toEqual({ 'http_req_duration{scenario:api}': ['p(95)<500'], http_req_failed: ['rate<0.01'] });
  });

  test('k6’s object form and an empty list parse and keep their shape (they are passed to k6 as written)', () => {
    // GIVEN
    const thresholds = {
      http_req_failed: [{ threshold: 'rate<0.01', abortOnFail: true, delayAbortEval: '10s' }],
      http_req_duration: [],
    };
    // WHEN
    const cfg = parsePlatformConfig(withThresholds(thresholds));
    // THEN
    expect(cfg.tests[0]!.thresholds).toEqual(thresholds);
    expect(parseThresholds(cfg.tests[0]!.thresholds)).toMatchObject([
      { key: 'http_req_failed', expression: 'rate<0.01', abortOnFail: true, delayAbortEvalMs: 10_000 },
    ]);
  });

  test('a bad expression fails parsing with the field path', () => {
    expect(problemsOf({ http_req_duration: ['p(95)<500', 'p(95)<<1500'] })).toEqual([
      `'tests[0].thresholds.http_req_duration[1]' ${THRESHOLD_RULES.value}, got "p(95)<<1500"`,
    ]);
  });

  test('a bad expression in the object form names the threshold field', () => {
    expect(problemsOf({ http_req_failed: [{ threshold: 'rate<<1', abortOnFail: true }] })).toEqual([
      `'tests[0].thresholds.http_req_failed[0].threshold' ${THRESHOLD_RULES.value}, got "rate<<1"`,
    ]);
  });

  test('an empty tag value is refused as k6 refuses it', () => {
    expect(problemsOf({ 'http_req_duration{scenario:}': ['p(95)<500'] })).toEqual([
      `'tests[0].thresholds.http_req_duration{scenario:}' ${THRESHOLD_RULES.filter}, got "http_req_duration{scenario:}"`,
    ]);
  });

  test('an unknown field of the object form is refused, named', () => {
    expect(problemsOf({ http_req_failed: [{ threshold: 'rate<0.01', abortOnFial: true }] })).toEqual([
      "'tests[0].thresholds.http_req_failed[0].abortOnFial' is not a known setting",
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
      // k6 v1.7.1 internal/output/prometheusrw/remotewrite/trend.go adaptUnit: _count of a time trend is divided by 1000
      `(sum(last_over_time(k6_http_req_duration_sum${s})) / (sum(last_over_time(k6_http_req_duration_count${s})) * 1000)) * 1000`,
      `min(last_over_time(k6_http_req_duration_min${s})) * 1000`,
      `max(last_over_time(k6_http_req_duration_max${s})) * 1000`,
      `max(last_over_time(k6_http_req_duration_p999${s})) * 1000`,
      `max(last_over_time(k6_http_req_duration_med${s})) * 1000`,
      'sum(last_over_time(k6_http_reqs_total{testid="run-1"}[600s]))',
    ]);
  });

  test('classic avg of a custom (non-time) trend uses _count as written (adaptUnit divides only time trends)', () => {
    const [q] = thresholdQueries({ payload_size: ['avg<100'] }, { ...scope, trends: 'classic' });
    expect(q!.promql).toBe(
      '(sum(last_over_time(k6_payload_size_sum{testid="run-1"}[600s])) / sum(last_over_time(k6_payload_size_count{testid="run-1"}[600s])))',
    );
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

describe('classicTrendStats (K6_PROMETHEUS_RW_TREND_STATS of classic runners)', () => {
  test('without thresholds: what the classic dashboards read', () => {
    expect(classicTrendStats({})).toEqual(['p(90)', 'p(95)', 'p(99)', 'med', 'min', 'max']);
  });

  test('adds what the trend thresholds need: avg → sum and count, other percentiles, once each, for any trend', () => {
    // GIVEN
    const thresholds = {
      http_req_duration: ['avg<200', 'p(95)<500', 'p(99.9)<900', 'p(75)<300'],
      'iteration_duration{scenario:api}': [{ threshold: 'avg<2000', abortOnFail: true }, 'max<5000'],
      payload_size: ['p(50)<10'],
      http_reqs: ['count>1'],
      http_req_failed: ['rate<0.01'],
    };
    // WHEN / THEN (counters and rates need no trend stat)
    expect(classicTrendStats(thresholds)).toEqual(['p(90)', 'p(95)', 'p(99)', 'med', 'min', 'max', 'sum', 'count', 'p(99.9)', 'p(75)', 'p(50)']);
  });

  test('every stat is one k6 v1.7.1 accepts (metrics/sample.go GetResolversForTrendColumns, plus sum)', () => {
    const stats = classicTrendStats({ http_req_duration: ['avg<1', 'p(99.99)<1', 'p(0)<1', 'p(100)<1', 'med<1'] });
    for (const s of stats) expect(s).toMatch(/^(avg|min|med|max|count|sum|p\((\d+(\.\d+)?)\))$/);
  });
});
