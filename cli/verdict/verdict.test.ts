import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { monitoringValues } from '../../constructs/src/monitoring/monitoring-stack';
import { parsePlatformConfig } from '../../constructs/src/config/platform-config';
import { THRESHOLD_RULES } from '../../constructs/src/k6/thresholds';
import { pushK6Run, type K6RunTruth } from '../../test/support/k6-run';
import { freePort, startPrometheus, type PrometheusHandle } from '../../test/support/prometheus';
import { bucketErrorBound, pushSeries } from '../../test/support/remote-write';
import { runCli } from '../index';
import { bufferOutput } from '../output';
import { evaluateVerdict, formatVerdict, PrometheusQueryError, prometheusApi, VERDICT_EXIT_CODES, type Verdict } from './verdict';

const BOUND = bucketErrorBound(3);
/** Percentile thresholds sit this far beyond the bucket error on either side of the true value. */
const MARGIN = 0.03;

let prom: PrometheusHandle;
/** 4 runners; runner 3 is 10x slower, makes a fifth of the requests, fails more requests and half its extra check. */
let slow: K6RunTruth;
/** The same shape in classic trend-stats mode. */
let classic: K6RunTruth;

beforeAll(async () => {
  prom = await startPrometheus({ spec: monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec });
  slow = await pushK6Run(prom.writeUrl, {
    testid: 'verdict-slow',
    runners: 4,
    scenarios: ['browse', 'api'],
    urls: [{ url: 'http://t/a' }, { url: 'http://t/b', failureFraction: [0.01, 0.01, 0.01, 0.3] }, { url: 'http://t/c', method: 'POST' }],
    durationSeconds: 120,
    requestsPerSecond: [20, 20, 20, 4],
    latency: [{ medianMs: 100 }, { medianMs: 100 }, { medianMs: 120 }, { medianMs: 1000, sigma: 0.3 }],
    checks: [{ name: 'status is 200' }, { name: 'body ok', failFraction: [0.01, 0.01, 0.01, 0.5] }],
    droppedIterations: [0, 0, 2, 30],
  });
  classic = await pushK6Run(prom.writeUrl, {
    testid: 'verdict-classic',
    mode: 'classic',
    runners: 3,
    urls: [{ url: 'http://t/a' }, { url: 'http://t/b', failureFraction: 0.1 }],
    durationSeconds: 60,
    requestsPerSecond: [10, 10, 2],
    latency: [{ medianMs: 100 }, { medianMs: 100 }, { medianMs: 800 }],
  });
});
afterAll(() => prom.stop());

const judge = (thresholds: Record<string, string[]>, testid = 'verdict-slow') => evaluateVerdict(prometheusApi(prom.url), testid, thresholds);
const row = (v: Verdict, i = 0) => {
  const r = v.rows[i]!;
  return { threshold: r.threshold, pass: r.pass };
};

describe('run window', () => {
  test('starts one push interval before the first sample of work, not at the first k6_vus sample of the paused phase', async () => {
    // GIVEN k6_vus samples (0 active VUs) 10 s before the start, as k6 v1.7.1 internal/execution/scheduler.go
    // emitVUsAndVUsMax writes them from VU initialisation on
    expect(slow.firstVusSample).toBe(slow.start - 5_000);
    // WHEN
    const v = await judge({ http_reqs: ['count>0'] });
    // THEN
    expect(v.window).toEqual({ start: slow.start, end: slow.end, pushIntervalSeconds: 5 });
  });

  test('a long paused phase does not dilute http_reqs rate (count per second of the run)', async () => {
    // GIVEN a run paused for 2 minutes before 1 minute of 2 x 10 req/s
    const t = await pushK6Run(prom.writeUrl, { testid: 'verdict-paused', runners: 2, durationSeconds: 60, pausedSeconds: 120, seed: 3 });
    const perSecond = t.totals.requests / t.durationSeconds;
    // WHEN
    const v = await judge({ http_reqs: [`rate>${perSecond * 0.99}`] }, 'verdict-paused');
    // THEN (starting at the first k6_vus sample, the rate would be a third of this)
    expect(v.window?.start).toBe(t.start);
    expect(v.rows[0]!.observed).toBeCloseTo(perSecond, 9);
    expect(v.rows[0]!.pass).toBe(true);
  });

  test('a test without HTTP: the window comes from iterations', async () => {
    // GIVEN iterations and checks only (no k6_http_* series)
    const t = await pushK6Run(prom.writeUrl, { testid: 'verdict-nohttp', runners: 2, urls: [], durationSeconds: 30, pausedSeconds: 30, seed: 4 });
    // WHEN
    const v = await judge(
      { iterations: [`count==${t.totals.iterations}`, `rate>${(t.totals.iterations / t.durationSeconds) * 0.999}`] },
      'verdict-nohttp',
    );
    // THEN
    expect(v.window).toEqual({ start: t.start, end: t.end, pushIntervalSeconds: 5 });
    expect(v.rows.map((r) => r.pass)).toEqual([true, true]);
  });

  test('a run that wrote k6_vus but never started is no-data, and says why', async () => {
    // GIVEN only the paused phase: k6_vus 0 and k6_vus_max of 2 runners
    await pushSeries(
      prom.writeUrl,
      [0, 1].flatMap((r) =>
        ['k6_vus', 'k6_vus_max'].map((name) => ({
          labels: { __name__: name, testid: 'verdict-idle', test: 'verdict', instance_id: String(r) },
          samples: [0, 1, 2].map((i) => ({ value: name === 'k6_vus' ? 0 : 10, timestamp: Date.now() - 15_000 + i * 5000 })),
        })),
      ),
    );
    // WHEN
    const v = await judge({ http_reqs: ['count>0'] }, 'verdict-idle');
    // THEN
    expect([v.status, v.exitCode]).toEqual(['no-data', 3]);
    expect(v.message).toBe(
      `testid "verdict-idle" has k6_vus samples but no iterations, requests or active VUs in Prometheus at ${prom.url}: the run never started (paused?)`,
    );
  });
});

