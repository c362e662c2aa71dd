/**
 * `loadtest report <testid> --out DIR` and `loadtest run --report DIR` against a real Prometheus holding synthetic
 * runs with known truth (test/support/k6-run.ts): summary.json field by field against the truth, junit.xml parsed
 * back, and the usage errors raised before anything is written.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli, type CliContext } from '../../cli/index';
import { bufferOutput } from '../../cli/output';
import type { SummaryDocument } from '../../cli/report/report';
import { parsePlatformConfig } from '../../constructs/src/config/platform-config';
import { monitoringValues } from '../../constructs/src/monitoring/monitoring-stack';
import { parseJunit } from '../support/junit';
import { BYTES_RECEIVED_PER_REQUEST, BYTES_SENT_PER_REQUEST, pushK6Run, type K6RunTruth } from '../support/k6-run';
import { singleValue, startPrometheus, type PrometheusHandle } from '../support/prometheus';
import { RUN, scriptedCluster, succeeded } from './scripted-cluster';

const repoRoot = path.resolve(__dirname, '..', '..');
/** Relative error of a quantile of schema-3 native histograms (2^(1/8) - 1). */
const BUCKET_ERROR = 0.0905;
/** A name tag with the characters HTML and XML must escape. */
const ODD_NAME = 'b&<"c">';
let prom: PrometheusHandle;
let root: string;
let web: K6RunTruth;
let sample: K6RunTruth;
const now = Date.now();

