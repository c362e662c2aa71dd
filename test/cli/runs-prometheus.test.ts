/** `loadtest runs` and the live progress figures against a real Prometheus holding synthetic runs with known truth. */
import { runMetrics } from '../../cli/progress';
import { prometheusClient, PrometheusUnreachableError } from '../../cli/prometheus';
import { listRuns } from '../../cli/runs';
import { monitoringValues } from '../../constructs/src/monitoring-stack';
import { parsePlatformConfig } from '../../constructs/src/platform-config';
import { pushK6Run, type K6RunTruth } from '../support/k6-run';
import { freePort, startPrometheus, type PrometheusHandle } from '../support/prometheus';

let prom: PrometheusHandle;
let older: K6RunTruth;
let newer: K6RunTruth;
const now = Date.now();

beforeAll(async () => {
  prom = await startPrometheus({ spec: monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec });
  // GIVEN two runs: 3 runners for 60 s ending 2 min ago, and 2 runners for 30 s ending now, 10 % failures on one of two URLs
  older = await pushK6Run(prom.writeUrl, { testid: 'sample-20261125-110000', runners: 3, durationSeconds: 60, endTime: now - 120_000 });
  newer = await pushK6Run(prom.writeUrl, {
    testid: 'adhoc-1',
    runners: 2,
    durationSeconds: 30,
    endTime: now,
    urls: [{ url: 'http://target.local/a' }, { url: 'http://target.local/b', failureFraction: 0.1 }],
  });
});
afterAll(() => prom.stop());

describe('listRuns', () => {
  test('finds every run with its exact first and last sample, its runners and its test, newest first', async () => {
    // WHEN
    const runs = await listRuns(prometheusClient(prom.url), '1h', [{ name: 'sample' }], now / 1000);
    // THEN
    expect(runs).toEqual([
      { testid: 'adhoc-1', start: newer.firstSample / 1000, end: newer.end / 1000, runners: 2 },
      { testid: 'sample-20261125-110000', test: 'sample', start: older.firstSample / 1000, end: older.end / 1000, runners: 3 },
    ]);
  });

  test('a window that ends before a run leaves it out', async () => {
    // WHEN evaluated just before the newer run began
    const runs = await listRuns(prometheusClient(prom.url), '1h', [], newer.firstSample / 1000 - 1);
    // THEN
    expect(runs.map((r) => r.testid)).toEqual(['sample-20261125-110000']);
  });
});

describe('runMetrics', () => {
  test('sums VUs and request rate over all runners and gives the failed share of requests', async () => {
    // WHEN at the end of the newer run
    const m = await runMetrics(prometheusClient(prom.url), 'adhoc-1', newer.end / 1000);
    // THEN 2 runners x 10 VUs, 2 runners x 10 req/s (within rate()'s extrapolation), 10 % of half the requests failed
    expect(m.vus).toBe(20);
    expect(m.requestRate).toBeCloseTo(20, 1);
    expect(m.errorRate).toBeCloseTo(newer.totals.errorRate, 2);
  });

  test('a run without failed requests has a 0 error rate, and an unknown testid has no figures', async () => {
    // WHEN
    const clean = await runMetrics(prometheusClient(prom.url), 'sample-20261125-110000', older.end / 1000);
    const unknown = await runMetrics(prometheusClient(prom.url), 'nope', now / 1000);
    // THEN
    expect(clean.errorRate).toBe(0);
    expect(clean.vus).toBe(30);
    expect(unknown).toEqual({});
  });

  test('an unreachable Prometheus is reported as such', async () => {
    // GIVEN a port nothing listens on
    const url = `http://127.0.0.1:${await freePort()}`;
    // WHEN / THEN
    await expect(runMetrics(prometheusClient(url), 'x', now / 1000)).rejects.toThrow(PrometheusUnreachableError);
    await expect(prometheusClient(url).query('1')).rejects.toThrow(`Prometheus at ${url} is unreachable: connect ECONNREFUSED 127.0.0.1:`);
  });
});