describe('percentiles over all runners', () => {
  test('p(95) of http_req_duration is within the bucket error of the true p95 although one runner is much slower', async () => {
    // GIVEN the true p95 over all requests, and what averaging the runners' own p95s would say
    const truth = slow.quantile(0.95) * 1000;
    const meanOfRunnerP95 = ([0, 1, 2, 3].map((runner) => slow.quantile(0.95, { runner })).reduce((a, b) => a + b) / 4) * 1000;
    expect(Math.abs(meanOfRunnerP95 / truth - 1)).toBeGreaterThan(2 * BOUND);
    // WHEN
    const v = await judge({ http_req_duration: ['p(95)<100000'] });
    // THEN
    expect(Math.abs(v.rows[0]!.observed! / truth - 1)).toBeLessThan(BOUND);
  });

  test.each([
    ['http_req_duration', {}, 0.95, 'p(95)'],
    ['http_req_duration{scenario:api}', { scenario: 'api' }, 0.9, 'p(90)'],
    ['http_req_duration{url:http://t/c,method:POST}', { url: 'http://t/c', method: 'POST' }, 0.99, 'p(99)'],
    ['http_req_duration{instance_id:3}', { runner: 3 }, 0.5, 'med'],
  ])('%s %s: passes just above the truth, fails just below (beyond the bucket error)', async (key, filter, q, agg) => {
    // GIVEN
    const truth = slow.quantile(q, filter) * 1000;
    const above = (truth * (1 + BOUND + MARGIN)).toFixed(3);
    const below = (truth * (1 - BOUND - MARGIN)).toFixed(3);
    // WHEN
    const v = await judge({ [key]: [`${agg}<${above}`, `${agg}<${below}`, `${agg}>${below}`] });
    // THEN
    expect(v.rows.map((r) => r.pass)).toEqual([true, false, true]);
    expect(v.status).toBe('fail');
    expect(v.exitCode).toBe(99);
  });

  test('min and max are bucket bounds near the true extremes', async () => {
    // GIVEN
    const values = slow.values('http_req_duration').map((v) => v * 1000);
    // WHEN
    const v = await judge({ http_req_duration: ['min>0', 'max<100000'] });
    // THEN (the lowest/highest populated bucket; the first push of each series is not in increase())
    expect(Math.abs(v.rows[0]!.observed! / Math.min(...values) - 1)).toBeLessThan(2 * BOUND);
    expect(Math.abs(v.rows[1]!.observed! / Math.max(...values) - 1)).toBeLessThan(2 * BOUND);
    expect(v.rows.map((r) => r.pass)).toEqual([true, true]);
  });

  test('iteration_duration avg: passes above, fails below the true average', async () => {
    const values = slow.values('iteration_duration');
    const truth = (values.reduce((a, b) => a + b) / values.length) * 1000;
    const v = await judge({ iteration_duration: [`avg<${(truth * 1.05).toFixed(3)}`, `avg<${(truth * 0.95).toFixed(3)}`] });
    expect(v.rows.map((r) => r.pass)).toEqual([true, false]);
  });
});

