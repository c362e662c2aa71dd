/**
 * The three dashboards against a real VictoriaMetrics 1.145.0 (the datasource of a `monitoring.backend` of kind
 * victoriametrics), holding a native-mode and a classic-mode k6 run: which panels work there and which cannot.
 * VictoriaMetrics stores a remote-written native histogram as `_count`, `_sum` and `_bucket{vmrange}` series
 * (v1.145.0 lib/prompb/write_request_unmarshaler.go `appendTimeSeries`), so every query over a native histogram name
 * (`k6_<trend>_seconds`, and the recording rules' `...:k6_<trend>_seconds:rate1m`, which need Prometheus' rule
 * evaluation of native histograms) answers nothing; everything else answers as on Prometheus. The runner panels read
 * cAdvisor series, which live in the stack's Prometheus, not in the backend.
 */
import { pushK6Run, type K6RunOptions, type K6RunTruth } from '../../test/support/k6-run';
import type { PrometheusHandle } from '../../test/support/prometheus';
import { startVictoriaMetrics, type VictoriaMetricsHandle } from '../../test/support/victoria-metrics';
import { k6LoadTestClassicDashboard, k6LoadTestDashboard, k6RunsDashboard } from '../src';
import { evaluate, type EvaluatedQuery, hasData, onlyValue, type TimeWindow } from './grafana-eval';
import { dashboardQueries, oneRunValues, type DashboardQuery, type VariableValues } from './queries';

