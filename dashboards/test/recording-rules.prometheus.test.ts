/**
 * Integration: the platform's recording rules (the PrometheusRule objects of `RecordingRules`, loaded as a rule file
 * evaluated every second) on a real Prometheus holding a synthetic k6 run, and the native dashboard reading them.
 * - every rule's recorded samples equal its expression evaluated at the same timestamp (field by field);
 * - the native dashboard's switched queries give the same answer from recorded and from raw series;
 * - a run that ended before the rules could record it is readable with `source` = raw, and shows nothing recorded.
 *
 * Prometheus 2.42 drops evaluations of rules over native histograms: its float-histogram validation
 * (v2.42.0 tsdb/head_append.go `ValidateFloatHistogram`) refuses a histogram whose bucket counts add up to more than
 * its Count, which a `rate` result does by float rounding alone ("20.000000 observations found in buckets, but the
 * Count field is 20.000000"); v3.5.0 model/histogram/float_histogram.go `Validate` has no such comparison. Where the
 * tests differ by version they say so.
 */
import { Chart, Testing } from 'cdk8s';
import {
  monitoringValues,
  parsePlatformConfig,
  recordingRuleGroups,
  RecordingRules,
  type RecordingRuleGroup,
} from '@k6-platform/constructs/internal';
import { type K6RunOptions, type K6RunTruth, pushK6Run } from '../../test/support/k6-run';
import {
  binaryMajorVersion,
  startPrometheus,
  type PrometheusHandle,
  type PromHistogramJson,
  type PromSeriesResult,
} from '../../test/support/prometheus';
import { closeTo, histogramDiff as histogramDiffOf } from '../../test/support/recorded-series';
import { k6LoadTestDashboard, SOURCE_GUARD_LABEL, SOURCE_VALUES } from '../src';
import { evaluate, hasData, type TimeWindow } from './grafana-eval';
import { dashboardQueries, substituteVariables, type DashboardQuery, type VariableValues } from './queries';

/** Relative tolerance of recorded against raw: the same arithmetic, summed in another order. */
const REL = 1e-9;
const RUN: Omit<K6RunOptions, 'testid'> = {
  runners: 3,
  scenarios: ['browse', 'api'],
  urls: [
    { url: 'http://target.local/api/items', failureFraction: 0.1 },
    { url: 'http://target.local/', method: 'POST', failureFraction: 0.05 },
  ],
  durationSeconds: 120,
  requestsPerSecond: 8,
  latency: [{ medianMs: 80 }, { medianMs: 90 }, { medianMs: 300 }],
  droppedIterations: [0, 0, 12],
  // one cluster's runners of a run spread over several: the breakdowns by zone read recorded series that keep it
  zone: 'eu-west',
};

/**
 * The rule groups exactly as the construct's PrometheusRule objects carry them, evaluated every second. The run
 * totals' expression holds its interval (each increment reaches back one evaluation), so that group is the one
 * `recordingRuleGroups` makes for a 1 s interval and 1 s pushes (query offset 2 s). Prometheus 2.42 cannot load it:
 * `query_offset` came with 2.53, and 2.42 has no histogram subtraction; the platform deploys rules only with its own
 * Prometheus 3.
 */
function constructGroups(major: number): RecordingRuleGroup[] {
  const chart = new Chart(Testing.app(), 'rules');
  new RecordingRules(chart, 'Rules', { namespace: 'monitoring', releaseName: 'kps' });
  const objs = Testing.synth(chart) as { spec: { groups: RecordingRuleGroup[] } }[];
  const fast = recordingRuleGroups({ interval: '1s', pushInterval: '1s' });
  return objs
    .flatMap((o) => o.spec.groups)
    .filter((g) => major >= 3 || g.query_offset === undefined)
    .map((g) => (g.query_offset !== undefined ? fast.find((f) => f.name === g.name)! : { ...g, interval: '1s' }));
}

let prom: PrometheusHandle;
let major: number;
let groups: RecordingRuleGroup[];
let recordedRun: K6RunTruth;
let oldRun: K6RunTruth;
/** Wall time (unix ms) when the recorded run was fully pushed: evaluations after it saw all of its samples. */
let pushedAt: number;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  groups = constructGroups(binaryMajorVersion());
  prom = await startPrometheus({
    spec: monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec,
    ruleGroups: groups,
    // also the default step of subqueries without one (`[$__range:]`)
    evaluationInterval: '1s',
  });
  const info = (await (await fetch(`${prom.url}/api/v1/status/buildinfo`)).json()) as { data: { version: string } };
  major = Number(info.data.version.split('.')[0]);
  // A run that ended 10 minutes ago: no evaluation of a 1m rate ever sees it, as for a run from before the rules.
  oldRun = await pushK6Run(prom.writeUrl, { ...RUN, testid: 'rr-old', endTime: Date.now() - 600_000 });
  recordedRun = await pushK6Run(prom.writeUrl, { ...RUN, testid: 'rr-new' });
  pushedAt = Date.now();
  // Until every group has evaluated at least 3 times over the complete data.
  for (let i = 0; i < 200; i++) {
    const status = await prom.rules();
    const done = (g: { name: string; lastEvaluation: string }) =>
      Date.parse(g.lastEvaluation) > pushedAt + 3000 + (g.name === 'k6-run-totals' ? 2000 : 0);
    if (status.length === groups.length && status.every(done)) break;
    await sleep(250);
  }
}, 120_000);

