/**
 * Integration: the recorded run totals on a real Prometheus. The run-totals rule
 * (constructs/src/monitoring/recording-rules.ts `runIncrementExpr`) records each evaluation's increase of every
 * runner's `http_req_duration` histogram; summed over a run, they are the run's histogram. Three synthetic runs:
 * one recorded at every evaluation, one with an evaluation missing, one never recorded. Their evaluations are written
 * as evaluation writes them (test/support/recorded-series.ts; recording-rules.prometheus.test.ts checks live
 * evaluation records the same), every 15 s as deployed.
 * - the sum of the increments is each runner's final histogram, count, sum and every bucket;
 * - the native dashboard's whole-run queries (run p95, URL table, pass/fail row, verdict stat) answer from them what
 *   the exact run histogram answers;
 * - the verdict reads them for the thresholds they cover when they are complete, and the raw series otherwise.
 * Prometheus 2.42 has no histogram subtraction and no `query_offset`: the platform records no run totals there, and
 * the verdict reads raw series (the last test).
 */
import {
  monitoringValues,
  parsePlatformConfig,
  RECORDING_RULE_INTERVAL,
  k6DurationSeconds,
  recordedRunIncrement,
  recordingRuleGroups,
} from '@k6-platform/constructs/internal';
import { k6LoadTestDashboard, SOURCE_VALUES } from '../../dashboards/src';
import { dashboardQueries, substituteVariables } from '../../dashboards/test/queries';
import { completenessQuery, recordedTotalsWindow } from '../../cli/verdict/recorded-totals';
import { evaluateVerdict, type PrometheusApi, type Verdict } from '../../cli/verdict/verdict';
import { prometheusClient } from '../../cli/prometheus/client';
import { pushK6Run, type K6RunOptions, type K6RunTruth } from '../support/k6-run';
import { binaryMajorVersion, startPrometheus, type PrometheusHandle, type PromSeriesResult } from '../support/prometheus';
import { closeTo, histogramDiff, writeEvaluations } from '../support/recorded-series';
import { bucketErrorBound } from '../support/remote-write';

const RECORD = recordedRunIncrement('http_req_duration');
/** Any recorded run total (`<level>:k6_<series>:increase`), in a query. */
const RECORDED_TOTAL = /\b[a-z_]+:k6_\w+:increase\b/;
/** The run-totals rules, in their group's order: the coarse levels read the finer ones recorded before them. */
const TOTALS_RULES = recordingRuleGroups().find((g) => g.name === 'k6-run-totals')!.rules;
const STEP_SECONDS = k6DurationSeconds(RECORDING_RULE_INTERVAL);
/** Relative tolerance of two sums of the same integers in another order. */
const REL = 1e-9;
const RUN: Omit<K6RunOptions, 'testid'> = {
  runners: 3,
  scenarios: ['browse', 'api'],
  urls: [
    { url: 'http://target.local/api/items', failureFraction: 0.1 },
    { url: 'http://target.local/', method: 'POST', failureFraction: 0.05 },
  ],
  durationSeconds: 240,
  requestsPerSecond: 6,
  latency: [{ medianMs: 80 }, { medianMs: 90 }, { medianMs: 300 }],
};
const THRESHOLDS = {
  http_req_duration: ['p(95)<500', 'p(99)<1500', 'avg<200', 'med<150', 'max<3000'],
  'http_req_duration{scenario:api}': ['p(90)<400'],
  'http_req_duration{url:http://target.local/}': ['p(90)<400'],
  iteration_duration: ['p(95)<1000'],
  http_req_failed: ['rate<0.2'],
};

let prom: PrometheusHandle;
const major = binaryMajorVersion();
/** What needs Prometheus 3: recording the run totals at all. */
const describe3 = major >= 3 ? describe : describe.skip;
const runs: Record<'complete' | 'partial' | 'none', K6RunTruth> = {} as never;

