/**
 * `loadtest compare` against a real Prometheus holding runs of one test with known truth: the same latency sample
 * (one seed) scaled by a known factor, so the true change of every percentile is exactly that factor. A run 30 %
 * slower than its baseline regresses (exit 6); one 2 % slower is no significant change (exit 0); `last-pass` skips a
 * newer failing run; `--json` and `--junit` are read back; a run without an earlier pass has no baseline (exit 7).
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../cli/index';
import { bufferOutput } from '../../cli/output';
import type { RunComparison, StatDelta } from '../../cli/compare/types';
import { compareRuns } from '../../cli/compare/compare';
import { quantileRelativeError } from '../../cli/compare/noise';
import { monitoringValues } from '../../constructs/src/monitoring/monitoring-stack';
import { parsePlatformConfig } from '../../constructs/src/config/platform-config';
import { parseJunit } from '../support/junit';
import { pushK6Run, type K6RunOptions, type K6RunTruth } from '../support/k6-run';
import { freePort, singleValue, startPrometheus, type PrometheusHandle } from '../support/prometheus';
import { bucketErrorBound } from '../support/remote-write';

const repoRoot = path.resolve(__dirname, '..', '..');
/** Worst error of one histogram_quantile estimate at schema 3: a whole bucket (9.05 %). */
const BOUND = bucketErrorBound(3);
let prom: PrometheusHandle;
let root: string;
const now = Date.now();
const runs: Record<string, K6RunTruth> = {};

const URLS = [
  { url: 'http://target.local/a', name: 'a' },
  { url: 'http://target.local/b', name: 'b', failureFraction: 0.02 },
];
/** Oldest first: three passing runs, one 2 % slower, one failing (errors), one 30 % slower than the 2 % one. */
const RUNS: readonly (Partial<K6RunOptions> & { testid: string; medianMs: number; endAgo: number })[] = [
  { testid: 'web-base-1', seed: 2, medianMs: 100, endAgo: 700 },
  { testid: 'web-base-2', seed: 3, medianMs: 100, endAgo: 600 },
  { testid: 'web-base-3', seed: 1, medianMs: 100, endAgo: 500 },
  { testid: 'web-same', seed: 1, medianMs: 102, endAgo: 400 },
  { testid: 'web-fail', seed: 1, medianMs: 100, endAgo: 300, urls: [URLS[0]!, { ...URLS[1]!, failureFraction: 0.5 }] },
  { testid: 'web-slow', seed: 1, medianMs: 102 * 1.3, endAgo: 200 },
];

beforeAll(async () => {
  prom = await startPrometheus({ spec: monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec });
  for (const r of RUNS) {
    runs[r.testid] = await pushK6Run(prom.writeUrl, {
      testid: r.testid,
      test: 'web',
      runners: 2,
      durationSeconds: 30,
      urls: r.urls ?? URLS,
      latency: { medianMs: r.medianMs },
      seed: r.seed ?? 1,
      endTime: now - r.endAgo * 1000,
    });
  }
  // two runs in classic trend-stats mode: the same sample, the second 30 % slower
  for (const [testid, medianMs, endAgo] of [
    ['cls-1', 100, 150],
    ['cls-2', 130, 100],
  ] as const) {
    runs[testid] = await pushK6Run(prom.writeUrl, {
      testid,
      test: 'cls',
      mode: 'classic',
      runners: 2,
      durationSeconds: 30,
      urls: URLS,
      latency: { medianMs },
      endTime: now - endAgo * 1000,
    });
  }
  root = mkdtempSync(path.join(tmpdir(), 'loadtest-compare-'));
  symlinkSync(path.join(repoRoot, 'scripts'), path.join(root, 'scripts'));
  writeFileSync(
    path.join(root, 'Pulumi.dev.yaml'),
    [
      'config:',
      '  k6platform:tests:',
      '    - name: web',
      '      script: sample.js',
      '      thresholds: { http_req_failed: ["rate<0.05"] }',
      '      regression:',
      '        http_req_duration: ["p(95) < +10%"]',
      '        http_req_failed: ["rate < +0.5pp"]',
      '        "http_reqs": ["rate > -20%"]',
      '',
    ].join('\n'),
  );
}, 120_000);
afterAll(() => {
  prom.stop();
  rmSync(root, { recursive: true, force: true });
});