const RUN: Omit<K6RunOptions, 'testid' | 'mode'> = {
  runners: 3,
  scenarios: ['browse', 'api'],
  urls: [{ url: 'http://t/a', failureFraction: 0.1 }, { url: 'http://t/b' }, { url: 'http://t/login', method: 'POST' }],
  durationSeconds: 180,
  droppedIterations: [0, 0, 30],
  checks: [{ name: 'status is 200' }, { name: 'body ok', failFraction: [0.01, 0.02, 0.2] }],
};
/** A query over a native histogram name: raw (`k6_x_seconds{`) or recorded (`:k6_x_seconds:rate1m`). */
const NATIVE_HISTOGRAM = /\bk6_[a-z_]+_seconds\{|:k6_[a-z_]+_seconds:rate1m\b/;
/** The native-histogram functions of Prometheus that MetricsQL v1.145.0 does not have. */
const PROMETHEUS_HISTOGRAM_FUNCTION = /\b(histogram_count|histogram_sum|histogram_avg|histogram_fraction|histogram_stddev|histogram_stdvar)\(/;
/** Queries VictoriaMetrics refused for such a function. */
const unsupported: string[] = [];
/** A query over cAdvisor series of the runner pods. */
const CADVISOR = /\bcontainer_[a-z_]+\{/;
/**
 * A subquery without a step (`[$__range:]`). VictoriaMetrics evaluates it with the query's step
 * (docs/victoriametrics/MetricsQL.md v1.145.0 "Implicit query conversions": a missing subquery step becomes `1i`),
 * 5 minutes for an instant query without one (app/vmselect/prometheus/prometheus.go `defaultStep`), at points aligned
 * to that step: over a shorter range it answers only when such a point falls inside, so whether it answers depends on
 * the wall clock. The dashboards give every subquery its step; one without would be left out of the exact lists below,
 * and the test of the peak request rate names it.
 */
const SUBQUERY_WITHOUT_STEP = /:\]/;

let vm: VictoriaMetricsHandle;
const truths = {} as Record<'native' | 'classic', K6RunTruth>;
const results = new Map<string, EvaluatedQuery[]>();

const windowOf = (t: K6RunTruth): TimeWindow => ({ from: t.start, to: t.end, stepSeconds: 15, rateInterval: '1m' });
const pick = (testid: string): VariableValues => oneRunValues(testid);

beforeAll(async () => {
  vm = await startVictoriaMetrics();
  truths.native = await pushK6Run(vm.writeUrl, { ...RUN, testid: 'dash-native', mode: 'native' });
  truths.classic = await pushK6Run(vm.writeUrl, { ...RUN, testid: 'dash-classic', mode: 'classic', endTime: truths.native.end });
  await vm.flush();
  // grafana-eval.ts needs only query and queryRange, which the VictoriaMetrics handle has with the same meaning.
  const api = vm as unknown as PrometheusHandle;
  const evaluateAll = async (uid: string, queries: DashboardQuery[], vars: VariableValues, w: TimeWindow) => {
    const out: EvaluatedQuery[] = [];
    for (const q of queries) {
      try {
        out.push(await evaluate(api, q, vars, w));
      } catch (e) {
        // Prometheus' native-histogram functions over a native name: VictoriaMetrics refuses the query (HTTP 422
        // "unsupported function"), Grafana shows the panel's error; it has nothing to answer anyway. Anything else fails.
        const fn = PROMETHEUS_HISTOGRAM_FUNCTION.exec(q.expr)?.[1];
        if (fn === undefined || !NATIVE_HISTOGRAM.test(q.expr) || !String(e).includes(`unsupported function "${fn}"`)) throw e;
        unsupported.push(`${uid}: ${q.source} / ${q.refId}`);
        out.push({ query: q, promql: q.expr, data: { resultType: 'matrix', result: [] }, series: [], ms: 0 });
      }
    }
    results.set(uid, out);
  };
  await evaluateAll('k6-load-test', dashboardQueries(k6LoadTestDashboard()), pick('dash-native'), windowOf(truths.native));
  await evaluateAll('k6-load-test-classic', dashboardQueries(k6LoadTestClassicDashboard()), pick('dash-classic'), windowOf(truths.classic));
  await evaluateAll(
    'k6-runs',
    dashboardQueries(k6RunsDashboard()),
    { datasource: 'prometheus', testid: '.+', runner_namespace: 'k6' },
    { ...windowOf(truths.native), from: truths.native.firstVusSample - 60_000 },
  );
});
afterAll(() => vm.stop());

/**
 * Panels without data in these runs on any backend: the reasons of an inconclusive run (these runs have none) and the
 * Browser row (no browser samples); dashboards/test/validity.prometheus.test.ts and browser.prometheus.test.ts cover
 * them on Prometheus.
 */
const NO_DATA_HERE = /^(Why .*inconclusive|Browser .*|Runners reported)$/;
/**
 * The overall verdict stat: it answers on VictoriaMetrics whatever the mode, as the validity checks and the classic
 * fallback of each threshold always answer; in native mode its latency thresholds find no data there and fail
 * (docs/backends.md).
 */
const VERDICT = 'Verdict';
const empty = (uid: string) =>
  results.get(uid)!.filter((e) => !hasData(e) && !SUBQUERY_WITHOUT_STEP.test(e.promql) && !NO_DATA_HERE.test(e.query.source));
const named = (e: EvaluatedQuery) => `${e.query.source} / ${e.query.refId}`;
const find = (uid: string, source: string) => results.get(uid)!.find((e) => e.query.source === source && e.query.refId === 'A')!;

test('classic dashboard: every k6 query answers; only the cAdvisor runner panels are empty', () => {
  const all = results.get('k6-load-test-classic')!;
  expect(all.length).toBeGreaterThan(40);
  const cadvisor = all.filter((e) => CADVISOR.test(e.promql) && !NO_DATA_HERE.test(e.query.source) && e.query.source !== VERDICT);
  expect(empty('k6-load-test-classic').map(named)).toEqual(cadvisor.map(named));
  // the three runner panels and the CPU and memory checks of the validity row (a check and its observed value each)
  expect(cadvisor.length).toBe(7);
});

test('native dashboard: exactly the queries over native histogram names are empty (and the cAdvisor ones)', () => {
  const all = results.get('k6-load-test')!;
  const nativeQueries = all.filter((e) => NATIVE_HISTOGRAM.test(e.promql));
  expect(nativeQueries.length).toBeGreaterThan(20);
  expect(empty('k6-load-test').map(named)).toEqual(
    all
      .filter((e) => !NO_DATA_HERE.test(e.query.source) && e.query.source !== VERDICT)
      .filter((e) => NATIVE_HISTOGRAM.test(e.promql) || CADVISOR.test(e.promql))
      .map(named),
  );
});

test('no subquery leaves its step to the backend, and the peak request rate answers on both load-test dashboards', () => {
  const stepless = ['k6-load-test', 'k6-load-test-classic', 'k6-runs'].flatMap((uid) =>
    results
      .get(uid)!
      .filter((e) => SUBQUERY_WITHOUT_STEP.test(e.promql))
      .map((e) => `${uid}: ${named(e)}`),
  );
  // VictoriaMetrics gives a subquery without a step the query's step (MetricsQL.md v1.145.0 "Implicit query
  // conversions"), 5 minutes for an instant query: it missed short ranges and sampled long ones
  expect(stepless).toEqual([]);
  const peak = ['k6-load-test', 'k6-load-test-classic'].map((uid) => results.get(uid)!.find((e) => e.query.source === 'Peak request rate')!);
  expect(peak.map((e) => [e.query.uid, hasData(e)])).toEqual([
    ['k6-load-test', true],
    ['k6-load-test-classic', true],
  ]);
});

test("the one Prometheus-only histogram function: the browser row's failed requests, refused by VictoriaMetrics", () => {
  expect(unsupported).toEqual(['k6-load-test: Browser failed requests / A']);
});

test('runs dashboard: every query answers', () => {
  expect(results.get('k6-runs')!.length).toBeGreaterThan(6);
  expect(empty('k6-runs').map(named)).toEqual([]);
});

test.each(['native', 'classic'] as const)('%s: the totals equal what was sent, as on Prometheus', (mode) => {
  const uid = mode === 'native' ? 'k6-load-test' : 'k6-load-test-classic';
  const t = truths[mode];
  expect(onlyValue(find(uid, 'Total requests'))).toBe(t.totals.requests);
  expect(onlyValue(find(uid, 'Failed requests'))).toBe(t.totals.failedRequests);
  expect(onlyValue(find(uid, 'Error ratio'))).toBeCloseTo(t.totals.errorRate, 12);
  expect(onlyValue(find(uid, 'Dropped iterations'))).toBe(30);
});
