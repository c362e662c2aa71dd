/**
 * `loadtest verdict` and `loadtest runs` against a real VictoriaMetrics 1.145.0 named by the environment's
 * `monitoring.backend` (no --prometheus: the query URL and the dialect come from the config), with synthetic k6 runs of
 * known truth remote-written to it, in both trend modes. The values must match the truth as they do on Prometheus.
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../cli/index';
import { bufferOutput } from '../../cli/output';
import type { RunsJson, ThresholdJson, VerdictJson } from '../../cli/verdict/json';
import { evaluateVerdict } from '../../cli/verdict/verdict';
import { pushK6Run, type K6RunTruth } from '../support/k6-run';
import { bucketErrorBound } from '../support/remote-write';
import { startVictoriaMetrics, type VictoriaMetricsHandle } from '../support/victoria-metrics';

const BOUND = bucketErrorBound(3);

let vm: VictoriaMetricsHandle;
let native: K6RunTruth;
let classic: K6RunTruth;
let root: string;
const now = Date.now();

/** The thresholds both environments' test declares: every aggregation the verdict knows, loose enough to pass. */
const THRESHOLDS = [
  'thresholds:',
  '  http_req_duration: ["p(95)<100000", "med<100000", "avg<100000", "min>0", "max<100000"]',
  '  http_req_failed: ["rate<1"]',
  '  checks: ["rate>0"]',
  '  http_reqs: ["count>0", "rate>0"]',
  '  dropped_iterations: ["count<1000"]',
  '  vus: ["value>0"]',
];

function environment(name: string, nativeHistograms: boolean): void {
  writeFileSync(
    path.join(root, `Pulumi.${name}.yaml`),
    [
      'config:',
      '  k6platform:monitoring:',
      '    backend:',
      '      kind: victoriametrics',
      `      url: ${vm.url}`,
      '  k6platform:runner:',
      `    nativeHistograms: ${String(nativeHistograms)}`,
      '  k6platform:tests:',
      '    - name: shop',
      '      script: sample.js',
      ...THRESHOLDS.map((l) => `      ${l}`),
      '',
    ].join('\n'),
  );
}

beforeAll(async () => {
  vm = await startVictoriaMetrics();
  // GIVEN a native-mode run (3 runners, one slow and failing more) and a classic-mode run, both of test "shop"
  native = await pushK6Run(vm.writeUrl, {
    testid: 'shop-20261203-100000',
    test: 'shop',
    runners: 3,
    durationSeconds: 60,
    endTime: now - 120_000,
    urls: [{ url: 'http://t/a' }, { url: 'http://t/b', failureFraction: [0.01, 0.01, 0.3] }],
    requestsPerSecond: [10, 10, 3],
    latency: [{ medianMs: 100 }, { medianMs: 100 }, { medianMs: 900, sigma: 0.3 }],
    checks: [{ name: 'status is 200' }, { name: 'body ok', failFraction: [0.01, 0.01, 0.5] }],
    droppedIterations: [0, 0, 12],
  });
  classic = await pushK6Run(vm.writeUrl, {
    testid: 'shop-20261203-110000',
    test: 'shop',
    mode: 'classic',
    runners: 2,
    durationSeconds: 30,
    endTime: now,
    requestsPerSecond: [10, 2],
    latency: [{ medianMs: 100 }, { medianMs: 700 }],
    droppedIterations: [0, 3],
  });
  await vm.flush();
  root = mkdtempSync(path.join(tmpdir(), 'loadtest-vm-'));
  symlinkSync(path.resolve(__dirname, '..', '..', 'scripts'), path.join(root, 'scripts'));
  environment('dev', true);
  environment('classic', false);
});
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await vm.stop();
});

async function verdict(testid: string, env: string): Promise<{ code: number; doc: VerdictJson; rows: Record<string, ThresholdJson> }> {
  const out = bufferOutput();
  const code = await runCli(['verdict', '--testid', testid, '--env', env, '--json'], { out, env: {}, rootDir: root });
  const doc = JSON.parse(out.text()) as VerdictJson;
  return { code, doc, rows: Object.fromEntries(doc.thresholds.map((t) => [t.name, t])) };
}

const observed = (rows: Record<string, ThresholdJson>, name: string) => {
  const r = rows[name];
  if (r === undefined) throw new Error(`no row ${name} in ${Object.keys(rows).join(', ')}`);
  return r.observed!;
};

