/**
 * The machine-readable outputs against a real Prometheus holding synthetic runs with known truth: `--json` of
 * `verdict` and `runs` (the documented shape, stdout holding nothing else) and `--junit` of `verdict` and `run`
 * (parsed back, each testcase and failure checked).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli, type CliContext } from '../../cli/index';
import { bufferOutput } from '../../cli/output';
import { monitoringValues } from '../../constructs/src/monitoring/monitoring-stack';
import { parsePlatformConfig } from '../../constructs/src/config/platform-config';
import { parseJunit } from '../support/junit';
import { pushK6Run, type K6RunTruth } from '../support/k6-run';
import { freePort, startPrometheus, type PrometheusHandle } from '../support/prometheus';
import { RUN, scriptedCluster, succeeded } from './scripted-cluster';

const repoRoot = path.resolve(__dirname, '..', '..');
let prom: PrometheusHandle;
let root: string;
let failing: K6RunTruth;
let clean: K6RunTruth;
let ran: K6RunTruth;
const now = Date.now();

/** A name tag with the characters XML must escape. */
const ODD_NAME = 'b&<"c">';

beforeAll(async () => {
  prom = await startPrometheus({ spec: monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec });
  // GIVEN a run of "web" with 10 % failures on one of two URLs (5 % overall) and ~100 ms latency, a clean run of it,
  // and the run of "sample" that `loadtest run` follows below
  const urls = [{ url: 'http://target.local/a' }, { url: 'http://target.local/b', name: ODD_NAME, failureFraction: 0.1 }];
  failing = await pushK6Run(prom.writeUrl, {
    testid: 'web-20261125-110000',
    test: 'web',
    runners: 2,
    durationSeconds: 30,
    endTime: now - 60_000,
    urls,
  });
  clean = await pushK6Run(prom.writeUrl, { testid: 'web-20261125-100000', test: 'web', runners: 3, durationSeconds: 20, endTime: now - 200_000 });
  ran = await pushK6Run(prom.writeUrl, { testid: RUN, test: 'sample', runners: 2, durationSeconds: 20, endTime: now - 300_000 });
  root = mkdtempSync(path.join(tmpdir(), 'loadtest-report-'));
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
      '        "http_req_duration": ["p(95)<50"]',
      '    - name: sample',
      '      script: sample.js',
      '      parallelism: 2',
      '      thresholds: { http_reqs: ["count>0"] }',
      '',
    ].join('\n'),
  );
});
afterAll(() => {
  prom.stop();
  rmSync(root, { recursive: true, force: true });
});

