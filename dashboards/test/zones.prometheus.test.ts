/**
 * Integration: the load-test dashboards over a run spread over two clusters (`loadtest run --context a --context b`),
 * as its runners write it: every sample tagged `zone=<zone>`, `instance_id` = `<zone>-<index>`
 * (constructs/src/load-test/jobs-form.ts, docs/multi-cluster.md), beside a run in one cluster (no zone). On a real
 * Prometheus, with the raw series (recording-rules.prometheus.test.ts checks the recorded ones, whose every level keeps
 * `zone`):
 * - the zone variable lists the run's zones, and a run in one cluster has none;
 * - the per-zone panels split the run's load by zone, at the rates each zone sent;
 * - picking a zone narrows the whole-run stats to that zone's requests; "All" sums them, and still shows the run in one
 *   cluster.
 */
import { monitoringValues, parsePlatformConfig } from '@k6-platform/constructs/internal';
import { pushK6Run, type K6RunOptions, type K6RunTruth } from '../../test/support/k6-run';
import { startPrometheus, type PrometheusHandle } from '../../test/support/prometheus';
import { k6LoadTestClassicDashboard, k6LoadTestDashboard } from '../src';
import { evaluate, hasData, onlyValue, type TimeWindow } from './grafana-eval';
import { dashboardQueries, oneRunValues, substituteVariables, type DashboardQuery } from './queries';

const RUN: Omit<K6RunOptions, 'testid'> = { runners: 2, durationSeconds: 120, requestsPerSecond: 10 };

let prom: PrometheusHandle;
let eu: K6RunTruth;
let us: K6RunTruth;
let single: K6RunTruth;

beforeAll(async () => {
  prom = await startPrometheus({ spec: monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec });
  const endTime = Date.now() - 30_000;
  eu = await pushK6Run(prom.writeUrl, { ...RUN, testid: 'zones-1', zone: 'eu-west', endTime, seed: 1 });
  us = await pushK6Run(prom.writeUrl, { ...RUN, testid: 'zones-1', zone: 'us-east', endTime, seed: 2, requestsPerSecond: 4 });
  single = await pushK6Run(prom.writeUrl, { ...RUN, testid: 'one-cluster', endTime, seed: 3 });
}, 60_000);
afterAll(async () => prom?.stop());

const native = dashboardQueries(k6LoadTestDashboard());
const find = (queries: DashboardQuery[], title: string) => queries.filter((q) => q.source === title);
const vars = (testid: string, zone = '.*') => oneRunValues(testid, { zone });
const windowOf = (t: K6RunTruth): TimeWindow => ({ from: t.start, to: t.end, stepSeconds: 15, rateInterval: '1m' });

describe('a run over two zones', () => {
  test('the zone variable lists its zones; a run in one cluster has none', async () => {
    const variable = native.find((q) => q.source === 'variable zone')!;
    const values = async (testid: string) => {
      const selector = substituteVariables(variable.expr, vars(testid));
      // the label's values over the series the variable's selector finds, as label_values lists them
      const data = await prom.query(`count by (zone) (last_over_time(${selector}[1h]))`, eu.end);
      return (data.result as { metric: Record<string, string> }[])
        .map((s) => s.metric.zone)
        .filter((z) => z !== undefined)
        .sort();
    };
    expect(await values('zones-1')).toEqual(['eu-west', 'us-east']);
    expect(await values('one-cluster')).toEqual([]);
  });

  test.each([
    ['native', native],
    ['classic', dashboardQueries(k6LoadTestClassicDashboard())],
  ] as const)('%s: the per-zone panels split the load by zone, at the rate each zone sent', async (mode, queries) => {
    // the runs write native histograms: the classic latency panels read stat gauges they do not have
    const latency = mode === 'native' ? ['Request duration per zone'] : [];
    expect(find(queries, mode === 'native' ? 'Request duration per zone' : 'Request duration per zone (worst series)')).toHaveLength(1);
    for (const title of ['VUs per zone', 'Request rate per zone', ...latency]) {
      for (const q of find(queries, title)) {
        const e = await evaluate(prom, q, vars('zones-1'), windowOf(eu));
        expect({ title, zones: e.series.map((s) => s.metric.zone).sort() }).toEqual({ title, zones: ['eu-west', 'us-east'] });
      }
    }
    const [rate] = find(queries, 'Request rate per zone');
    const e = await evaluate(prom, rate!, vars('zones-1'), windowOf(eu));
    // mid-run, each zone's rate is its runners' rate: 2 runners x 10/s and 2 x 4/s
    const mid = (s: (typeof e.series)[number]) => Number(s.values![Math.floor(s.values!.length / 2)]![1]);
    const byZone = Object.fromEntries(e.series.map((s) => [s.metric.zone, mid(s)]));
    expect(byZone['eu-west']).toBeCloseTo(20, 0);
    expect(byZone['us-east']).toBeCloseTo(8, 0);
  });

  test('picking a zone narrows the run to its requests; All sums the zones and matches a run in one cluster', async () => {
    const [total] = find(native, 'Total requests');
    const at = (testid: string, zone?: string, t: K6RunTruth = eu) => evaluate(prom, total!, vars(testid, zone), windowOf(t)).then(onlyValue);
    expect(await at('zones-1', 'eu-west')).toBe(eu.totals.requests);
    expect(await at('zones-1', 'us-east')).toBe(us.totals.requests);
    expect(await at('zones-1')).toBe(eu.totals.requests + us.totals.requests);
    expect(await at('one-cluster', undefined, single)).toBe(single.totals.requests);
    // every per-runner panel names one runner across the zones: 4 runners
    const [perRunner] = find(native, 'Request rate per runner');
    const runners = await evaluate(prom, perRunner!, vars('zones-1'), windowOf(eu));
    expect(runners.series.map((s) => s.metric.instance_id).sort()).toEqual(['eu-west-0', 'eu-west-1', 'us-east-0', 'us-east-1']);
  });

  test('a run in one cluster: the per-zone panels show it as one unnamed zone', async () => {
    const [rate] = find(native, 'Request rate per zone');
    const e = await evaluate(prom, rate!, vars('one-cluster'), windowOf(single));
    expect(hasData(e)).toBe(true);
    expect(e.series.map((s) => s.metric.zone)).toEqual([undefined]);
  });
});