beforeAll(async () => {
  prom = await startPrometheus({ spec: monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec });
  // GIVEN a 3-runner run of "web" with 10 % failures on one of two URLs and two checks, and a run of "sample"
  web = await pushK6Run(prom.writeUrl, {
    testid: 'web-20261125-110000',
    test: 'web',
    runners: 3,
    durationSeconds: 60,
    endTime: now - 60_000,
    vus: 7,
    urls: [{ url: 'http://target.local/a' }, { url: 'http://target.local/b', name: ODD_NAME, failureFraction: 0.1 }],
    checks: [{ name: 'status is 200' }, { name: 'body ok', failFraction: 0.25 }],
  });
  sample = await pushK6Run(prom.writeUrl, { testid: RUN, test: 'sample', runners: 2, durationSeconds: 20, endTime: now - 300_000 });
  root = mkdtempSync(path.join(tmpdir(), 'loadtest-report-files-'));
  symlinkSync(path.join(repoRoot, 'scripts'), path.join(root, 'scripts'));
  writeFileSync(
    path.join(root, 'Pulumi.dev.yaml'),
    [
      'config:',
      '  k6platform:tests:',
      '    - name: web',
      '      script: sample.js',
      '      thresholds:',
      '        "http_reqs": ["count>0"]',
      `        'http_req_failed{name:${ODD_NAME}}': ["rate<0.05"]`,
      '        "http_req_duration": ["p(95)<5000"]',
      '    - name: sample',
      '      script: sample.js',
      '      parallelism: 2',
      '      thresholds: { http_reqs: ["count>0"] }',
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  await prom.stop();
  rmSync(root, { recursive: true, force: true });
});

async function cli(argv: string[], extra: Partial<CliContext> = {}) {
  const out = bufferOutput();
  const code = await runCli(argv, { out, env: {}, rootDir: root, now: () => new Date(now), ...extra });
  return { code, stdout: out.out.join(''), stderr: out.err.join('') };
}

const readSummary = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8')) as SummaryDocument;

describe('report --out', () => {
  let dir: string;
  let doc: SummaryDocument;
  let code: number;
  let stdout: string;
  let stderr: string;
  beforeAll(async () => {
    dir = path.join(root, 'web-report');
    const r = await cli(['report', web.testid, '--out', dir, '--prometheus', prom.url]);
    ({ code, stdout, stderr } = r);
    doc = readSummary(dir);
  });

  test('writes the three files, prints the verdict and where they are, exits with the verdict', () => {
    expect(stderr).toBe('');
    expect(code).toBe(99);
    expect(readdirSync(dir).sort()).toEqual(['index.html', 'junit.xml', 'summary.json']);
    expect(stdout).toContain('verdict: FAIL (1 of 3 thresholds failed)');
    expect(stdout).toContain(`report: ${path.join(dir, 'summary.json')}, ${path.join(dir, 'junit.xml')}, ${path.join(dir, 'index.html')}`);
  });

  test('summary.json: the run, its window and the verdict', () => {
    expect(doc).toMatchObject({
      schemaVersion: 1,
      testid: web.testid,
      test: 'web',
      prometheus: prom.url,
      generatedAt: new Date(now).toISOString(),
      verdict: { status: 'fail', exitCode: 99 },
      window: { start: new Date(web.start).toISOString(), end: new Date(web.end).toISOString(), durationSeconds: 60, pushIntervalSeconds: 5 },
      options: { summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'], trends: 'native' },
      state: { testRunDurationMs: 60_000 },
    });
  });

  test('counters: count exact, rate per second of the run', () => {
    const t = web.totals;
    expect(doc.metrics.http_reqs).toEqual({
      type: 'counter',
      contains: 'default',
      values: { count: t.requests, rate: t.requests / 60 },
      thresholds: { 'count>0': { ok: true } },
    });
    expect(doc.metrics.iterations).toEqual({ type: 'counter', contains: 'default', values: { count: t.iterations, rate: t.iterations / 60 } });
    expect(doc.metrics.data_sent).toEqual({
      type: 'counter',
      contains: 'data',
      values: { count: t.requests * BYTES_SENT_PER_REQUEST, rate: (t.requests * BYTES_SENT_PER_REQUEST) / 60 },
    });
    expect(doc.metrics.data_received!.values.count).toBe(t.requests * BYTES_RECEIVED_PER_REQUEST);
    expect(t.dataSent).toBe(t.requests * BYTES_SENT_PER_REQUEST);
  });

  test('rates: http_req_failed and checks with passes and fails; the thresholded submetric', () => {
    const t = web.totals;
    expect(doc.metrics.http_req_failed).toEqual({
      type: 'rate',
      contains: 'default',
      values: { rate: t.failedRequests / t.requests, passes: t.failedRequests, fails: t.requests - t.failedRequests },
    });
    expect(doc.metrics.checks).toEqual({
      type: 'rate',
      contains: 'default',
      values: { rate: t.checksPassed / t.checksTotal, passes: t.checksPassed, fails: t.checksTotal - t.checksPassed },
      approximate: { rate: 'iteration-weighted', passes: 'iteration-weighted', fails: 'iteration-weighted' },
    });
    const odd = web.count({ name: ODD_NAME });
    const oddFailed = web.count({ name: ODD_NAME, failed: true });
    expect(oddFailed).toBeGreaterThan(0);
    expect(doc.metrics[`http_req_failed{name:${ODD_NAME}}`]).toEqual({
      type: 'rate',
      contains: 'default',
      values: { rate: oddFailed / odd, passes: oddFailed, fails: odd - oddFailed },
      thresholds: { 'rate<0.05': { ok: false } },
    });
    expect(doc.checks).toEqual([
      {
        name: 'body ok',
        path: '::body ok',
        passes: web.perCheck['body ok']!.passed,
        fails: web.perCheck['body ok']!.total - web.perCheck['body ok']!.passed,
      },
      {
        name: 'status is 200',
        path: '::status is 200',
        passes: web.perCheck['status is 200']!.passed,
        fails: web.perCheck['status is 200']!.total - web.perCheck['status is 200']!.passed,
      },
    ]);
  });

  test('gauges: the sum over runners at the end, min and max over the run', () => {
    expect(doc.metrics.vus).toEqual({
      type: 'gauge',
      contains: 'default',
      values: { value: 21, min: 0, max: 21 },
      approximate: { min: 'sampled', max: 'sampled' },
    });
    expect(doc.metrics.vus_max).toEqual({
      type: 'gauge',
      contains: 'default',
      values: { value: 21, min: 21, max: 21 },
      approximate: { min: 'sampled', max: 'sampled' },
    });
  });

  test('trends: ms, avg exact, quantiles within the bucket error, min/max bucket bounds', () => {
    const m = doc.metrics.http_req_duration!;
    expect(m).toMatchObject({
      type: 'trend',
      contains: 'time',
      thresholds: { 'p(95)<5000': { ok: true } },
      approximate: { min: 'bucket-bound', max: 'bucket-bound', med: 'bucket-error', 'p(90)': 'bucket-error', 'p(95)': 'bucket-error' },
    });
    expect(Object.keys(m.values)).toEqual(['avg', 'min', 'med', 'max', 'p(90)', 'p(95)']);
    const values = web.values('http_req_duration').sort((a, b) => a - b);
    const avg = (values.reduce((a, b) => a + b, 0) / values.length) * 1000;
    expect(m.values.avg).toBeCloseTo(avg, 6);
    for (const [stat, q] of [
      ['med', 0.5],
      ['p(90)', 0.9],
      ['p(95)', 0.95],
    ] as const) {
      expect(Math.abs(m.values[stat]! / (web.quantile(q) * 1000) - 1)).toBeLessThan(BUCKET_ERROR);
    }
    const [min, max] = [values[0]! * 1000, values[values.length - 1]! * 1000];
    expect(m.values.min!).toBeLessThanOrEqual(min * (1 + 1e-9));
    expect(m.values.min!).toBeGreaterThan(min / (1 + BUCKET_ERROR));
    expect(m.values.max!).toBeGreaterThanOrEqual(max * (1 - 1e-9));
    expect(m.values.max!).toBeLessThan(max * (1 + BUCKET_ERROR));
    // every time trend the runners wrote is there
    for (const trend of ['http_req_waiting', 'http_req_blocked', 'http_req_receiving', 'iteration_duration'])
      expect(doc.metrics[trend]?.contains).toBe('time');
  });

  test("trend quantiles are Prometheus 3.5's histogram_quantile of the run's summed histogram", async () => {
    // GIVEN Prometheus' own estimate over the same histogram (every series wrote in the run's last 5 minutes)
    const version = ((await (await fetch(`${prom.url}/api/v1/status/buildinfo`)).json()) as { data: { version: string } }).data.version;
    const values = doc.metrics.http_req_duration!.values;
    for (const [stat, q] of [
      ['min', 0],
      ['med', 0.5],
      ['p(95)', 0.95],
      ['max', 1],
    ] as const) {
      const promql = `histogram_quantile(${q}, sum(k6_http_req_duration_seconds{testid="${web.testid}"})) * 1000`;
      const theirs = singleValue(await prom.query(promql, web.end));
      // THEN equal on Prometheus 3 (log-scale interpolation in the bucket); 2.42 interpolates linearly: the same bucket
      const tolerance = version.startsWith('3.') ? 1e-12 : BUCKET_ERROR;
      expect({ stat, off: Math.abs(values[stat]! / theirs - 1) <= tolerance }).toEqual({ stat, off: true });
    }
  });

  test('junit.xml is the verdict JUnit: one testcase per threshold, the failure with its limit', () => {
    const junit = parseJunit(path.join(dir, 'junit.xml'));
    expect(junit.root).toEqual({ tag: 'testsuites', name: 'loadtest', tests: '3', failures: '1', errors: '0' });
    const [suite] = junit.suites;
    expect(suite).toMatchObject({
      name: web.testid,
      tests: '3',
      failures: '1',
      errors: '0',
      properties: { testid: web.testid, test: 'web', status: 'fail' },
    });
    expect(suite!.cases.map((c) => [c.name, c.failures.map((f) => f.type)])).toEqual([
      ['http_reqs: count>0', []],
      [`http_req_failed{name:${ODD_NAME}}: rate<0.05`, ['threshold']],
      ['http_req_duration: p(95)<5000', []],
    ]);
    expect(suite!.cases[1]!.failures[0]!.message).toMatch(/^observed 0\.1\d*, limit rate < 0\.05$/);
  });
});

describe('report: other runs and bad input', () => {
  test("--baseline: index.html puts the run next to its baseline as compare does; the exit code stays the verdict's", async () => {
    // GIVEN an earlier run of the same test, with the same shape
    const base = await pushK6Run(prom.writeUrl, {
      testid: 'web-20261125-100000',
      test: 'web',
      runners: 3,
      durationSeconds: 60,
      endTime: now - 900_000,
      urls: [{ url: 'http://target.local/a' }, { url: 'http://target.local/b', name: ODD_NAME, failureFraction: 0.1 }],
    });
    const dir = path.join(root, 'web-report-baseline');
    // WHEN
    const r = await cli(['report', web.testid, '--out', dir, '--prometheus', prom.url, '--baseline', base.testid]);
    // THEN the verdict's code (a threshold fails), and the page's comparison section names the baseline
    expect(r.code).toBe(99);
    const html = readFileSync(path.join(dir, 'index.html'), 'utf8');
    expect(html).toMatch(/<section id="comparison" data-status="(no-regression|regressed)">/);
    expect(html).toContain(`<p class="comparison-status">`);
    expect(html).toContain(`baseline ${base.testid} (explicit)`);
    // AND without --baseline there is no comparison section
    expect(readFileSync(path.join(root, 'web-report', 'index.html'), 'utf8')).not.toContain('id="comparison"');
  });

  test('a classic-mode run: avg, min and max exact, percentiles upper bounds', async () => {
    // GIVEN a run that wrote classic trend stats, in an environment whose runners do
    const classic = await pushK6Run(prom.writeUrl, {
      testid: 'web-20261125-090000',
      test: 'web',
      mode: 'classic',
      runners: 2,
      durationSeconds: 30,
      endTime: now - 30_000,
    });
    const env = path.join(root, 'Pulumi.classic.yaml');
    writeFileSync(
      env,
      `${readFileSync(path.join(root, 'Pulumi.dev.yaml'), 'utf8').replace('config:\n', 'config:\n  k6platform:runner: { nativeHistograms: false }\n')}`,
    );
    const dir = path.join(root, 'classic-report');
    // WHEN
    const r = await cli(['report', classic.testid, '--out', dir, '--prometheus', prom.url, '--env', 'classic']);
    // THEN
    expect(r.stderr).toBe('');
    const m = readSummary(dir).metrics.http_req_duration!;
    const values = classic.values('http_req_duration').sort((a, b) => a - b);
    expect(m.approximate).toEqual({ med: 'upper-bound', 'p(90)': 'upper-bound', 'p(95)': 'upper-bound' });
    expect(m.values.avg).toBeCloseTo((values.reduce((a, b) => a + b, 0) / values.length) * 1000, 6);
    expect(m.values.min).toBeCloseTo(values[0]! * 1000, 6);
    expect(m.values.max).toBeCloseTo(values[values.length - 1]! * 1000, 6);
    expect(m.values['p(95)']!).toBeGreaterThanOrEqual(classic.quantile(0.95) * 1000 - 1e-6);
    expect(readSummary(dir).metrics.http_reqs!.values.count).toBe(classic.totals.requests);
  });

  test('series that ended long before the run did: counted (on Prometheus 2.42 trends see only the last 5 minutes)', async () => {
    // GIVEN one testid written in two parts 9 minutes apart, the first with URLs the second never requests: at the
    // run's end the first part's series are older than the lookback delta (5 min)
    const testid = 'web-20261125-080000';
    const early = await pushK6Run(prom.writeUrl, {
      testid,
      test: 'web',
      runners: 2,
      durationSeconds: 30,
      endTime: now - 600_000,
      urls: [{ url: 'http://target.local/early' }],
    });
    const late = await pushK6Run(prom.writeUrl, { testid, test: 'web', runners: 2, durationSeconds: 30, endTime: now - 60_000, pausedSeconds: 0 });
    const dir = path.join(root, 'two-parts');
    // WHEN
    const r = await cli(['report', testid, '--out', dir, '--prometheus', prom.url]);
    // THEN counters hold both parts; the trend's average too, but on 2.42 only the late part
    expect(r.stderr).toBe('');
    const doc = readSummary(dir);
    expect(doc.metrics.http_reqs!.values.count).toBe(early.totals.requests + late.totals.requests);
    const version = ((await (await fetch(`${prom.url}/api/v1/status/buildinfo`)).json()) as { data: { version: string } }).data.version;
    const mean = (xs: number[]) => (xs.reduce((a, b) => a + b, 0) / xs.length) * 1000;
    const both = mean([...early.values('http_req_duration'), ...late.values('http_req_duration')]);
    expect(doc.metrics.http_req_duration!.values.avg).toBeCloseTo(version.startsWith('3.') ? both : mean(late.values('http_req_duration')), 6);
  });

  test('a testid without data: exit 3, the files still written, junit.xml with the error', async () => {
    const dir = path.join(root, 'none');
    const r = await cli(['report', 'web-19990101-000000', '--out', dir, '--prometheus', prom.url, '--test', 'web']);
    expect(r.code).toBe(3);
    expect(readSummary(dir)).toMatchObject({ verdict: { status: 'no-data', exitCode: 3 }, window: null, metrics: {}, checks: [] });
    expect(parseJunit(path.join(dir, 'junit.xml')).suites[0]!.cases[0]!.errors).toEqual([
      { type: 'no-data', message: `no data for testid "web-19990101-000000" in Prometheus at ${prom.url}` },
    ]);
  });

  test('--out naming a file is a usage error, raised before anything is written', async () => {
    const file = path.join(root, 'a-file');
    writeFileSync(file, 'keep');
    const r = await cli(['report', web.testid, '--out', file, '--prometheus', prom.url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--out ${file}: exists and is not a directory; give a directory (it is created when missing)`);
    expect(readFileSync(file, 'utf8')).toBe('keep');
  });

  test('run --report: the followed run judged, its report written', async () => {
    const s = scriptedCluster([succeeded]);
    const dir = path.join(root, 'run-report');
    const r = await cli(['run', 'sample', '--run-id', RUN, '--prometheus', prom.url, '--report', dir], {
      connect: async () => s.cluster,
      sleep: s.advance,
      now: () => new Date(),
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = readSummary(dir);
    expect(doc).toMatchObject({ testid: RUN, test: 'sample', verdict: { status: 'pass', exitCode: 0 } });
    expect(doc.metrics.http_reqs!.values.count).toBe(sample.totals.requests);
    expect(parseJunit(path.join(dir, 'junit.xml')).suites[0]!.cases.map((c) => c.name)).toEqual(['http_reqs: count>0']);
    expect(existsSync(path.join(dir, 'index.html'))).toBe(true);
  });
});
