/** `loadtest runs` and the live progress figures against a real Prometheus holding synthetic runs with known truth. */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../cli/index';
import { defaultJudge } from '../../cli/verdict/judge';
import { bufferOutput } from '../../cli/output';
import { runMetrics } from '../../cli/run/progress';
import { prometheusClient, PrometheusUnreachableError } from '../../cli/prometheus/client';
import { pickRunTest, RunTestConflictError } from '@k6-platform/constructs/internal';
import { listRuns, testOfRun } from '../../cli/prometheus/runs';
import { monitoringValues } from '../../constructs/src/monitoring/monitoring-stack';
import { parsePlatformConfig, testSchema } from '../../constructs/src/config/platform-config';
import { pushK6Run, type K6RunTruth } from '../support/k6-run';
import { freePort, startPrometheus, type PrometheusHandle } from '../support/prometheus';

let prom: PrometheusHandle;
let older: K6RunTruth;
let newer: K6RunTruth;
let operator: K6RunTruth;
let untagged: K6RunTruth;
let noHttp: K6RunTruth;
const now = Date.now();
/** Test names that prefix each other, as a team's config may have them. */
const TESTS = [{ name: 'sample' }, { name: 'sample-operator' }];

beforeAll(async () => {
  prom = await startPrometheus({ spec: monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec });
  // GIVEN two runs: 3 runners for 60 s ending 2 min ago, and 2 runners for 30 s ending now, 10 % failures on one of two URLs;
  // each with the paused phase k6 writes k6_vus in before the start (10 s by default)
  older = await pushK6Run(prom.writeUrl, { testid: 'sample-20261125-110000', runners: 3, durationSeconds: 60, endTime: now - 120_000 });
  newer = await pushK6Run(prom.writeUrl, {
    testid: 'adhoc-1',
    test: 'adhoc',
    runners: 2,
    durationSeconds: 30,
    endTime: now,
    urls: [{ url: 'http://target.local/a' }, { url: 'http://target.local/b', failureFraction: 0.1 }],
  });
  // a run of `sample-operator` (its id also starts with `sample-`), tagged with its test; one without the tag; one
  // without HTTP and with a long paused phase
  operator = await pushK6Run(prom.writeUrl, { testid: 'sample-operator-20261125-120830', runners: 2, durationSeconds: 30, endTime: now - 300_000 });
  untagged = await pushK6Run(prom.writeUrl, {
    testid: 'sample-operator-20261125-090000',
    test: null,
    runners: 1,
    durationSeconds: 20,
    endTime: now - 400_000,
  });
  noHttp = await pushK6Run(prom.writeUrl, {
    testid: 'batch-1',
    test: 'batch',
    runners: 2,
    urls: [],
    durationSeconds: 30,
    pausedSeconds: 60,
    endTime: now - 500_000,
  });
});
afterAll(() => prom.stop());

describe('listRuns', () => {
  test('finds every run with its first sample of work, last sample, runners and test, newest first', async () => {
    // WHEN
    const runs = await listRuns(prometheusClient(prom.url), '1h', TESTS, now / 1000);
    // THEN the start is the first sample of work, not the first k6_vus sample of the paused phase
    const summary = (t: K6RunTruth, runners: number, test: string | undefined, testSource: string) => ({
      testid: t.testid,
      ...(test !== undefined ? { test } : {}),
      testSource,
      start: t.firstSample / 1000,
      end: t.end / 1000,
      runners,
      started: true,
    });
    expect(runs).toEqual([
      summary(newer, 2, 'adhoc', 'label'),
      summary(older, 3, 'sample', 'label'),
      summary(operator, 2, 'sample-operator', 'label'),
      summary(untagged, 1, 'sample-operator', 'prefix'),
      summary(noHttp, 2, 'batch', 'label'),
    ]);
    expect(older.firstVusSample).toBeLessThan(older.firstSample);
  });

  test('a window that ends before a run leaves it out, and a run that is still paused is listed as not started', async () => {
    // WHEN evaluated just before the newer run began, in its paused phase
    const runs = await listRuns(prometheusClient(prom.url), '1h', [], newer.firstSample / 1000 - 1);
    // THEN
    expect(runs.find((r) => r.testid === 'adhoc-1')).toMatchObject({ started: false, start: newer.firstVusSample / 1000 });
    expect(runs.filter((r) => r.started).map((r) => r.testid)).toEqual([
      'sample-20261125-110000',
      'sample-operator-20261125-120830',
      'sample-operator-20261125-090000',
      'batch-1',
    ]);
  });
});

