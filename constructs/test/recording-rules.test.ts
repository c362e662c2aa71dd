import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { Chart, Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { parsePlatformConfig, PlatformConfigError, type PlatformConfigInput } from '../src/config/platform-config';
import { buildPlatform } from '../src/platform/platform';
import { monitoringValues } from '../src/monitoring/monitoring-stack';
import {
  DERIVED_SERIES,
  RECORDING_RULE_INTERVAL,
  recordedCounterRate,
  recordedGaugeSum,
  recordedHistogramRate,
  recordedRunIncrement,
  recordingRuleGroups,
  RecordingRules,
  RULE_LEVELS,
  runIncrementExpr,
  runTotalsQueryOffset,
} from '../src/monitoring/recording-rules';
import { validateManifests, type Manifest } from '../../test/support/schemas';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SCRIPTS_DIR = path.resolve(__dirname, '..', '..', 'scripts');
const PROMTOOL = process.env.PROMTOOL_BIN ?? '/usr/bin/promtool';
const KPS_VALUES = path.join(__dirname, '..', '..', 'test', 'fixtures', 'upstream', 'kube-prometheus-stack', 'values.yaml');

function monitoringObjects(input: PlatformConfigInput): Obj[] {
  const charts = buildPlatform(Testing.app(), { config: parsePlatformConfig(input), scriptsDir: SCRIPTS_DIR });
  return charts.monitoring.toJson() as Obj[];
}
const prometheusRules = (objs: Obj[]) => objs.filter((o) => o.kind === 'PrometheusRule');

describe('RecordingRules', () => {
  test('one PrometheusRule per group, in the monitoring namespace, with the platform labels and the release label', () => {
    // WHEN the default platform is built
    const rules = prometheusRules(monitoringObjects({ monitoring: { releaseName: 'kps' }, namespaces: { monitoring: 'mon' } }));
    // THEN
    expect(rules.map((r) => [r.apiVersion, r.metadata.name, r.metadata.namespace])).toEqual([
      ['monitoring.coreos.com/v1', 'k6-latency-rules', 'mon'],
      ['monitoring.coreos.com/v1', 'k6-load-rules', 'mon'],
      ['monitoring.coreos.com/v1', 'k6-run-totals-rules', 'mon'],
    ]);
    for (const r of rules) {
      expect(r.metadata.labels).toEqual({
        'app.kubernetes.io/name': 'k6-platform',
        'app.kubernetes.io/part-of': 'k6-platform',
        'app.kubernetes.io/managed-by': 'cdk8s',
        'k6.platform/environment': 'dev',
        release: 'kps',
      });
    }
    expect(rules.map((r) => r.spec.groups)).toEqual(
      recordingRuleGroups().map((g) => [
        {
          name: g.name,
          interval: RECORDING_RULE_INTERVAL,
          ...(g.name === 'k6-run-totals' ? { query_offset: '10s' } : {}),
          rules: g.rules.map((x) => ({ record: x.record, expr: x.expr })),
        },
      ]),
    );
  });

  test('the run totals query two push intervals in the past, from runner.pushInterval', () => {
    // prometheus-operator v0.93.0 pkg/apis/monitoring/v1/prometheusrule_types.go: RuleGroup `query_offset`, a Duration
    const totals = (input: PlatformConfigInput) =>
      prometheusRules(monitoringObjects(input)).find((r) => r.metadata.name === 'k6-run-totals-rules')!.spec.groups[0];
    expect(totals({}).query_offset).toBe('10s');
    expect(totals({ runner: { pushInterval: '2s' } }).query_offset).toBe('4s');
    expect(totals({ runner: { pushInterval: '1m' } }).query_offset).toBe('120s');
    // a push interval under a second counts as one (k6DurationSeconds rounds up): never less than it
    expect(runTotalsQueryOffset('500ms')).toBe('2s');
    // only the run totals wait: the other groups stay current for the live panels
    expect(
      recordingRuleGroups()
        .filter((g) => g.query_offset !== undefined)
        .map((g) => g.name),
    ).toEqual(['k6-run-totals']);
  });

  test('the objects are valid against the prometheus-operator CRD schema', () => {
    const rules = prometheusRules(monitoringObjects({})) as Manifest[];
    expect(rules).toHaveLength(3);
    expect(validateManifests(rules)).toEqual([]);
    // AND the check would catch a wrong field type
    const broken = { ...rules[0]!, spec: { groups: [{ name: 'x', rules: [{ record: 'a', expr: 'b', for: 5 }] }] } } as Manifest;
    expect(validateManifests([broken])).not.toEqual([]);
  });

  test('what the rules record, by name and expression', () => {
    const rules = recordingRuleGroups().flatMap((g) => g.rules);
    const byRecord = Object.fromEntries(rules.map((r) => [r.record, r.expr]));
    expect(byRecord['request:k6_http_req_duration_seconds:rate1m']).toBe(
      'sum by (testid, test, zone, scenario, name, method, status, expected_response) (rate(k6_http_req_duration_seconds[1m]))',
    );
    expect(byRecord['scenario:k6_iteration_duration_seconds:rate1m']).toBe(
      'sum by (testid, test, zone, scenario) (rate(k6_iteration_duration_seconds[1m]))',
    );
    expect(byRecord['request:k6_http_reqs:rate1m']).toBe(
      'sum by (testid, test, zone, scenario, name, method, status, expected_response) (rate(k6_http_reqs_total[1m]))',
    );
    expect(byRecord['runner_request:k6_http_reqs:rate1m']).toBe(
      'sum by (testid, test, zone, scenario, name, instance_id) (rate(k6_http_reqs_total[1m]))',
    );
    expect(byRecord['scenario:k6_dropped_iterations:rate1m']).toBe('sum by (testid, test, zone, scenario) (rate(k6_dropped_iterations_total[1m]))');
    expect(byRecord['run:k6_vus:sum']).toBe('sum by (testid, test, zone) (k6_vus)');
    expect(byRecord['runner:k6_vus:sum']).toBe('sum by (testid, test, zone, instance_id) (k6_vus)');
    expect(byRecord['runner_request:k6_http_req_duration_seconds:rate1m']).toBe(
      'sum by (testid, test, zone, scenario, name, instance_id) (rate(k6_http_req_duration_seconds[1m]))',
    );
    // each runner's histogram now minus one interval earlier, or all of it where there is no earlier sample
    expect(byRecord['request:k6_http_req_duration_seconds:increase']).toBe(
      'sum by (testid, test, zone, scenario, name, method, status, expected_response) ' +
        '((last_over_time(k6_http_req_duration_seconds[5m]) - last_over_time(k6_http_req_duration_seconds[5m] offset 15s)) ' +
        'or last_over_time(k6_http_req_duration_seconds[5m]))',
    );
    // the offset is the evaluation interval, so that consecutive increments meet
    expect(runIncrementExpr('http_req_duration', '1s')).toContain('[5m] offset 1s)');
    expect(recordedRunIncrement('http_req_duration')).toBe('request:k6_http_req_duration_seconds:increase');
    // k6's http_req_failed rate as its two counts per series: failed requests (ratio x requests) and requests judged
    expect(byRecord['request:k6_http_req_failed_nonzero:increase']).toBe(
      'sum by (testid, test, zone, scenario, name, method, status, expected_response) ' +
        '(((last_over_time(k6_http_req_failed_rate[5m]) * last_over_time(k6_http_reqs_total[5m])) - ' +
        '(last_over_time(k6_http_req_failed_rate[5m] offset 15s) * last_over_time(k6_http_reqs_total[5m] offset 15s))) ' +
        'or (last_over_time(k6_http_req_failed_rate[5m]) * last_over_time(k6_http_reqs_total[5m])))',
    );
    expect(byRecord['request:k6_http_req_failed_samples:increase']).toContain(
      '((last_over_time(k6_http_reqs_total[5m]) and last_over_time(k6_http_req_failed_rate[5m])) - ',
    );
    expect(byRecord['request:k6_http_reqs:increase']).toBe(
      'sum by (testid, test, zone, scenario, name, method, status, expected_response) ' +
        '((last_over_time(k6_http_reqs_total[5m]) - last_over_time(k6_http_reqs_total[5m] offset 15s)) or last_over_time(k6_http_reqs_total[5m]))',
    );
    // the coarse levels sum the finer level recorded before them in the same group, not the runners' series
    expect(byRecord['outcome:k6_http_req_duration_seconds:rate1m']).toBe(
      'sum by (testid, test, zone, expected_response) (request:k6_http_req_duration_seconds:rate1m)',
    );
    expect(byRecord['runner:k6_http_req_duration_seconds:rate1m']).toBe(
      'sum by (testid, test, zone, instance_id) (runner_request:k6_http_req_duration_seconds:rate1m)',
    );
    expect(byRecord['runner:k6_http_reqs:rate1m']).toBe('sum by (testid, test, zone, instance_id) (runner_request:k6_http_reqs:rate1m)');
    expect(byRecord['outcome:k6_http_req_failed_samples:increase']).toBe(
      'sum by (testid, test, zone, expected_response) (request:k6_http_req_failed_samples:increase)',
    );
    // every recorded series a rule reads is recorded before it in its group (the same evaluation's result)
    const chained = recordingRuleGroups().flatMap((g) =>
      g.rules.flatMap((r, i) => {
        const reads = /\(([a-z_]+:k6_\w+:\w+)\)$/.exec(r.expr)?.[1];
        return reads === undefined ? [] : [{ rule: r.record, before: g.rules.slice(0, i).some((x) => x.record === reads) }];
      }),
    );
    expect(chained).toHaveLength(7 + 1 + 2 + 4);
    // the checks' two sums, per check: each runner's ratio weighted by its iterations of the scenario
    expect(byRecord['check:k6_checks_weighted:sum']).toBe(
      'sum by (testid, test, zone, scenario, check) (k6_checks_rate * on (testid, instance_id, scenario) group_left () ' +
        'sum by (testid, instance_id, scenario) (k6_iterations_total))',
    );
    expect(byRecord['check:k6_checks_weight:increase']).toContain(
      '(((last_over_time(k6_checks_rate[5m]) * 0 + 1) * on (testid, instance_id, scenario) group_left () ' +
        'sum by (testid, instance_id, scenario) (last_over_time(k6_iterations_total[5m]))) - ',
    );
    expect(chained.filter((c) => !c.before)).toEqual([]);
    // latency: 7 HTTP trends x (request, outcome), duration x (runner_request, runner), iterations; load: 8 counters,
    // 3 gauges, the checks' 2 sums; totals: 4 series x (request, outcome), the checks' 2 sums
    expect(rules).toHaveLength(17 + 13 + 10);
    expect(new Set(rules.map((r) => r.record)).size).toBe(rules.length);
  });

  test('names follow level:metric:operations, the level naming exactly the labels the expression keeps', () => {
    for (const r of recordingRuleGroups().flatMap((g) => g.rules)) {
      const parts = r.record.split(':');
      expect(parts).toHaveLength(3);
      const [level, metric, operation] = parts as [keyof typeof RULE_LEVELS, string, string];
      expect(RULE_LEVELS[level]).toBeDefined();
      expect(r.expr.startsWith(`sum by (${RULE_LEVELS[level].join(', ')}) (`)).toBe(true);
      expect(metric).toMatch(/^k6_[a-z_]+$/);
      // counters lose _total under rate and increase; the metric the expression reads is named in the record
      expect(metric.endsWith('_total')).toBe(false);
      // a coarse level reads the finer one of the same metric and operation; an http_req_failed count, the rate and the requests
      const finer = new RegExp(`\\([a-z_]+:${metric}:${operation}\\)$`);
      const reads = finer.test(r.expr)
        ? undefined
        : DERIVED_SERIES[metric] !== undefined
          ? DERIVED_SERIES[metric]((m) => (operation === 'sum' ? m : `last_over_time(${m}[5m])`))
          : { rate1m: `(rate(${metric}`, sum: `(${metric})`, increase: `(last_over_time(${metric}` }[operation];
      if (reads === undefined && finer.test(r.expr)) continue;
      expect({ record: r.record, reads: reads !== undefined && r.expr.includes(reads) }).toEqual({ record: r.record, reads: true });
    }
    expect(recordedHistogramRate('http_req_waiting', 'request')).toBe('request:k6_http_req_waiting_seconds:rate1m');
    expect(recordedCounterRate('k6_data_sent_total', 'scenario')).toBe('scenario:k6_data_sent:rate1m');
    expect(recordedGaugeSum('k6_vus_max', 'run')).toBe('run:k6_vus_max:sum');
  });

  test('every expression parses with lezer-promql, and promtool accepts the groups as a rule file', () => {
    const groups = recordingRuleGroups();
    for (const r of groups.flatMap((g) => g.rules)) {
      const errors: number[] = [];
      parser.parse(r.expr).iterate({ enter: (n) => void (n.type.isError ? errors.push(n.from) : undefined) });
      expect({ record: r.record, errors }).toEqual({ record: r.record, errors: [] });
    }
    expect(existsSync(PROMTOOL)).toBe(true);
    const dir = mkdtempSync(path.join(tmpdir(), 'k6-rules-'));
    try {
      const file = path.join(dir, 'k6.rules.yaml');
      // Debian's promtool is 2.42, which predates `query_offset` (Prometheus 2.53): checked without it here; the
      // Prometheus 3 harness loads the groups as they are (dashboards/test/recording-rules.prometheus.test.ts)
      writeFileSync(file, YAML.stringify({ groups: groups.map(({ query_offset: _, ...g }) => g) }));
      const res = spawnSync(PROMTOOL, ['check', 'rules', file], { encoding: 'utf8' });
      expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: '' });
      expect(res.stdout).toContain(`SUCCESS: ${groups.flatMap((g) => g.rules).length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the construct on its own: namespace and release from its props', () => {
    const chart = new Chart(Testing.app(), 'c');
    const rr = new RecordingRules(chart, 'R', { namespace: 'obs', releaseName: 'stack' });
    const objs = Testing.synth(chart) as Obj[];
    expect(objs.map((o) => [o.metadata.namespace, o.metadata.labels.release])).toEqual([
      ['obs', 'stack'],
      ['obs', 'stack'],
      ['obs', 'stack'],
    ]);
    expect([...rr.rules.keys()]).toEqual(['k6-latency', 'k6-load', 'k6-run-totals']);
  });
});

describe('monitoring.recordingRules', () => {
  test('on by default; off leaves no PrometheusRule; none when the platform does not deploy the stack', () => {
    expect(parsePlatformConfig({}).monitoring.recordingRules.enabled).toBe(true);
    expect(prometheusRules(monitoringObjects({ monitoring: { recordingRules: { enabled: false } } }))).toEqual([]);
    // An existing Prometheus may have no prometheus-operator (no PrometheusRule CRD) and may not record histograms.
    const external = { monitoring: { enabled: false, remoteWriteUrl: 'http://prometheus.obs:9090/api/v1/write' } };
    expect(prometheusRules(monitoringObjects(external))).toEqual([]);
    // AND the other monitoring objects stay as they were
    const withRules = monitoringObjects({}).filter((o) => o.kind !== 'PrometheusRule');
    expect(monitoringObjects({ monitoring: { recordingRules: { enabled: false } } })).toEqual(withRules);
  });

  test('a bad value names the field, the value and what is allowed', () => {
    const problems = (input: PlatformConfigInput): readonly string[] => {
      try {
        parsePlatformConfig(input);
      } catch (e) {
        if (e instanceof PlatformConfigError) return e.problems;
        throw e;
      }
      return [];
    };
    const bad = problems({ monitoring: { recordingRules: { enabled: 'yes' as unknown as boolean } } });
    expect(bad).toHaveLength(1);
    expect(bad[0]).toContain('monitoring.recordingRules.enabled');
    expect(bad[0]).toContain('boolean');
    expect(bad[0]).toContain('"yes"');
    expect(problems({ monitoring: { recordingRules: { enable: true } as unknown as { enabled: boolean } } })[0]).toContain('enable');
  });
});

describe('the pinned chart selects the rules', () => {
  // kube-prometheus-stack 88.5.3 charts/kube-prometheus-stack/templates/prometheus/prometheus.yaml renders
  //   ruleNamespaceSelector: the value when non-empty, else `{}`;
  //   ruleSelector: the value when non-empty, else `matchLabels: {release: <release>}` when
  //     ruleSelectorNilUsesHelmValues is true, else `{}` unless the value is null.
  // An empty selector in the Prometheus spec selects every PrometheusRule (every namespace). These are the upstream
  // defaults that reasoning starts from (values.yaml of the same version, kept as a fixture).
  test('the chart default rule selectors are empty maps, which the platform leaves as they are', () => {
    const values = YAML.parse(readFileSync(KPS_VALUES, 'utf8')) as Obj;
    expect(values.prometheus.prometheusSpec.ruleSelector).toEqual({});
    expect(values.prometheus.prometheusSpec.ruleNamespaceSelector).toEqual({});
    expect(values.prometheus.prometheusSpec.ruleSelectorNilUsesHelmValues).toBe(true);
    // AND the platform turns the release-label selector off and sets no selector of its own: `ruleSelector: {}`
    const spec = monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec as unknown as Obj;
    expect(spec.ruleSelectorNilUsesHelmValues).toBe(false);
    expect(spec.ruleSelector).toBeUndefined();
    expect(spec.ruleNamespaceSelector).toBeUndefined();
  });
});
