/** `loadtest runs` and the live progress figures against a real Prometheus holding synthetic runs with known truth. */
import { runCli } from '../../cli/index';
import { defaultJudge } from '../../cli/judge';
import { bufferOutput } from '../../cli/output';
import { runMetrics } from '../../cli/progress';
import { prometheusClient, PrometheusUnreachableError } from '../../cli/prometheus';
import { listRuns } from '../../cli/runs';
import { monitoringValues } from '../../constructs/src/monitoring-stack';
import { parsePlatformConfig, testSchema } from '../../constructs/src/platform-config';
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

describe('defaultJudge (the CLI side of cli/verdict.ts)', () => {
  const sample = testSchema.parse({ name: 'sample', script: 'sample.js', thresholds: { http_req_failed: ['rate<0.01'] } });
  const judge = async (testid: string, url = prom.url, test = sample) => {
    const out = bufferOutput();
    const code = await defaultJudge({ prometheusUrl: url, testid, test, out, now: new Date(now) });
    return { code, text: out.text() };
  };

  test('a run with 5 % failed requests fails rate<0.01 with exit 99 and prints the table', async () => {
    // WHEN
    const r = await judge('adhoc-1');
    // THEN
    expect(r.code).toBe(99);
    expect(r.text).toMatch(/http_req_failed rate<0\.01 +0\.05\d* +FAIL/);
  });

  test('a clean run passes with exit 0', async () => {
    const r = await judge('sample-20261125-110000');
    expect(r.code).toBe(0);
    expect(r.text).toMatch(/http_req_failed rate<0\.01 +0 +pass/);
  });

  test('an unknown testid exits 3 and an unreachable Prometheus 4', async () => {
    const unknown = await judge('nope');
    const unreachable = await judge('adhoc-1', `http://127.0.0.1:${await freePort()}`);
    expect(unknown.code).toBe(3);
    expect(unknown.text).toContain('no data for testid "nope"');
    expect(unreachable.code).toBe(4);
  });

  test('loadtest verdict end to end: the test is found from the testid prefix, the exit code is the verdict', async () => {
    // GIVEN the repository's dev config has the test "sample" (thresholds or none)
    const out = bufferOutput();
    // WHEN
    const code = await runCli(['verdict', '--testid', 'nope-1', '--prometheus', prom.url], { out, env: {}, rootDir: process.cwd() });
    // THEN
    expect(code).toBe(3);
    expect(out.text()).toContain('no data for testid "nope-1"');
  });
});