describe('rates weighted across runners', () => {
  test('http_req_failed rate is failed requests / all requests over all runners', async () => {
    // GIVEN the true error rate, and the plain mean of the runners' own ratios (what averaging the gauges would give)
    const truth = slow.totals.errorRate;
    const meanOfRatios = slow.perRunner.reduce((a, r) => a + r.failedRequests / r.requests, 0) / 4;
    expect(meanOfRatios / truth).toBeGreaterThan(1.5);
    // WHEN
    const v = await judge({ http_req_failed: [`rate<${truth * 1.01}`, `rate<${truth * 0.99}`] });
    // THEN
    expect(v.rows[0]!.observed).toBeCloseTo(truth, 12);
    expect(v.rows.map((r) => r.pass)).toEqual([true, false]);
  });

  test('checks rate is passed / all check evaluations over all runners', async () => {
    // GIVEN
    const truth = slow.totals.checksRate;
    const meanOfRatios = slow.perRunner.reduce((a, r) => a + r.checksPassed / r.checksTotal, 0) / 4;
    expect(truth - meanOfRatios).toBeGreaterThan(0.05);
    // WHEN
    const v = await judge({ checks: [`rate>${truth * 0.999}`, `rate>${truth * 1.001}`] });
    // THEN
    expect(v.rows[0]!.observed).toBeCloseTo(truth, 12);
    expect(v.rows.map((r) => r.pass)).toEqual([true, false]);
  });

  test('one check by its tag', async () => {
    const c = slow.perCheck['body ok']!;
    const v = await judge({ 'checks{check:body ok}': [`rate>=${c.passed / c.total}`] });
    expect(v.rows[0]!.observed).toBeCloseTo(c.passed / c.total, 12);
    expect(row(v)).toEqual({ threshold: `checks{check:body ok} rate>=${c.passed / c.total}`, pass: true });
  });

  test('http_req_failed of one scenario', async () => {
    const failed = slow.count({ scenario: 'api', failed: true });
    const all = slow.count({ scenario: 'api' });
    const v = await judge({ 'http_req_failed{scenario:api}': ['rate<1'] });
    expect(v.rows[0]!.observed).toBeCloseTo(failed / all, 12);
  });
});

describe('counts', () => {
  test('http_reqs count: exact total over all runners', async () => {
    const n = slow.totals.requests;
    const v = await judge({ http_reqs: [`count>=${n}`, `count>${n}`, `count==${n}`] });
    expect(v.rows.map((r) => [r.observed, r.pass])).toEqual([
      [n, true],
      [n, false],
      [n, true],
    ]);
  });

  test('dropped_iterations and filtered request counts', async () => {
    const v = await judge({ dropped_iterations: ['count<32', 'count<=31'], 'http_reqs{status:500}': [`count==${slow.totals.failedRequests}`] });
    expect(slow.totals.droppedIterations).toBe(32);
    expect(v.rows.map((r) => [r.observed, r.pass])).toEqual([
      [32, false],
      [32, false],
      [slow.totals.failedRequests, true],
    ]);
  });

  test('http_reqs rate is requests per second of the run', async () => {
    const perSecond = slow.totals.requests / slow.durationSeconds;
    const v = await judge({ http_reqs: [`rate>${perSecond * 0.999}`, `rate>${perSecond * 1.001}`] });
    expect(v.rows[0]!.observed).toBeCloseTo(perSecond, 9);
    expect(v.rows.map((r) => r.pass)).toEqual([true, false]);
  });

  test('vus value is the sum of the runners’ last values', async () => {
    const v = await judge({ vus: ['value==40'] });
    expect(row(v)).toEqual({ threshold: 'vus value==40', pass: true });
  });
});