describe('verdict on VictoriaMetrics, native histograms (vmrange buckets)', () => {
  test('queries the backend of the config, and every row passes', async () => {
    // WHEN
    const { code, doc } = await verdict(native.testid, 'dev');
    // THEN
    expect(doc.prometheus).toBe(vm.url);
    expect(doc.status).toBe('pass');
    expect(code).toBe(0);
    expect(doc.thresholds.filter((t) => !t.pass)).toEqual([]);
    expect(doc.window).toEqual(expect.objectContaining({ durationSeconds: native.durationSeconds }));
  });

  test('percentiles are within the bucket error of the truth over all runners; avg is exact', async () => {
    // WHEN
    const { rows } = await verdict(native.testid, 'dev');
    // THEN
    const ms = (q: number) => native.quantile(q) * 1000;
    expect(Math.abs(observed(rows, 'http_req_duration: p(95)<100000') / ms(0.95) - 1)).toBeLessThan(BOUND);
    expect(Math.abs(observed(rows, 'http_req_duration: med<100000') / ms(0.5) - 1)).toBeLessThan(BOUND);
    const values = native.values('http_req_duration').map((v) => v * 1000);
    expect(observed(rows, 'http_req_duration: avg<100000')).toBeCloseTo(values.reduce((a, b) => a + b) / values.length, 6);
    expect(rows['http_req_duration: p(95)<100000']!.promql).toBe(
      'histogram_quantile(0.95, sum by (vmrange) (last_over_time(k6_http_req_duration_seconds_bucket{testid="shop-20261203-100000"}[60s]))) * 1000',
    );
  });

  test('min and max are the bounds of the lowest and highest populated buckets around the true extremes', async () => {
    // WHEN
    const { rows } = await verdict(native.testid, 'dev');
    // THEN
    const values = native.values('http_req_duration').map((v) => v * 1000);
    const min = observed(rows, 'http_req_duration: min>0');
    const max = observed(rows, 'http_req_duration: max<100000');
    expect(min).toBeLessThanOrEqual(Math.min(...values));
    expect(Math.min(...values) / min - 1).toBeLessThan(2 * BOUND);
    expect(max).toBeGreaterThanOrEqual(Math.max(...values));
    expect(max / Math.max(...values) - 1).toBeLessThan(2 * BOUND);
  });

  test('rates, counts and gauges are exact over all runners', async () => {
    // WHEN
    const { rows } = await verdict(native.testid, 'dev');
    // THEN
    const t = native.totals;
    expect(observed(rows, 'http_req_failed: rate<1')).toBeCloseTo(t.errorRate, 12);
    expect(observed(rows, 'checks: rate>0')).toBeCloseTo(t.checksRate, 12);
    expect(observed(rows, 'http_reqs: count>0')).toBe(t.requests);
    expect(observed(rows, 'http_reqs: rate>0')).toBeCloseTo(t.requests / native.durationSeconds, 9);
    expect(observed(rows, 'dropped_iterations: count<1000')).toBe(12);
    expect(observed(rows, 'vus: value>0')).toBe(30);
  });

  test('the Prometheus dialect finds no trend data on VictoriaMetrics: the native name holds no series', async () => {
    // WHEN the same run judged with the PromQL written for Prometheus' native histograms
    const v = await evaluateVerdict(
      vm.url,
      native.testid,
      { http_req_duration: ['p(95)<100000'], http_reqs: ['count>0'] },
      { dialect: 'prometheus' },
    );
    // THEN the trend row has no samples (it fails with a note); the counter row is unaffected
    expect(v.rows.map((r) => [r.observed, r.pass, r.note ?? null])).toEqual([
      [null, false, 'no samples for this metric and filters in the run window'],
      [native.totals.requests, true, null],
    ]);
  });
});

describe('verdict on VictoriaMetrics, classic trend stats', () => {
  test('avg, min and max combine exactly; a percentile is the highest series’ one, an upper bound', async () => {
    // WHEN
    const { code, rows, doc } = await verdict(classic.testid, 'classic');
    // THEN
    expect(doc.thresholds.filter((t) => !t.pass).map((t) => [t.name, t.observed, t.note, t.promql])).toEqual([]);
    expect(code).toBe(0);
    const values = classic.values('http_req_duration').map((v) => v * 1000);
    expect(observed(rows, 'http_req_duration: avg<100000')).toBeCloseTo(values.reduce((a, b) => a + b) / values.length, 6);
    expect(observed(rows, 'http_req_duration: min>0')).toBeCloseTo(Math.min(...values), 6);
    expect(observed(rows, 'http_req_duration: max<100000')).toBeCloseTo(Math.max(...values), 6);
    expect(observed(rows, 'http_req_duration: p(95)<100000')).toBeGreaterThanOrEqual(classic.quantile(0.95) * 1000 * (1 - 1e-9));
    expect(observed(rows, 'http_reqs: count>0')).toBe(classic.totals.requests);
    expect(observed(rows, 'dropped_iterations: count<1000')).toBe(3);
  });
});

describe('runs on VictoriaMetrics', () => {
  test('lists both runs with their first sample of work, last sample, runners, test and verdict', async () => {
    // WHEN
    const out = bufferOutput();
    const code = await runCli(['runs', '--since', '1h', '--json'], { out, env: {}, rootDir: root });
    // THEN (the dev environment judges both runs with native-mode queries: the classic run has no native data)
    expect(code).toBe(0);
    const doc = JSON.parse(out.text()) as RunsJson;
    expect(doc.prometheus).toBe(vm.url);
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(doc.runs.map((r) => [r.testid, r.test, r.testSource, r.start, r.end, r.runners, r.started, r.verdict?.status ?? null])).toEqual([
      [classic.testid, 'shop', 'label', iso(classic.firstSample), iso(classic.end), 2, true, 'fail'],
      [native.testid, 'shop', 'label', iso(native.firstSample), iso(native.end), 3, true, 'pass'],
    ]);
  });

  test('the classic environment judges the classic run as passing', async () => {
    // WHEN
    const out = bufferOutput();
    await runCli(['runs', '--since', '1h', '--env', 'classic', '--json'], { out, env: {}, rootDir: root });
    // THEN
    const doc = JSON.parse(out.text()) as RunsJson;
    expect(doc.runs.find((r) => r.testid === classic.testid)?.verdict).toEqual({ status: 'pass', exitCode: 0 });
  });
});