/** A rule's expression over one run's series only (the runs share the Prometheus): every selector gets the run's testid. */
const exprOf = (expr: string, testid: string) => expr.replace(/\b((?:[a-z_]+:)?k6_\w+(?::\w+)?)(?=\[|\))/g, `$1{testid="${testid}"}`);

/**
 * Writes every run-totals rule's evaluations of one run over [from, to]. A coarse level's evaluation reads the finer
 * level's sample of the same evaluation; a range query finds it at the same step (steps aligned to `from`), and after
 * the run, within the lookback, the finer level's last increments: zero, which adds nothing.
 */
async function writeTotals(testid: string, from: number, to: number): Promise<void> {
  for (const rule of TOTALS_RULES) await writeEvaluations(prom, rule.record, exprOf(rule.expr, testid), from, to, STEP_SECONDS);
}

beforeAll(async () => {
  prom = await startPrometheus({ spec: monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec });
  const endTime = Date.now() - 60_000;
  runs.complete = await pushK6Run(prom.writeUrl, { ...RUN, testid: 'rt-complete', endTime });
  runs.partial = await pushK6Run(prom.writeUrl, { ...RUN, testid: 'rt-partial', endTime });
  runs.none = await pushK6Run(prom.writeUrl, { ...RUN, testid: 'rt-none', endTime });
  if (major < 3) return;
  // evaluation slots from before the first push to one past the last
  const [from, to] = [endTime - (RUN.durationSeconds! + 60) * 1000, endTime + STEP_SECONDS * 1000];
  await writeTotals('rt-complete', from, to);
  // one evaluation missed in the middle of the run (a restart, an overloaded rule group): its increments are lost
  const mid = from + Math.floor((to - from) / 2 / (STEP_SECONDS * 1000)) * STEP_SECONDS * 1000;
  await writeTotals('rt-partial', from, mid);
  await writeTotals('rt-partial', mid + 2 * STEP_SECONDS * 1000, to);
}, 120_000);

afterAll(async () => {
  await prom?.stop();
});

const close = (a: number, b: number, rel = REL) => closeTo(a, b, rel);

/** Instant query at the end of the run's recorded window. */
async function at(truth: K6RunTruth, expr: string): Promise<PromSeriesResult[]> {
  return (await prom.query(expr, recordedTotalsWindow(truth).at)).result as PromSeriesResult[];
}