afterAll(async () => {
  await prom?.stop();
});

const withoutName = (m: Record<string, string>): string =>
  JSON.stringify(
    Object.fromEntries(
      Object.entries(m)
        .filter(([k]) => k !== '__name__')
        .sort(([a], [b]) => a.localeCompare(b)),
    ),
  );
const close = (a: number, b: number): boolean => closeTo(a, b, REL);
const histogramDiff = (a: PromHistogramJson, b: PromHistogramJson): string[] => histogramDiffOf(a, b, REL);

/** Differences between two instant vectors, series matched by their labels (the metric name aside). */
function vectorDiff(recorded: readonly PromSeriesResult[], raw: readonly PromSeriesResult[]): string[] {
  const rawBy = new Map(raw.map((s) => [withoutName(s.metric), s]));
  const out: string[] = [];
  if (recorded.length !== raw.length) out.push(`${recorded.length} series != ${raw.length}`);
  for (const s of recorded) {
    const key = withoutName(s.metric);
    const r = rawBy.get(key);
    if (r === undefined) out.push(`${key}: not in the raw result`);
    else if (s.value !== undefined && r.value !== undefined) {
      if (!close(Number(s.value[1]), Number(r.value[1]))) out.push(`${key}: ${s.value[1]} != ${r.value[1]}`);
    } else if (s.histogram !== undefined && r.histogram !== undefined) {
      out.push(...histogramDiff(s.histogram[1], r.histogram[1]).map((d) => `${key}: ${d}`));
    } else out.push(`${key}: float and histogram mixed`);
  }
  return out;
}

/**
 * A rule's recorded samples after the run was fully pushed, by their own timestamp (unix ms), each as an
 * instant-vector element. Read from a range vector: an instant query would fill a missing evaluation from an earlier
 * one (the lookback), and hide it.
 */
async function recordedSamples(record: string): Promise<Map<number, PromSeriesResult[]>> {
  const series = (await prom.query(`${record}[30s]`)).result as PromSeriesResult[];
  const byTime = new Map<number, PromSeriesResult[]>();
  const add = (t: number, s: PromSeriesResult) => {
    const ms = Math.round(t * 1000);
    if (ms > pushedAt + 1000) byTime.set(ms, [...(byTime.get(ms) ?? []), s]);
  };
  for (const s of series) {
    for (const v of s.values ?? []) add(v[0], { metric: s.metric, value: v });
    for (const h of s.histograms ?? []) add(h[0], { metric: s.metric, histogram: h });
  }
  return new Map([...byTime.entries()].sort(([a], [b]) => a - b));
}

/** The last evaluation time of a rule after the run was fully pushed. */
async function lastEvaluation(record: string): Promise<number> {
  const times = [...(await recordedSamples(record)).keys()];
  if (times.length === 0) throw new Error(`${record}: no evaluation after the push; Prometheus log:\n${prom.logs().slice(-2000)}`);
  return times.at(-1)!;
}

const isHistogramGroup = (g: RecordingRuleGroup) => g.name === 'k6-latency' || g.name === 'k6-run-totals';