async function cli(argv: string[], extra: Partial<CliContext> = {}) {
  const out = bufferOutput();
  const code = await runCli(argv, { out, env: {}, rootDir: root, now: () => new Date(now), ...extra });
  return { code, stdout: out.out.join(''), stderr: out.err.join('') };
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('verdict --json', () => {
  test('a failing run: the documented document, alone on stdout, exit 99', async () => {
    // WHEN
    const r = await cli(['verdict', '--testid', failing.testid, '--prometheus', prom.url, '--json']);
    // THEN stdout is one JSON document and nothing else
    expect(r.code).toBe(99);
    expect(r.stderr).toBe('');
    expect(r.stdout.endsWith('}\n')).toBe(true);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    const p95 = (doc.thresholds as { observed: number }[])[2]!.observed;
    // histogram_quantile is within the bucket error of schema 3 (9.05 %)
    expect(Math.abs(p95 / (failing.quantile(0.95) * 1000) - 1)).toBeLessThan(0.0905);
    const promql = (doc.thresholds as { promql: string }[]).map((t) => t.promql);
    expect(doc).toEqual({
      schemaVersion: 1,
      testid: failing.testid,
      test: 'web',
      status: 'fail',
      exitCode: 99,
      prometheus: prom.url,
      window: { start: iso(failing.start), end: iso(failing.end), durationSeconds: failing.durationSeconds, pushIntervalSeconds: 5 },
      thresholds: [
        {
          name: 'http_reqs: count>0',
          metric: 'http_reqs',
          key: 'http_reqs',
          expression: 'count>0',
          operator: '>',
          limit: 0,
          unit: null,
          observed: failing.totals.requests,
          observedText: String(failing.totals.requests),
          pass: true,
          note: null,
          abortOnFail: false,
          promql: promql[0],
        },
        {
          name: `http_req_failed{name:${ODD_NAME}}: rate<0.05`,
          metric: 'http_req_failed',
          key: `http_req_failed{name:${ODD_NAME}}`,
          expression: 'rate<0.05',
          operator: '<',
          limit: 0.05,
          unit: null,
          observed: 0.1,
          observedText: '0.1',
          pass: false,
          note: null,
          abortOnFail: false,
          promql: promql[1],
        },
        {
          name: 'http_req_duration: p(95)<50',
          metric: 'http_req_duration',
          key: 'http_req_duration',
          expression: 'p(95)<50',
          operator: '<',
          limit: 50,
          unit: 'ms',
          observed: p95,
          observedText: expect.stringMatching(/^\d+(\.\d+)? ms$/) as unknown,
          pass: false,
          note: null,
          abortOnFail: false,
          promql: promql[2],
        },
      ],
      message: null,
      notes: [],
      // 2 runners planned and reporting, nothing dropped; the harness writes no cAdvisor series
      validity: {
        reasons: [],
        unchecked: ['CPU throttling: no cAdvisor CFS series for the runner pods', 'memory: no cAdvisor working-set series for the runner pods'],
      },
    });
    expect(promql[1]).toContain(`testid="${failing.testid}"`);
  });

  test('no data (exit 3) and an unreachable Prometheus (exit 4) keep their exit codes and the same shape', async () => {
    // WHEN
    const none = await cli(['verdict', '--testid', 'web-1', '--prometheus', prom.url, '--json']);
    const closed = `http://127.0.0.1:${await freePort()}`;
    const down = await cli(['verdict', '--testid', 'web-1', '--prometheus', closed, '--json', '--test', 'web']);
    // THEN
    expect(none.code).toBe(3);
    expect(JSON.parse(none.stdout)).toEqual({
      schemaVersion: 1,
      testid: 'web-1',
      test: 'web',
      status: 'no-data',
      exitCode: 3,
      prometheus: prom.url,
      window: null,
      thresholds: [],
      message: `no data for testid "web-1" in Prometheus at ${prom.url}`,
      notes: ['run web-1 has no test label (written before runners were tagged): test web matched by the longest test name prefixing the run id'],
      validity: null,
    });
    // the test label lookup meets the closed port: still a document, and the message on stderr
    expect(down.code).toBe(4);
    expect(down.stderr).toMatch(/^error: Prometheus at http:\/\/127\.0\.0\.1:\d+ is unreachable: connect ECONNREFUSED/);
    expect(JSON.parse(down.stdout)).toEqual({
      schemaVersion: 1,
      testid: 'web-1',
      test: 'web',
      status: 'unreachable',
      exitCode: 4,
      prometheus: closed,
      window: null,
      thresholds: [],
      message: down.stderr.slice('error: '.length, -1),
      notes: [],
      validity: null,
    });
  });
});

describe('runs --json', () => {
  test('every run with its verdict, newest first, alone on stdout, exit 0', async () => {
    // GIVEN a run of a test this environment does not configure
    const other = await pushK6Run(prom.writeUrl, { testid: 'other-1', test: 'other', runners: 1, durationSeconds: 10, endTime: now - 400_000 });
    // WHEN
    const r = await cli(['runs', '--since', '1h', '--prometheus', prom.url, '--json']);
    // THEN
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const row = (t: K6RunTruth, test: string | null, runners: number, verdict: unknown, notJudged: string | null) => ({
      testid: t.testid,
      test,
      testSource: 'label',
      start: iso(t.firstSample),
      end: iso(t.end),
      durationSeconds: (t.end - t.firstSample) / 1000,
      runners,
      started: true,
      verdict,
      notJudged,
    });
    const doc = JSON.parse(r.stdout) as { runs: { testid: string }[] };
    expect(doc).toEqual({
      schemaVersion: 1,
      prometheus: prom.url,
      since: '1h',
      runs: [
        row(failing, 'web', 2, { status: 'fail', exitCode: 99 }, null),
        row(clean, 'web', 3, { status: 'fail', exitCode: 99 }, null),
        row(ran, 'sample', 2, { status: 'pass', exitCode: 0 }, null),
        row(other, 'other', 1, null, 'no-test'),
      ],
    });
    // AND --no-verdict says why nothing was judged
    const skipped = JSON.parse((await cli(['runs', '--since', '1h', '--prometheus', prom.url, '--json', '--no-verdict'])).stdout) as typeof doc;
    expect(skipped.runs[0]).toMatchObject({ testid: failing.testid, verdict: null, notJudged: 'skipped' });
  });

  test('no runs is an empty list, not a sentence', async () => {
    const r = await cli(['runs', '--since', '1h', '--prometheus', prom.url, '--json'], { now: () => new Date(now - 7_200_000) });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ schemaVersion: 1, prometheus: prom.url, since: '1h', runs: [] });
  });
});