describe('the run → test mapping (one function for verdict, runs and the judge)', () => {
  test('the test label decides, even when a shorter test name prefixes the run id', async () => {
    expect(await testOfRun(prometheusClient(prom.url), operator.testid, TESTS, { time: now / 1000 })).toEqual({
      test: 'sample-operator',
      source: 'label',
    });
  });

  test('a run without the label falls back to the LONGEST test name prefixing its id, and says so', async () => {
    expect(await testOfRun(prometheusClient(prom.url), untagged.testid, TESTS, { time: now / 1000 })).toEqual({
      test: 'sample-operator',
      source: 'prefix',
      note: 'run sample-operator-20261125-090000 has no test label (written before runners were tagged): test sample-operator matched by the longest test name prefixing the run id',
    });
  });

  test('a run carrying two test values is refused', async () => {
    // GIVEN one more runner of the operator run written with another test label
    await pushK6Run(prom.writeUrl, { testid: 'mixed-1', test: 'sample', runners: 1, durationSeconds: 10, endTime: now - 600_000 });
    await pushK6Run(prom.writeUrl, {
      testid: 'mixed-1',
      test: 'sample-operator',
      runners: 1,
      durationSeconds: 10,
      endTime: now - 600_000 + 1,
      seed: 2,
    });
    // WHEN / THEN
    await expect(testOfRun(prometheusClient(prom.url), 'mixed-1', TESTS, { time: now / 1000 })).rejects.toThrow(
      new RunTestConflictError('mixed-1', ['sample', 'sample-operator']),
    );
    expect(() => pickRunTest('x', ['a', 'b', ''], TESTS)).toThrow(
      'run x carries more than one test label ("a", "b"): refusing to guess its thresholds; pass --test <name>',
    );
  });

  test('loadtest verdict judges sample-operator’s run with sample-operator’s thresholds', async () => {
    // GIVEN an environment with both tests: sample has a threshold the run passes, sample-operator one it fails
    const root = mkdtempSync(path.join(tmpdir(), 'loadtest-map-'));
    symlinkSync(path.resolve(__dirname, '..', '..', 'scripts'), path.join(root, 'scripts'));
    writeFileSync(
      path.join(root, 'Pulumi.dev.yaml'),
      [
        'config:',
        '  k6platform:tests:',
        '    - name: sample',
        '      script: sample.js',
        '      thresholds: { http_reqs: ["count>0"] }',
        '    - name: sample-operator',
        '      script: sample.js',
        '      thresholds: { http_reqs: ["count<1"] }',
        '',
      ].join('\n'),
    );
    try {
      const out = bufferOutput();
      // WHEN
      const code = await runCli(['verdict', '--testid', operator.testid, '--prometheus', prom.url], { out, env: {}, rootDir: root });
      // THEN the thresholds of sample-operator (today's first-prefix match picked sample's and passed)
      expect(out.text()).toMatch(/http_reqs count<1 +\d+ +FAIL/);
      expect(code).toBe(99);
      // and an untagged run says how its test was found
      const out2 = bufferOutput();
      await runCli(['verdict', '--testid', untagged.testid, '--prometheus', prom.url], { out: out2, env: {}, rootDir: root });
      expect(out2.text()).toContain('note: run sample-operator-20261125-090000 has no test label (written before runners were tagged)');
      expect(out2.text()).toMatch(/http_reqs count<1 +\d+ +FAIL/);
      // a run whose label names a test this environment does not configure is a usage error, saying which label
      const out4 = bufferOutput();
      expect(await runCli(['verdict', '--testid', newer.testid, '--prometheus', prom.url], { out: out4, env: {}, rootDir: root })).toBe(2);
      expect(out4.err.join('')).toBe(
        'error: run adhoc-1 carries the test label "adhoc"; pass --test <name> to judge it with another test\'s thresholds\n' +
          "error: unknown test 'adhoc' in environment 'dev' (known: sample, sample-operator)\n",
      );
      // and --test overrides the label, with a note
      const out3 = bufferOutput();
      expect(
        await runCli(['verdict', '--testid', operator.testid, '--test', 'sample', '--prometheus', prom.url], { out: out3, env: {}, rootDir: root }),
      ).toBe(0);
      expect(out3.text()).toContain(
        `note: run ${operator.testid} carries the test label "sample-operator": judged with the thresholds of --test sample`,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
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

describe('defaultJudge (the CLI side of cli/verdict/verdict.ts)', () => {
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