describe3('the recorded run totals (Prometheus 3)', () => {
  test('summed over the run, the increments are each runner’s final histogram: count, sum and every bucket', async () => {
    const by = 'scenario, name, method, status, expected_response';
    const recorded = await at(runs.complete, `sum by (${by}) (sum_over_time(${RECORD}{testid="rt-complete"}[1h]))`);
    const exact = await at(runs.complete, `sum by (${by}) (last_over_time(k6_http_req_duration_seconds{testid="rt-complete"}[1h]))`);
    expect(recorded.length).toBe(exact.length);
    expect(recorded.length).toBeGreaterThanOrEqual(4);
    const exactBy = new Map(exact.map((s) => [JSON.stringify(s.metric), s.histogram![1]]));
    const diffs = recorded.flatMap((s) =>
      histogramDiff(s.histogram![1], exactBy.get(JSON.stringify(s.metric))!, REL).map((d) => `${JSON.stringify(s.metric)}: ${d}`),
    );
    expect(diffs).toEqual([]);
    // and the count is the run's number of requests, exactly
    const total = recorded.reduce((n, s) => n + Number(s.histogram![1].count), 0);
    expect(total).toBe(runs.complete.totals.requests);
  });

  test('the completeness check holds for the complete run only', async () => {
    const check = (truth: K6RunTruth, filters: Record<string, string> = {}) => {
      const t = { metric: 'http_req_duration', filters } as Parameters<typeof completenessQuery>[0];
      return at(truth, completenessQuery(t, truth.testid, recordedTotalsWindow(truth).seconds));
    };
    expect((await check(runs.complete)).length).toBe(1);
    expect((await check(runs.complete, { scenario: 'api' })).length).toBe(1);
    expect(await check(runs.partial)).toEqual([]);
    expect(await check(runs.none)).toEqual([]);
  });

  test('the native dashboard’s whole-run queries answer from them what the exact run totals answer, whatever is picked', async () => {
    const totals = dashboardQueries(k6LoadTestDashboard()).filter((q) => RECORDED_TOTAL.test(q.expr));
    expect(totals.length).toBeGreaterThanOrEqual(14);
    // every scenario and URL (the coarse `outcome` branch), a scenario picked, a URL picked (the `request` branches)
    const picks = [
      { scenario: '.*', name: '.*' },
      { scenario: 'api', name: '.*' },
      { scenario: '.*', name: 'http://target.local/' },
    ];
    const vars = (source: string, pick: (typeof picks)[number]) => ({
      datasource: 'prometheus',
      testid: 'rt-complete',
      ...pick,
      quantile: '0.95',
      source,
      runner_namespace: 'k6',
      __range: '1h',
      __range_s: '3600',
      __rate_interval: '1m',
      __interval: '15s',
    });
    const failures: string[] = [];
    let compared = 0;
    for (const pick of picks) {
      for (const q of totals) {
        const what = `${q.source} / ${q.refId} (${JSON.stringify(pick)})`;
        const recorded = await at(runs.complete, substituteVariables(q.expr, vars(SOURCE_VALUES.recorded, pick)));
        const raw = substituteVariables(q.expr, vars(SOURCE_VALUES.raw, pick));
        // the raw side with the exact run histogram (Prometheus 3 reads histograms in last_over_time) in place of increase;
        // counters and rates are read with last_over_time already
        const exact = await at(runs.complete, raw.replaceAll('increase(k6_http_req_duration_seconds', 'last_over_time(k6_http_req_duration_seconds'));
        const extrapolated = await at(runs.complete, raw);
        const value = (r: PromSeriesResult[]) => r.map((s) => [JSON.stringify(s.metric), Number(s.value![1])] as const).sort();
        if (recorded.length === 0) failures.push(`${what}: no data`);
        if (JSON.stringify(value(recorded).map(([k]) => k)) !== JSON.stringify(value(exact).map(([k]) => k))) failures.push(`${what}: other series`);
        value(recorded).forEach(([k, v], i) => {
          compared++;
          if (!close(v, value(exact)[i]![1])) failures.push(`${what} ${k}: ${v} != exact ${value(exact)[i]![1]}`);
          // increase extrapolates: the raw answer is the exact one within the bucket error
          if (!close(v, value(extrapolated)[i]![1], 2 * bucketErrorBound())) failures.push(`${what} ${k}: ${v} far from raw`);
        });
      }
    }
    expect(failures).toEqual([]);
    expect(compared).toBeGreaterThan(3 * 14);
  });

  test('with every scenario and URL the whole-run queries read the outcome level only; with one picked, the request level only', async () => {
    const q = dashboardQueries(k6LoadTestDashboard()).find((x) => x.source === 'Total requests')!;
    const v = {
      datasource: 'prometheus',
      testid: 'rt-complete',
      quantile: '0.95',
      source: SOURCE_VALUES.recorded,
      runner_namespace: 'k6',
      __range: '1h',
    };
    // each level alone (the other renamed to a series that does not exist): the one the case reads answers, the other is empty
    const only = (level: string, pick: Record<string, string>) => {
      const other = level === 'outcome' ? 'request' : 'outcome';
      return at(
        runs.complete,
        substituteVariables(q.expr.replaceAll(`${other}:k6_http_reqs:increase{`, 'absent:k6_http_reqs:increase{'), { ...v, ...pick }),
      );
    };
    const count = (r: PromSeriesResult[]) => (r.length === 0 ? 0 : Number(r[0]!.value![1]));
    const all = { scenario: '.*', name: '.*' };
    const api = { scenario: 'api', name: '.*' };
    expect(count(await only('outcome', all))).toBe(runs.complete.totals.requests);
    expect(await only('request', all)).toEqual([]);
    expect(await only('outcome', api)).toEqual([]);
    expect(count(await only('request', api))).toBeGreaterThan(0);
    expect(count(await only('request', api))).toBeLessThan(runs.complete.totals.requests);
  });

  test('the verdict reads them where they are complete: the same outcome, the exact values', async () => {
    const verdict = await evaluateVerdict(prom.url, 'rt-complete', THRESHOLDS);
    const rawOnly = await evaluateVerdict(withoutRecorded(prom.url), 'rt-complete', THRESHOLDS);
    const source = (v: Verdict) => v.rows.map((r) => [r.threshold, r.query.aggregation.includes('the recorded run totals')]);
    expect(source(verdict)).toEqual([
      ['http_req_duration p(95)<500', true],
      ['http_req_duration p(99)<1500', true],
      ['http_req_duration avg<200', true],
      ['http_req_duration med<150', true],
      ['http_req_duration max<3000', true],
      ['http_req_duration{scenario:api} p(90)<400', true],
      // the rules drop the url label: raw
      ['http_req_duration{url:http://target.local/} p(90)<400', false],
      ['iteration_duration p(95)<1000', false],
      ['http_req_failed rate<0.2', false],
    ]);
    expect(source(rawOnly).every(([, recorded]) => recorded === false)).toBe(true);
    // a window given by hand may end mid-run, beyond which the last increment reaches: raw series
    const given = await evaluateVerdict(prom.url, 'rt-complete', THRESHOLDS, { start: runs.complete.start, end: runs.complete.end });
    expect(source(given).every(([, recorded]) => recorded === false)).toBe(true);
    expect(verdict.rows.map((r) => r.pass)).toEqual(rawOnly.rows.map((r) => r.pass));
    expect(verdict.status).toBe(rawOnly.status);
    // each recorded value is the exact run histogram's
    for (const r of verdict.rows.filter((x) => x.query.aggregation.includes('the recorded run totals'))) {
      const exact = r.query.promql.replace(
        /sum_over_time\((?:request|outcome):k6_http_req_duration_seconds:increase(\{[^}]*\})\[\d+s\]\)/g,
        'last_over_time(k6_http_req_duration_seconds$1[1h])',
      );
      const [e] = await at(runs.complete, exact);
      expect({ row: r.threshold, close: close(r.observed!, Number(e!.value![1])) }).toEqual({ row: r.threshold, close: true });
      const raw = rawOnly.rows.find((x) => x.threshold === r.threshold)!;
      expect({ row: r.threshold, near: close(r.observed!, raw.observed!, 2 * bucketErrorBound()) }).toEqual({ row: r.threshold, near: true });
    }
  });
});