describe('recording rules on a real Prometheus', () => {
  test('the construct defines its groups and Prometheus loaded every rule of them (2.42: all but the run totals)', async () => {
    expect(groups.map((g) => g.name)).toEqual(['k6-latency', 'k6-load', ...(major >= 3 ? ['k6-run-totals'] : [])]);
    const status = await prom.rules();
    expect(status.map((g) => [g.name, g.interval, g.rules.map((r) => r.name)])).toEqual(groups.map((g) => [g.name, 1, g.rules.map((r) => r.record)]));
    expect(status.flatMap((g) => g.rules.map((r) => r.query))).toEqual(groups.flatMap((g) => g.rules.map((r) => r.expr)));
  });

  test('the float rules are healthy and record exactly their expression at each evaluation', async () => {
    const status = await prom.rules();
    const floatRules = groups.filter((g) => !isHistogramGroup(g)).flatMap((g) => g.rules);
    expect(status.flatMap((g) => g.rules).filter((r) => floatRules.some((f) => f.record === r.name) && r.health !== 'ok')).toEqual([]);
    for (const rule of floatRules) {
      const samples = await recordedSamples(rule.record);
      expect({ rule: rule.record, evaluations: samples.size >= 2 }).toEqual({ rule: rule.record, evaluations: true });
      for (const [t, recorded] of samples) {
        const raw = (await prom.query(rule.expr, t)).result as PromSeriesResult[];
        expect(recorded.length).toBeGreaterThan(0);
        expect({ rule: rule.record, t, diff: vectorDiff(recorded, raw) }).toEqual({ rule: rule.record, t, diff: [] });
      }
    }
  });

  test('the histogram rules record exactly their expression (3.x: at every evaluation; 2.42: where it kept one)', async () => {
    const status = await prom.rules();
    const latency = status.find((g) => g.name === 'k6-latency')!;
    // 3.x: every rule healthy; 2.42: a rule may have lost its last result to the float-histogram validation, nothing else
    const tolerated = major >= 3 ? undefined : /observations found in buckets, but the Count field is/;
    const unhealthy = latency.rules.filter((r) => r.health !== 'ok' && !(tolerated?.test(r.lastError ?? '') ?? false));
    expect(unhealthy.map((r) => `${r.name}: ${r.lastError}`)).toEqual([]);
    let compared = 0;
    for (const rule of groups.filter(isHistogramGroup).flatMap((g) => g.rules)) {
      const samples = await recordedSamples(rule.record);
      // 3.x records every evaluation; 2.42 may have dropped all of a rule's
      expect({ rule: rule.record, evaluations: samples.size >= 2 || major < 3 }).toEqual({ rule: rule.record, evaluations: true });
      for (const [t, recorded] of samples) {
        const raw = (await prom.query(rule.expr, t)).result as PromSeriesResult[];
        // 2.42 keeps some series of an evaluation and drops others: compare the ones it kept
        const expected = major >= 3 ? raw : raw.filter((s) => recorded.some((x) => withoutName(x.metric) === withoutName(s.metric)));
        expect({ rule: rule.record, t, diff: vectorDiff(recorded, expected) }).toEqual({ rule: rule.record, t, diff: [] });
        compared += recorded.length;
      }
    }
    expect(compared).toBeGreaterThan(0);
  });
});

// Without rules and without data here: the Browser row (browser.prometheus.test.ts), the reasons of an inconclusive run
// and the planned-runner check, from kube-state-metrics (validity.prometheus.test.ts)
const NATIVE = dashboardQueries(k6LoadTestDashboard()).filter((q) => !/^(Browser |Why |Runners reported$)/.test(q.source));
const switchedQueries = NATIVE.filter((q) => q.expr.includes(SOURCE_GUARD_LABEL));
/**
 * The switched queries over a view's time range: recorded 1m rates, which equal the raw rates at an evaluation. Those
 * over the whole run read the recorded run increments, whose sum over a run is exact where `increase` extrapolates:
 * dashboards/test/run-totals.prometheus.test.ts compares both with the truth.
 */
const rateQueries = switchedQueries.filter((q) => !q.expr.includes(':increase{'));

/** Every scenario and URL (what the coarse `outcome` and `runner` levels answer), or one picked (the finer levels). */
const PICKS = [
  { scenario: '.*', name: '.*' },
  { scenario: 'browse', name: '.*' },
  { scenario: '.*', name: 'http://target.local/api/items' },
] as const;

function vars(testid: string, source: string, pick: (typeof PICKS)[number] = PICKS[0]): VariableValues {
  return { datasource: 'prometheus', testid, ...pick, quantile: '0.95', source, runner_namespace: 'k6' };
}

/** A query instant at `t`, with the built-in intervals of a view of the last minute (rate interval = the rules' window). */
async function instant(q: DashboardQuery, v: VariableValues, t: number): Promise<PromSeriesResult[]> {
  const promql = substituteVariables(q.expr, { ...v, __rate_interval: '1m', __range: '60s', __range_s: '60', __interval: '15s' });
  return (await prom.query(promql, t)).result as PromSeriesResult[];
}

