import { SELECTOR } from '../src/common';
import { nativeLatency, QUANTILES } from '../src/queries';
import { recordedLatency, selectorLabels } from '../src/recorded-queries';

describe('recordedLatency', () => {
  test('reads the recorded rate at the level that keeps the selected and grouped labels, the raw one behind the guard', () => {
    expect(recordedLatency.rate('k6_http_reqs_total', SELECTOR.http, ['status'])).toBe(
      'sum by (status) (request:k6_http_reqs:rate1m{testid=~"$testid", zone=~"$zone", scenario=~"$scenario", name=~"$name", dashboard_source=~"$source"} or ' +
        'rate(k6_http_reqs_total{testid=~"$testid", zone=~"$zone", scenario=~"$scenario", name=~"$name", dashboard_source!~"$source"}[$__rate_interval]))',
    );
    // the runner is kept by the runner_request level, and by the runner level while no scenario or URL is picked
    expect(recordedLatency.rate('k6_http_reqs_total', SELECTOR.http, ['instance_id'])).toMatch(
      /^sum by \(instance_id\) \(runner:k6_http_reqs:rate1m\{.*\} or runner_request:k6_http_reqs:rate1m\{/,
    );
    expect(recordedLatency.gauge('k6_vus', SELECTOR.run, ['instance_id'])).toMatch(
      /^sum by \(instance_id\) \(runner:k6_vus:sum\{testid=~"\$testid", zone=~"\$zone", dashboard_source=~"\$source"\} or k6_vus\{/,
    );
    expect(recordedLatency.overTime('iteration_duration', QUANTILES.p95, SELECTOR.scenario)).toMatch(
      /^histogram_quantile\(0\.95, sum \(scenario:k6_iteration_duration_seconds:rate1m\{/,
    );
  });

  test('per-runner latency from the runner level while no scenario or URL is picked, else from runner_request', () => {
    const sel = 'testid=~"$testid", zone=~"$zone", scenario=~"$scenario", name=~"$name"';
    // two branches told apart by a matcher on the guard label, which no series has: "" matches `(.*)(.*)` (both at All)
    // and no picked value; the coarse branch drops the matchers on the labels it does not keep
    expect(recordedLatency.overTime('http_req_duration', QUANTILES.selected, SELECTOR.http, ['instance_id'])).toBe(
      'histogram_quantile($quantile, sum by (instance_id) (' +
        `runner:k6_http_req_duration_seconds:rate1m{testid=~"$testid", zone=~"$zone", dashboard_source=~"$source", dashboard_source=~"($scenario)($name)"} or ` +
        `runner_request:k6_http_req_duration_seconds:rate1m{${sel}, dashboard_source=~"$source", dashboard_source!~"($scenario)($name)"} or ` +
        // source = raw
        `rate(k6_http_req_duration_seconds{${sel}, dashboard_source!~"$source"}[$__rate_interval])))`,
    );
  });

  test('whole-run latency and counts from the run totals: by outcome while no scenario or URL is picked, else by request', () => {
    const sel = 'testid=~"$testid", zone=~"$zone", scenario=~"$scenario", name=~"$name"';
    // the URL table groups by labels only the request level keeps: one recorded branch
    expect(recordedLatency.overRun('http_req_duration', QUANTILES.p95, SELECTOR.http, ['name'])).toBe(
      `histogram_quantile(0.95, sum by (name) (sum_over_time(request:k6_http_req_duration_seconds:increase{${sel}, dashboard_source=~"$source"}[$__range]) ` +
        `or increase(k6_http_req_duration_seconds{${sel}, dashboard_source!~"$source"}[$__range])))`,
    );
    expect(recordedLatency.extreme('http_req_duration', 'max', SELECTOR.http)).toMatch(
      /^histogram_quantile\(1, sum \(sum_over_time\(outcome:k6_http_req_duration_seconds:increase\{.*\}\[\$__range\]\) or sum_over_time\(request:k6_http_req_duration_seconds:increase\{/,
    );
    // a literal matcher on a label the coarse level keeps (the failed requests) does not stop it
    expect(recordedLatency.total('k6_http_reqs_total', `${SELECTOR.http}, expected_response="false"`)).toBe(
      'sum (sum_over_time(outcome:k6_http_reqs:increase{testid=~"$testid", zone=~"$zone", expected_response="false", dashboard_source=~"$source", ' +
        'dashboard_source=~"($scenario)($name)"}[$__range]) or ' +
        `sum_over_time(request:k6_http_reqs:increase{${sel}, expected_response="false", dashboard_source=~"$source", dashboard_source!~"($scenario)($name)"}[$__range]) or ` +
        `last_over_time(k6_http_reqs_total{${sel}, expected_response="false", dashboard_source!~"$source"}[$__range]))`,
    );
    // a literal matcher on a label it drops does
    expect(recordedLatency.total('k6_http_reqs_total', `${SELECTOR.http}, status="500"`)).toMatch(
      /^sum \(sum_over_time\(request:k6_http_reqs:increase\{[^}]*\}\[\$__range\]\) or last_over_time\(/,
    );
  });

  test('stays raw where no rule keeps the labels: a metric without a rule, a whole-run trend without run totals, a label the rules drop', () => {
    expect(recordedLatency.rate('k6_http_req_failed_total', SELECTOR.http)).toBe(nativeLatency.rate('k6_http_req_failed_total', SELECTOR.http));
    expect(recordedLatency.overRun('http_req_waiting', QUANTILES.p95, SELECTOR.http)).toBe(
      nativeLatency.overRun('http_req_waiting', QUANTILES.p95, SELECTOR.http),
    );
    expect(recordedLatency.overRun('http_req_duration', QUANTILES.p95, SELECTOR.http, ['instance_id'])).toBe(
      nativeLatency.overRun('http_req_duration', QUANTILES.p95, SELECTOR.http, ['instance_id']),
    );
    expect(recordedLatency.overTime('http_req_duration', QUANTILES.p95, `${SELECTOR.http}, url="x"`)).toBe(
      nativeLatency.overTime('http_req_duration', QUANTILES.p95, `${SELECTOR.http}, url="x"`),
    );
  });

  test('the zone of a run spread over several clusters is kept by every level: breakdowns by zone read recorded series', () => {
    expect(recordedLatency.rate('k6_http_reqs_total', SELECTOR.http, ['zone'])).toMatch(
      /^sum by \(zone\) \(outcome:k6_http_reqs:rate1m\{.*\} or request:k6_http_reqs:rate1m\{/,
    );
    expect(recordedLatency.overTime('http_req_duration', QUANTILES.selected, SELECTOR.http, ['zone'])).toMatch(
      /^histogram_quantile\(\$quantile, sum by \(zone\) \(outcome:k6_http_req_duration_seconds:rate1m\{.*\} or request:k6_http_req_duration_seconds:rate1m\{/,
    );
    expect(recordedLatency.gauge('k6_vus', SELECTOR.run, ['zone'])).toMatch(/^sum by \(zone\) \(run:k6_vus:sum\{/);
  });

  test('selectorLabels names every matcher of a selector', () => {
    expect(selectorLabels(`${SELECTOR.http}, expected_response="false", status!="200", url!~"x"`)).toEqual([
      'testid',
      'zone',
      'scenario',
      'name',
      'expected_response',
      'status',
      'url',
    ]);
  });
});