async function cli(argv: string[]) {
  const out = bufferOutput();
  const code = await runCli(argv, { out, env: {}, rootDir: root, now: () => new Date(now) });
  return { code, stdout: out.out.join(''), stderr: out.err.join('') };
}

async function compareJson(argv: string[]): Promise<{ code: number; doc: RunComparison & Record<string, unknown> }> {
  const r = await cli(['compare', ...argv, '--prometheus', prom.url, '--json']);
  expect(r.stderr).toBe('');
  return { code: r.code, doc: JSON.parse(r.stdout) as RunComparison & Record<string, unknown> };
}

const stat = (c: RunComparison, scenario: string, name: string, s: string): StatDelta =>
  c.groups.find((g) => g.scenario === scenario && g.name === name)!.stats.find((x) => x.stat === s)!;
const p95ms = (id: string) => runs[id]!.quantile(0.95) * 1000;

describe('loadtest compare', () => {
  test('a run 30 % slower at p95 than its last passing baseline regresses: exit 6, the rule row field by field', async () => {
    // WHEN
    const { code, doc } = await compareJson(['web-slow']);
    // THEN the newer failing run is skipped and the 2 %-slower pass is the baseline
    expect(code).toBe(6);
    expect(doc.status).toBe('regressed');
    expect(doc.exitCode).toBe(6);
    expect(doc.baseline).toEqual({ testid: 'web-same', source: 'last-pass' });
    expect(doc.notes).toContain('baseline web-same: the newest earlier run of test web whose verdict passed, skipping the newer web-fail (fail)');
    expect(doc.runWindow).toEqual({ start: runs['web-slow']!.start, end: runs['web-slow']!.end });
    expect(doc.baselineWindow).toEqual({ start: runs['web-same']!.start, end: runs['web-same']!.end });
    const [latency, errors, rate] = doc.regressions;
    expect(Math.abs(latency!.run! / p95ms('web-slow') - 1)).toBeLessThan(BOUND);
    expect(Math.abs(latency!.baseline! / p95ms('web-same') - 1)).toBeLessThan(BOUND);
    expect(latency).toEqual({
      metric: 'http_req_duration',
      rule: 'p(95) < +10%',
      run: latency!.run,
      baseline: latency!.baseline,
      limit: expect.closeTo(latency!.baseline! * 1.1, 9) as unknown,
      pass: false,
      note: expect.stringMatching(
        /^beyond the limit by [\d.]+, more than the noise band ±[\d.]+ \((the spread of recent passing runs|the histogram bucket error)\)$/,
      ) as unknown,
    });
    // the true ratio is exactly 1.3 (same sample, scaled); the estimates stay within one bucket of it
    expect(latency!.run! / latency!.baseline!).toBeGreaterThan(1.3 / (1 + BOUND));
    // the error ratio is 1 % in both (2 % on one of two URLs): exact, unchanged, pass
    expect(errors).toEqual({ metric: 'http_req_failed', rule: 'rate < +0.5pp', run: 0.01, baseline: 0.01, limit: 0.015, pass: true });
    const requests = runs['web-slow']!.totals.requests;
    expect(rate).toMatchObject({ metric: 'http_reqs', rule: 'rate > -20%', pass: true });
    expect(rate!.run).toBeCloseTo(requests / runs['web-slow']!.durationSeconds, 10);
  });

  test('the whole-run and per-request stats: values from the truth, deltas, noise band and significance', async () => {
    // WHEN
    const { doc } = await compareJson(['web-slow']);
    // THEN the groups are the whole run, the scenario, then its two requests
    expect(doc.groups.map((g) => [g.scenario, g.name])).toEqual([
      ['', ''],
      ['default', ''],
      ['default', 'a'],
      ['default', 'b'],
    ]);
    const p95 = stat(doc, '', '', 'p95');
    expect(p95.absolute).toBeCloseTo(p95.run! - p95.baseline!, 10);
    expect(p95.relative).toBeCloseTo(p95.run! / p95.baseline! - 1, 10);
    expect(p95.significance).toBe('worse');
    expect(p95.noise).toBeGreaterThanOrEqual(p95.baseline! * quantileRelativeError());
    const errors = stat(doc, 'default', 'b', 'error_ratio');
    expect(errors).toMatchObject({ run: 0.02, baseline: 0.02, absolute: 0, relative: 0, significance: 'no-significant-change' });
    const truth = runs['web-slow']!;
    expect(stat(doc, '', '', 'data_sent').run).toBe(truth.totals.dataSent);
    expect(stat(doc, '', '', 'data_received').run).toBe(truth.totals.dataReceived);
    expect(stat(doc, 'default', '', 'checks_ratio').run).toBeCloseTo(truth.totals.checksRate, 10);
    expect(stat(doc, '', '', 'iteration_rate').run).toBeCloseTo(truth.totals.iterations / truth.durationSeconds, 10);
    expect(stat(doc, 'default', 'a', 'request_rate').run).toBeCloseTo(truth.count({ name: 'a' }) / truth.durationSeconds, 10);
    expect(Math.abs(stat(doc, 'default', 'a', 'p99').run! / (truth.quantile(0.99, { name: 'a' }) * 1000) - 1)).toBeLessThan(BOUND);
    // the p95 comes from the summed histogram (cli/prometheus/histogram.ts): what histogram_quantile answers on
    // Prometheus 3 (logarithmic interpolation), within a bucket of it on 2.42 (linear interpolation)
    const server = singleValue(
      await prom.query(
        `histogram_quantile(0.95, sum(increase(k6_http_req_duration_seconds{testid="web-slow"}[${truth.durationSeconds}s]))) * 1000`,
        truth.end,
      ),
    );
    expect(doc.regressions[0]!.run).toBe(p95.run);
    const tolerance = (process.env.PROMETHEUS_BIN ?? '').includes('prometheus-3') ? 1e-9 : BOUND;
    expect(Math.abs(p95.run! / server - 1)).toBeLessThan(tolerance);
  });

  test('a run 2 % slower than its baseline is no significant change: exit 0, the p95 within the bucket error', async () => {
    // WHEN
    const r = await cli(['compare', 'web-same', '--prometheus', prom.url]);
    const { code, doc } = await compareJson(['web-same']);
    // THEN
    expect(code).toBe(0);
    expect(r.code).toBe(0);
    expect(doc.status).toBe('no-regression');
    expect(doc.baseline).toEqual({ testid: 'web-base-3', source: 'last-pass' });
    expect(doc.regressions.every((x) => x.pass)).toBe(true);
    const p95 = stat(doc, '', '', 'p95');
    expect(p95.significance).toBe('no-significant-change');
    expect(Math.abs(p95.absolute!)).toBeLessThanOrEqual(p95.noise);
    expect(r.stdout).toMatch(/^\(run\) +p95 +[\d.]+ ms +[\d.]+ ms +[-+][\d.]+ ms +[-+][\d.]+% +±[\d.]+ ms +no significant change$/m);
    expect(r.stdout).toContain('compare: NO REGRESSION (3 regression rules)');
  });

  test('--junit: one testcase per rule, a failure for the regressed one; worse stats listed without failing', async () => {
    // GIVEN
    const file = path.join(root, 'out', 'compare.xml');
    // WHEN
    const r = await cli(['compare', 'web-slow', '--prometheus', prom.url, '--junit', file]);
    // THEN
    expect(r.code).toBe(6);
    const junit = parseJunit(file);
    const [suite] = junit.suites;
    expect(junit.root).toMatchObject({ tag: 'testsuites', failures: '1', errors: '0' });
    expect(suite!.properties).toEqual({ testid: 'web-slow', test: 'web', status: 'regressed', baseline: 'web-same', 'baseline.source': 'last-pass' });
    const rules = suite!.cases.slice(0, 3);
    expect(rules.map((c) => c.name)).toEqual(['http_req_duration: p(95) < +10%', 'http_req_failed: rate < +0.5pp', 'http_reqs: rate > -20%']);
    expect(rules[0]!.failures).toEqual([
      { type: 'regression', message: expect.stringMatching(/^run [\d.]+, baseline [\d.]+, limit [\d.]+ \(beyond the limit/) as unknown, text: '' },
    ]);
    expect(rules[1]!.failures).toEqual([]);
    const worse = suite!.cases.slice(3);
    expect(worse.map((c) => c.name)).toContain('worse: (run) p95');
    expect(worse.every((c) => c.failures.length === 0 && c.classname === 'web')).toBe(true);
    expect(Number(suite!.tests)).toBe(suite!.cases.length);
  });

  test('the oldest run has no earlier pass: exit 7 no-baseline; an explicit baseline without data too', async () => {
    // WHEN
    const oldest = await compareJson(['web-base-1']);
    const missing = await compareJson(['web-slow', '--baseline', 'web-nope']);
    const text = await cli(['compare', 'web-base-1', '--prometheus', prom.url]);
    // THEN
    expect(oldest.code).toBe(7);
    expect(oldest.doc).toMatchObject({ status: 'no-baseline', exitCode: 7, testid: 'web-base-1', test: 'web', groups: [], regressions: [] });
    expect(oldest.doc.notes).toEqual(['no earlier passing run of test web in the last 24h (0 judged)']);
    expect(missing.code).toBe(7);
    expect(missing.doc.notes).toEqual([`the baseline web-nope has no data in Prometheus at ${prom.url}`]);
    expect(text.code).toBe(7);
    expect(text.stdout).toContain('compare: NO-BASELINE');
  });

  test('an explicit baseline, no data (exit 3) and an unreachable Prometheus (exit 4)', async () => {
    // WHEN
    const explicit = await compareJson(['web-slow', '--baseline', 'web-base-3', '--spread-runs', '0']);
    const none = await compareJson(['web-zzz']);
    const closed = `http://127.0.0.1:${await freePort()}`;
    const down = await cli(['compare', 'web-slow', '--prometheus', closed, '--json']);
    // THEN
    expect(explicit.code).toBe(6);
    expect(explicit.doc.baseline).toEqual({ testid: 'web-base-3', source: 'explicit' });
    expect(stat(explicit.doc, '', '', 'p95').noiseSource).toBe('bucket-error');
    expect(stat(explicit.doc, '', '', 'p95').noise).toBeCloseTo(stat(explicit.doc, '', '', 'p95').baseline! * quantileRelativeError(), 10);
    expect(stat(explicit.doc, '', '', 'error_ratio').noiseSource).toBe('none');
    expect(none.code).toBe(3);
    expect(none.doc).toMatchObject({ status: 'no-data', exitCode: 3, notes: [`no data for testid "web-zzz" in Prometheus at ${prom.url}`] });
    expect(down.code).toBe(4);
    expect((JSON.parse(down.stdout) as RunComparison).status).toBe('unreachable');
  });

  test('classic trend stats: no bucket error, the percentile gauges scale exactly with the latency', async () => {
    // WHEN
    const c = await compareRuns(prom.url, {
      testid: 'cls-2',
      test: { name: 'cls', regression: { http_req_duration: ['p(95) < +25%', 'avg < +35%'] } },
      tests: [{ name: 'cls' }],
      baseline: 'cls-1',
      trends: 'classic',
      spreadRuns: 0,
      now,
    });
    // THEN the highest per-series p95 gauge of the same sample scaled by 1.3 is exactly 1.3 times higher
    expect(c.status).toBe('regressed');
    const p95 = stat(c, '', '', 'p95');
    expect(p95.relative).toBeCloseTo(0.3, 9);
    expect(p95).toMatchObject({ noise: 0, noiseSource: 'none', significance: 'worse' });
    const [p95Rule, avgRule] = c.regressions;
    expect(p95Rule).toMatchObject({
      metric: 'http_req_duration',
      rule: 'p(95) < +25%',
      pass: false,
      note: expect.stringMatching(/^beyond the limit by/) as unknown,
    });
    expect(p95Rule!.run! / p95Rule!.baseline!).toBeCloseTo(1.3, 9);
    // the average from the classic sum and count gauges is exact
    const truthAvg = (id: string) => (runs[id]!.values().reduce((a, b) => a + b, 0) / runs[id]!.values().length) * 1000;
    expect(avgRule!.run).toBeCloseTo(truthAvg('cls-2'), 6);
    expect(avgRule!.baseline).toBeCloseTo(truthAvg('cls-1'), 6);
    expect(avgRule!.pass).toBe(true);
  });

  test('bad arguments are usage errors (exit 2) naming the option and the value', async () => {
    // WHEN
    const spread = await cli(['compare', 'web-slow', '--spread-runs', '50']);
    const baseline = await cli(['compare', 'web-slow', '--baseline', 'Last_Pass']);
    // THEN
    expect(spread.code).toBe(2);
    expect(spread.stderr).toContain("error: option '--spread-runs <n>' argument '50' is invalid. must be an integer from 0 to 20.");
    expect(baseline.code).toBe(2);
    expect(baseline.stderr).toContain("error: option '--baseline <testid|last-pass>' argument 'Last_Pass' is invalid.");
  });
});