describe('the native dashboard over recorded series', () => {
  test('most of its queries are switched by source, among them every latency time series', () => {
    expect(switchedQueries.length).toBeGreaterThan(25);
    const latency = NATIVE.filter((q) => !q.instant && q.expr.startsWith('histogram_quantile'));
    expect(latency.filter((q) => !switchedQueries.includes(q)).map((q) => q.source)).toEqual([]);
    // the per-runner latency reads the runner level, or runner_request with a scenario or URL picked
    const perRunner = NATIVE.find((q) => q.source === 'Request duration per runner')!.expr;
    expect(perRunner).toContain('runner:k6_http_req_duration_seconds:rate1m{');
    expect(perRunner).toContain('runner_request:k6_http_req_duration_seconds:rate1m{');
    // and the whole-run latency and counts of the stats, the URL table and the pass/fail row the run totals
    const totals = switchedQueries.filter((q) => q.expr.includes(':increase{')).map((q) => q.source);
    expect([...new Set(totals)].sort()).toEqual(
      [
        'Checks by name',
        'Error ratio',
        'Failed requests',
        'Request duration p95 (run)',
        'Requests by URL',
        'Total requests',
        'Verdict',
        'http_req_duration p(95)<500',
        'http_req_duration p(95)<500 (observed)',
        'http_req_duration p(99)<1500',
        'http_req_duration p(99)<1500 (observed)',
        'checks rate>0.99',
        'checks rate>0.99 (observed)',
        'http_req_failed rate<0.01',
        'http_req_failed rate<0.01 (observed)',
      ].sort(),
    );
  });

  test('recorded and raw give the same answer at an evaluation time, query by query, whatever is picked', async () => {
    const failures: string[] = [];
    let histogramQueries = 0;
    let picked = 0;
    for (const q of rateQueries) {
      // a subquery over the whole range also reads steps before the rules ran
      if (q.expr.includes('[$__range:')) continue;
      if (major < 3 && /_seconds/.test(q.expr)) continue; // 2.42 drops histogram evaluations (see the file comment)
      // at an evaluation of the group that records what the query reads: groups run at offsets of their own, and at any
      // other time the recorded sample is an earlier evaluation's while the raw side slides on
      const t = await lastEvaluation(/([\w]+:k6_\w+:\w+)\{/.exec(q.expr)![1]!);
      for (const pick of PICKS) {
        const recorded = await instant(q, vars(recordedRun.testid, SOURCE_VALUES.recorded, pick), t);
        const raw = await instant(q, vars(recordedRun.testid, SOURCE_VALUES.raw, pick), t);
        const what = `${q.source} / ${q.refId} (${pick.scenario}, ${pick.name})`;
        // a pick may select nothing (no failed request in that scenario): then both sides are empty (vectorDiff)
        if (recorded.length === 0 && pick === PICKS[0]) failures.push(`${what}: no recorded data`);
        if (recorded.length > 0 && pick !== PICKS[0]) picked++;
        failures.push(...vectorDiff(recorded, raw).map((d) => `${what}: ${d}`));
      }
      if (/_seconds/.test(q.expr)) histogramQueries++;
    }
    expect(failures).toEqual([]);
    expect(histogramQueries).toBe(major >= 3 ? 17 : 0);
    expect(picked).toBeGreaterThan(major >= 3 ? 40 : 10);
  });

  test('a view of the recorded run since the rules ran returns data in every switched panel, with source = recorded', async () => {
    const t = await lastEvaluation('request:k6_http_reqs:rate1m');
    const w: TimeWindow = { from: pushedAt, to: t, stepSeconds: 1, rateInterval: '1m' };
    const empty: string[] = [];
    // the other queries read the raw series whatever the source (dashboards.prometheus.test.ts checks them); the run
    // totals of a run pushed before the rules evaluated are its increments since then: none
    for (const q of rateQueries) {
      if (major < 3 && /_seconds:rate1m/.test(q.expr)) continue;
      const e = await evaluate(prom, q, vars(recordedRun.testid, SOURCE_VALUES.recorded), w);
      if (!hasData(e)) empty.push(`${q.source} / ${q.refId}: ${e.promql}`);
    }
    expect(empty).toEqual([]);
  });

  test('a run from before the rules: every panel has data with source = raw; the switched ones have none recorded', async () => {
    const w: TimeWindow = { from: oldRun.start, to: oldRun.end, stepSeconds: 15, rateInterval: '1m' };
    const emptyRaw: string[] = [];
    const recordedData: string[] = [];
    // cAdvisor series are not k6's (this Prometheus has none; dashboards.prometheus.test.ts writes and checks them)
    for (const q of NATIVE.filter((x) => !x.expr.includes('container_'))) {
      const raw = await evaluate(prom, q, vars(oldRun.testid, SOURCE_VALUES.raw), w);
      if (!hasData(raw)) emptyRaw.push(`${q.source} / ${q.refId}: ${raw.promql}`);
      // a count shown as 0 when there is none (`or vector(0)`) answers 0 from either side
      if (switchedQueries.includes(q) && !q.expr.endsWith(' or vector(0)')) {
        const recorded = await evaluate(prom, q, vars(oldRun.testid, SOURCE_VALUES.recorded), w);
        if (hasData(recorded)) recordedData.push(`${q.source} / ${q.refId}`);
      }
    }
    expect(emptyRaw).toEqual([]);
    expect(recordedData).toEqual([]);
  });
});