describe('--junit', () => {
  test('verdict: one testsuite, one testcase per threshold, failures with the observed value and the limit', async () => {
    // GIVEN
    const file = path.join(root, 'reports', 'verdict.xml');
    // WHEN
    const r = await cli(['verdict', '--testid', failing.testid, '--prometheus', prom.url, '--junit', file]);
    // THEN the table is printed as without --junit, the exit code is the verdict's
    expect(r.code).toBe(99);
    expect(r.stdout).toContain('verdict: FAIL (2 of 3 thresholds failed)');
    const junit = parseJunit(file);
    expect(junit.root).toEqual({ tag: 'testsuites', name: 'loadtest', tests: '3', failures: '2', errors: '0' });
    expect(junit.suites).toHaveLength(1);
    const [suite] = junit.suites;
    expect(suite).toMatchObject({
      name: failing.testid,
      tests: '3',
      failures: '2',
      errors: '0',
      skipped: '0',
      time: String(failing.durationSeconds),
      timestamp: iso(now).replace(/\.\d{3}Z$/, 'Z'),
      properties: { testid: failing.testid, test: 'web', status: 'fail', 'window.start': iso(failing.start), 'window.end': iso(failing.end) },
    });
    const p95 = /observed (\d+(?:\.\d+)?) ms/.exec(suite!.cases[2]!.failures[0]?.message ?? '')?.[1];
    expect(Math.abs(Number(p95) / (failing.quantile(0.95) * 1000) - 1)).toBeLessThan(0.0905);
    expect(suite!.cases).toEqual([
      { name: 'http_reqs: count>0', classname: 'web', time: '0', failures: [], errors: [] },
      {
        name: `http_req_failed{name:${ODD_NAME}}: rate<0.05`,
        classname: 'web',
        time: '0',
        failures: [{ message: 'observed 0.1, limit rate < 0.05', type: 'threshold', text: expect.stringContaining(`name="b&<\\"c\\">"`) as unknown }],
        errors: [],
      },
      {
        name: 'http_req_duration: p(95)<50',
        classname: 'web',
        time: '0',
        failures: [
          {
            message: `observed ${p95} ms, limit p(95) < 50 ms`,
            type: 'threshold',
            text: expect.stringContaining('histogram_quantile(0.95') as unknown,
          },
        ],
        errors: [],
      },
    ]);
    // AND written atomically: no temporary file is left beside it
    expect(readdirSync(path.dirname(file))).toEqual(['verdict.xml']);
  });

  test('verdict without data: one testcase with the reason as an error, replacing an older file', async () => {
    // GIVEN an older passing file
    const file = path.join(root, 'nodata.xml');
    writeFileSync(file, '<testsuites tests="1" failures="0"/>');
    // WHEN
    const r = await cli(['verdict', '--testid', 'web-2', '--prometheus', prom.url, '--junit', file]);
    // THEN
    expect(r.code).toBe(3);
    expect(parseJunit(file).suites.map((s) => [s.name, s.errors, s.cases])).toEqual([
      [
        'web-2',
        '1',
        [
          {
            name: 'verdict',
            classname: 'web',
            time: '0',
            failures: [],
            errors: [{ type: 'no-data', message: `no data for testid "web-2" in Prometheus at ${prom.url}` }],
          },
        ],
      ],
    ]);
  });

  test('run: the followed run judged against Prometheus, in the file', async () => {
    // GIVEN the scripted cluster completes the run of "sample" whose data is in Prometheus
    const s = scriptedCluster([succeeded]);
    const file = path.join(root, 'run.xml');
    // WHEN
    const r = await cli(['run', 'sample', '--run-id', RUN, '--prometheus', prom.url, '--junit', file], {
      connect: async () => s.cluster,
      sleep: s.advance,
      now: () => new Date(),
    });
    // THEN
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [suite] = parseJunit(file).suites;
    expect(suite).toMatchObject({ name: RUN, tests: '1', failures: '0', errors: '0', properties: { testid: RUN, test: 'sample', status: 'pass' } });
    expect(suite!.cases).toEqual([{ name: 'http_reqs: count>0', classname: 'sample', time: '0', failures: [], errors: [] }]);
  });

  test('an unwritable path is an error naming the file', async () => {
    // GIVEN a path below a regular file
    const blocker = path.join(root, 'blocker');
    writeFileSync(blocker, '');
    // WHEN
    const r = await cli(['verdict', '--testid', failing.testid, '--prometheus', prom.url, '--junit', path.join(blocker, 'x.xml')]);
    // THEN
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^error: loadtest: writing the JUnit file ${path.join(blocker, 'x.xml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} failed: `),
    );
    expect(existsSync(path.join(blocker, 'x.xml'))).toBe(false);
  });
});