describe('classic trend stats (runner.nativeHistograms: false)', () => {
  const judgeClassic = (thresholds: Record<string, string[]>) =>
    evaluateVerdict(prometheusApi(prom.url), 'verdict-classic', thresholds, { trends: 'classic' });

  test('the generator writes _count of a time trend divided by 1000, as k6 v1.7.1 trend.go adaptUnit does', async () => {
    // WHEN
    const data = await prom.query(`sum(last_over_time(k6_http_req_duration_count{testid="verdict-classic"}[5m]))`, classic.end);
    // THEN
    expect(Number((data.result as { value: [number, string] }[])[0]!.value[1])).toBeCloseTo(classic.count() / 1000, 9);
  });

  test('avg, min and max combine exactly over all runners', async () => {
    // GIVEN
    const values = classic.values('http_req_duration').map((v) => v * 1000);
    // WHEN
    const v = await judgeClassic({ http_req_duration: ['avg<100000', 'min>0', 'max<100000'] });
    // THEN
    expect(v.rows[0]!.observed).toBeCloseTo(values.reduce((a, b) => a + b) / values.length, 6);
    expect(v.rows[1]!.observed).toBeCloseTo(Math.min(...values), 6);
    expect(v.rows[2]!.observed).toBeCloseTo(Math.max(...values), 6);
  });

  test('a percentile is the highest series’ percentile: an upper bound of the true one', async () => {
    // GIVEN the p95 of every series (runner × url × status) and the true p95
    const perSeries = [0, 1, 2].flatMap((runner) =>
      ['http://t/a', 'http://t/b'].flatMap((url) =>
        ['200', '500']
          .filter((status) => classic.count({ runner, url, status }) > 0)
          .map((status) => classic.quantile(0.95, { runner, url, status }) * 1000),
      ),
    );
    // WHEN
    const v = await judgeClassic({ http_req_duration: ['p(95)<100000'] });
    // THEN
    expect(v.rows[0]!.observed).toBeCloseTo(Math.max(...perSeries), 6);
    expect(v.rows[0]!.observed).toBeGreaterThanOrEqual(classic.quantile(0.95) * 1000);
  });

  test('judged as native, a classic run has no trend data: the row fails with a note', async () => {
    const v = await evaluateVerdict(prometheusApi(prom.url), 'verdict-classic', { http_req_duration: ['p(95)<100000'] });
    expect(v.rows[0]).toMatchObject({ observed: null, pass: false });
  });
});

describe('outcomes and exit codes', () => {
  test('all thresholds pass: status pass, exit code 0', async () => {
    const v = await judge({ http_req_duration: ['p(95)<100000'], http_req_failed: ['rate<0.5'], checks: ['rate>0.5'], http_reqs: ['count>100'] });
    expect([v.status, v.exitCode]).toEqual(['pass', 0]);
  });

  test('a filter that matches nothing fails the row with a note', async () => {
    const v = await judge({ 'http_req_duration{scenario:nope}': ['p(95)<100000'] });
    expect(v.rows[0]).toMatchObject({ observed: null, pass: false, note: 'no samples for this metric and filters in the run window' });
    expect(v.status).toBe('fail');
  });

  test('an unknown testid is no-data, exit code 3', async () => {
    const v = await judge({ http_reqs: ['count>0'] }, 'never-ran');
    expect(v).toEqual({
      status: 'no-data',
      exitCode: 3,
      testid: 'never-ran',
      rows: [],
      message: `no data for testid "never-ran" in Prometheus at ${prom.url}`,
    });
  });

  test('a closed port is unreachable, exit code 4', async () => {
    // GIVEN a port nothing listens on
    const port = await freePort();
    // WHEN
    const v = await evaluateVerdict(`http://127.0.0.1:${port}`, 'verdict-slow', { http_reqs: ['count>0'] });
    // THEN
    expect([v.status, v.exitCode, v.rows]).toEqual(['unreachable', 4, []]);
    expect(v.message).toMatch(
      new RegExp(`^Prometheus at http://127\\.0\\.0\\.1:${port} is unreachable: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}$`),
    );
  });

  test('an explicit window is used as given', async () => {
    const v = await evaluateVerdict(prometheusApi(prom.url), 'verdict-slow', { http_reqs: ['count>0'] }, { start: slow.start, end: slow.end });
    expect(v.window).toEqual({ start: slow.start, end: slow.end, pushIntervalSeconds: 5 });
    expect(v.rows[0]!.observed).toBe(slow.totals.requests);
  });

  test('invalid thresholds throw before any query, naming the field', async () => {
    await expect(evaluateVerdict(prometheusApi(prom.url), 'verdict-slow', { http_req_duration: ['p95<1'] })).rejects.toThrow(
      `'thresholds.http_req_duration[0]' ${THRESHOLD_RULES.aggregation}, got "p95<1"`,
    );
  });

  test('the exit codes are documented values', () => {
    expect(VERDICT_EXIT_CODES).toEqual({ pass: 0, fail: 99, inconclusive: 5, 'no-data': 3, unreachable: 4 });
  });
});