describe('the verdict without complete run totals', () => {
  test('incomplete or missing run totals: the verdict reads the raw series (on 2.42, always)', async () => {
    for (const testid of major >= 3 ? ['rt-partial', 'rt-none'] : ['rt-complete', 'rt-partial', 'rt-none']) {
      const verdict = await evaluateVerdict(prom.url, testid, THRESHOLDS);
      const rawOnly = await evaluateVerdict(withoutRecorded(prom.url), testid, THRESHOLDS);
      expect(verdict.rows.map((r) => [r.threshold, r.query.promql, r.observed])).toEqual(
        rawOnly.rows.map((r) => [r.threshold, r.query.promql, r.observed]),
      );
      expect(verdict.rows.some((r) => RECORDED_TOTAL.test(r.query.promql))).toBe(false);
      expect(verdict.rows.length).toBe(9);
      expect(verdict.status).toBe(rawOnly.status);
    }
  });
});

/** A Prometheus API that answers every query about the recorded run totals with nothing. */
function withoutRecorded(url: string): PrometheusApi {
  const client = prometheusClient(url);
  return {
    url: client.url,
    data: (expr, time) => (RECORDED_TOTAL.test(expr) ? Promise.resolve({ resultType: 'vector', result: [] }) : client.data(expr, time)),
  };
}