describe('the object form of a threshold', () => {
  test('flows into the verdict rows with abortOnFail (carried, not enforced)', async () => {
    const v = await judge({ http_req_failed: [{ threshold: 'rate<1', abortOnFail: true, delayAbortEval: '10s' }, 'rate<0.5'] } as never);
    expect(v.rows.map((r) => [r.threshold, r.pass, r.abortOnFail])).toEqual([
      ['http_req_failed rate<1', true, true],
      ['http_req_failed rate<0.5', true, false],
    ]);
  });
});

/** A fake Prometheus on 127.0.0.1: window queries get a run's samples, threshold queries `answer`. */
async function fakePrometheus(
  answer: (req: IncomingMessage, res: ServerResponse, query: string) => void,
): Promise<{ url: string; close: () => Promise<void> }> {
  const t = Date.now() / 1000;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const query = new URLSearchParams(body).get('query') ?? '';
      if (/^k6_\w+\{[^}]*\}\[30d\]$/.test(query)) {
        const values = [0, 5, 10].map((d) => [t - 10 + d, '10']);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [{ metric: { testid: 'f' }, values }] } }));
      } else answer(req, res, query);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
const vector = (value: string) => JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [0, value] }] } });

describe('the verdict under faults (local HTTP servers)', () => {
  const servers: { close: () => Promise<void> }[] = [];
  const serve = async (answer: Parameters<typeof fakePrometheus>[0]) => {
    const s = await fakePrometheus(answer);
    servers.push(s);
    return s.url;
  };
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  test('headers, then silence: unreachable (exit 4) within the verdict timeout', async () => {
    // GIVEN a server that sends 200 and its headers, then never the body
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
    });
    // WHEN
    const started = Date.now();
    const v = await evaluateVerdict(url, 'f', { http_reqs: ['count>0'] }, { timeoutMs: 500 });
    // THEN
    expect([v.status, v.exitCode]).toEqual(['unreachable', 4]);
    expect(v.message).toBe(`Prometheus at ${url} is unreachable: no complete answer within the verdict timeout of 0.5s`);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('a body trickled one byte every 50 ms: unreachable (exit 4), not "query failed"', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const body = vector('1');
      let i = 0;
      const timer = setInterval(() => {
        if (i >= body.length || res.destroyed) return clearInterval(timer);
        res.write(body[i++]!);
      }, 50);
      res.on('close', () => clearInterval(timer));
    });
    const v = await evaluateVerdict(url, 'f', { http_reqs: ['count>0'] }, { timeoutMs: 700 });
    expect([v.status, v.exitCode]).toEqual(['unreachable', 4]);
  });

  test('the timeout bounds the whole verdict, not each query: three slow answers exceed it together', async () => {
    // GIVEN each threshold query answered after 300 ms, four thresholds, a 700 ms budget
    const url = await serve((_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(vector('1'));
      }, 300);
    });
    const v = await evaluateVerdict(url, 'f', { http_reqs: ['count>0', 'count>0', 'count>0', 'count>0'] }, { timeoutMs: 700 });
    expect(v.status).toBe('unreachable');
  });

  test('an answer of the wrong result type is an error, not "no data"', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'string', result: [0, 'x'] } }));
    });
    await expect(evaluateVerdict(url, 'f', { http_reqs: ['count>0'] }, { timeoutMs: 2000 })).rejects.toThrow(
      new PrometheusQueryError(
        'expected an instant vector or a scalar, got string\n  query: sum(last_over_time(k6_http_reqs_total{testid="f"}[15s]))',
      ),
    );
  });

  test('a window query answered with an instant vector is an error too', async () => {
    const url = await serve(() => undefined);
    const api = { url, data: async () => ({ resultType: 'vector', result: [] }) };
    await expect(evaluateVerdict(api, 'f', { http_reqs: ['count>0'] })).rejects.toThrow('expected a range vector (matrix), got vector');
  });

  test('a 503 with an HTML page is an error naming the status', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(503, { 'Content-Type': 'text/html' });
      res.end('<html>busy</html>');
    });
    await expect(evaluateVerdict(url, 'f', { http_reqs: ['count>0'] }, { timeoutMs: 2000 })).rejects.toThrow(
      'Prometheus query failed (HTTP 503): not a Prometheus API answer: "<html>busy</html>"',
    );
  });

  test.each([
    ['+Inf', Infinity, '+Inf'],
    ['NaN', NaN, 'NaN'],
    ['-Inf', -Infinity, '-Inf'],
  ])('a value of %s is reported as such and fails the threshold with the value shown', async (raw, value, shown) => {
    // GIVEN (e.g. a quantile above the last bucket, or 0/0)
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(vector(raw));
    });
    // WHEN thresholds that +Inf / NaN would "pass" by plain comparison
    const v = await evaluateVerdict(url, 'f', { http_req_duration: ['p(95)>0', 'p(95)!=1'] }, { timeoutMs: 2000 });
    // THEN
    expect(v.rows.map((r) => [r.observed, r.pass, r.note])).toEqual([
      [value, false, `the query answered ${shown}, not a finite number`],
      [value, false, `the query answered ${shown}, not a finite number`],
    ]);
    expect(formatVerdict(v).split('\n')[1]).toBe(`http_req_duration p(95)>0   ${shown.padEnd(8)}  FAIL`);
  });

  describe('through the CLI', () => {
    let root: string;
    beforeAll(() => {
      root = mkdtempSync(path.join(tmpdir(), 'loadtest-faults-'));
      symlinkSync(path.resolve(__dirname, '..', '..', 'scripts'), path.join(root, 'scripts'));
      writeFileSync(
        path.join(root, 'Pulumi.dev.yaml'),
        'config:\n  k6platform:tests:\n    - name: f\n      script: sample.js\n      thresholds: { http_reqs: ["count>0"] }\n',
      );
    });
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    const cli = async (url: string, extra: string[], env: NodeJS.ProcessEnv = {}) => {
      const out = bufferOutput();
      const code = await runCli(['verdict', '--testid', 'f', '--prometheus', url, ...extra], { out, env, rootDir: root });
      return { code, text: out.out.join('') + out.err.join('') };
    };

    test('--timeout bounds the command: a hanging server exits 4', async () => {
      const url = await serve((_req, res) => {
        // the test-label query hangs too
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
      });
      const r = await cli(url, ['--timeout', '400ms']);
      expect(r.code).toBe(4);
      expect(r.text).toContain(`Prometheus at ${url} is unreachable: no complete answer within --timeout 0.4s`);
    });

    test('LOADTEST_TIMEOUT sets it when --timeout is not given; a bad value is a usage error', async () => {
      const url = await serve((_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
      });
      expect((await cli(url, [], { LOADTEST_TIMEOUT: '300ms' })).code).toBe(4);
      const bad = await cli(url, [], { LOADTEST_TIMEOUT: 'soon' });
      expect(bad).toEqual({ code: 2, text: 'error: $LOADTEST_TIMEOUT must be a positive duration such as "30s", "2m" or "1m30s". Got "soon".\n' });
      expect((await cli(url, ['--timeout', '0s'])).code).toBe(2);
    });

    test('a wrong result type exits 1 (an error), not 3 (no data)', async () => {
      const url = await serve((_req, res, query) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(
          query.startsWith('group by (test)')
            ? JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: { test: 'f' }, value: [0, '1'] }] } })
            : JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } }),
        );
      });
      const r = await cli(url, ['--timeout', '2s']);
      expect(r.code).toBe(1);
      expect(r.text).toContain('expected an instant vector or a scalar, got matrix');
    });
  });
});

describe('formatVerdict', () => {
  test('prints threshold, observed value in k6 units and result, then a summary', async () => {
    // GIVEN
    const n = slow.totals.requests;
    const v = await judge({ http_reqs: [`count>${n}`], 'http_req_duration{scenario:nope}': ['p(95)<1'], vus: ['value==40'] });
    // WHEN
    const text = formatVerdict(v);
    // THEN
    const w = 'http_req_duration{scenario:nope} p(95)<1'.length;
    expect(text.split('\n')).toEqual([
      `${'THRESHOLD'.padEnd(w)}  OBSERVED  RESULT`,
      `${`http_reqs count>${n}`.padEnd(w)}  ${String(n).padEnd(8)}  FAIL`,
      'http_req_duration{scenario:nope} p(95)<1  no data   FAIL',
      `${'vus value==40'.padEnd(w)}  40        pass`,
      'verdict: FAIL (2 of 3 thresholds failed)',
    ]);
  });

  test('no-data and unreachable are one line', () => {
    expect(formatVerdict({ status: 'no-data', exitCode: 3, testid: 'x', rows: [], message: 'no data for testid "x"' })).toBe(
      'verdict: NO-DATA: no data for testid "x"',
    );
  });
});
