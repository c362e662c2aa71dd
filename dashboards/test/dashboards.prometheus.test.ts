/**
 * Integration: every query of every panel of the three dashboards against a real Prometheus holding synthetic k6 runs
 * with known truth (3 runners x 2 scenarios x 4 URLs, 3 minutes, failures, failing checks, dropped iterations), in
 * native-histogram and classic mode, plus cAdvisor series of the runner pods.
 */
import { monitoringValues } from '../../constructs/src/monitoring/monitoring-stack';
import { parsePlatformConfig } from '../../constructs/src/config/platform-config';
import { type K6RunOptions, type K6RunTruth, pushK6Run } from '../../test/support/k6-run';
import { startPrometheus, type PrometheusHandle } from '../../test/support/prometheus';
import { bucketErrorBound, pushSeries, type RemoteWriteSeries } from '../../test/support/remote-write';
import { k6LoadTestClassicDashboard, k6LoadTestDashboard, k6RunsDashboard } from '../src';
import { evaluate, type EvaluatedQuery, hasData, onlyValue, type TimeWindow } from './grafana-eval';
import { dashboardQueries, oneRunValues, type DashboardQuery, type VariableValues } from './queries';

const RUNNERS = 3;
const URLS = [
  { url: 'http://target.local/api/items', failureFraction: 0.1 },
  { url: 'http://target.local/api/users', failureFraction: 0.02 },
  { url: 'http://target.local/' },
  { url: 'http://target.local/login', method: 'POST', failureFraction: 0.05 },
];
const RUN: Omit<K6RunOptions, 'testid' | 'mode'> = {
  runners: RUNNERS,
  scenarios: ['browse', 'api'],
  urls: URLS,
  durationSeconds: 180,
  requestsPerSecond: 8,
  latency: [{ medianMs: 80 }, { medianMs: 90 }, { medianMs: 300 }],
  checks: [{ name: 'status is 200' }, { name: 'body has items', failFraction: [0.01, 0.02, 0.2] }],
  droppedIterations: [0, 0, 30],
};
const NAMESPACE = 'k6';
/** CPU cores each runner pod uses in the synthetic cAdvisor data. */
const CORES = [0.5, 1, 1.5];

function cpuTimes(truth: K6RunTruth): number[] {
  const times: number[] = [];
  for (let t = truth.firstSample; t <= truth.end; t += 5000) times.push(t);
  return times;
}

/** cAdvisor-shaped series of a run's pods: 3 runner pods, a starter pod and a same-named pod in another namespace. */
function cadvisorSeries(truth: K6RunTruth): RemoteWriteSeries[] {
  const pods = [
    ...CORES.map((cores, i) => ({ ns: NAMESPACE, pod: `${truth.testid}-runner-${i}-x${i}b7c`, container: 'k6', cores })),
    { ns: NAMESPACE, pod: `${truth.testid}-starter-q8w2e`, container: 'starter', cores: 0.01 },
    { ns: 'other', pod: `${truth.testid}-runner-0-zzzzz`, container: 'k6', cores: 9 },
  ];
  const out: RemoteWriteSeries[] = [];
  for (const p of pods) {
    const times: number[] = [];
    for (let t = truth.firstSample; t <= truth.end; t += 5000) times.push(t);
    const labels = { namespace: p.ns, pod: p.pod, container: p.container };
    const counter = (perSecond: number) => times.map((t) => ({ value: ((t - truth.start) / 1000) * perSecond, timestamp: t }));
    out.push(
      { labels: { __name__: 'container_cpu_usage_seconds_total', ...labels }, samples: counter(p.cores) },
      // The pod-level cgroup series (container="") must not be counted twice.
      { labels: { __name__: 'container_cpu_usage_seconds_total', namespace: p.ns, pod: p.pod, container: '' }, samples: counter(p.cores) },
      { labels: { __name__: 'container_cpu_cfs_periods_total', ...labels }, samples: counter(10) },
      { labels: { __name__: 'container_cpu_cfs_throttled_periods_total', ...labels }, samples: counter(p.cores / 2) },
      {
        labels: { __name__: 'container_memory_working_set_bytes', ...labels },
        samples: times.map((t) => ({ value: 100e6 * (1 + p.cores), timestamp: t })),
      },
      { labels: { __name__: 'container_spec_memory_limit_bytes', ...labels }, samples: times.map((t) => ({ value: 2 * 1024 ** 3, timestamp: t })) },
    );
  }
  // kube-state-metrics' runner Job of the run (the validity row's planned runners)
  out.push({
    labels: { __name__: 'kube_job_spec_completions', namespace: NAMESPACE, job_name: `${truth.testid}-runner`, job: 'kube-state-metrics' },
    samples: cpuTimes(truth).map((t) => ({ value: RUNNERS, timestamp: t })),
  });
  return out;
}

let prom: PrometheusHandle;
const truths: Record<'native' | 'classic', K6RunTruth> = {} as Record<'native' | 'classic', K6RunTruth>;
const results = new Map<string, EvaluatedQuery[]>();

function windowOf(t: K6RunTruth): TimeWindow {
  return { from: t.start, to: t.end, stepSeconds: 15, rateInterval: '1m' };
}

/** Variables as a user would pick them: one run, every scenario and URL, p95 as the quantile, the raw series. */
function pick(testid: string): VariableValues {
  return oneRunValues(testid, { runner_namespace: NAMESPACE });
}

async function evaluateAll(uid: string, queries: DashboardQuery[], vars: VariableValues, w: TimeWindow): Promise<void> {
  const out: EvaluatedQuery[] = [];
  for (const q of queries) out.push(await evaluate(prom, q, vars, w));
  results.set(uid, out);
}

const find = (uid: string, source: string, refId = 'A'): EvaluatedQuery => {
  const e = results.get(uid)?.find((x) => x.query.source === source && x.query.refId === refId);
  if (e === undefined) throw new Error(`no query ${uid} / ${source} / ${refId}`);
  return e;
};

beforeAll(async () => {
  prom = await startPrometheus({ spec: monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec });
  truths.native = await pushK6Run(prom.writeUrl, { ...RUN, testid: 'dash-native', mode: 'native' });
  truths.classic = await pushK6Run(prom.writeUrl, { ...RUN, testid: 'dash-classic', mode: 'classic', endTime: truths.native.end });
  await pushSeries(prom.writeUrl, [...cadvisorSeries(truths.native), ...cadvisorSeries(truths.classic)]);

  await evaluateAll('k6-load-test', dashboardQueries(k6LoadTestDashboard()), pick('dash-native'), windowOf(truths.native));
  await evaluateAll('k6-load-test-classic', dashboardQueries(k6LoadTestClassicDashboard()), pick('dash-classic'), windowOf(truths.classic));
  // The runs list over a range that includes the paused phase (k6_vus = 0 before the start), as a user's range would.
  await evaluateAll(
    'k6-runs',
    dashboardQueries(k6RunsDashboard()),
    { datasource: 'prometheus', testid: '.+', runner_namespace: NAMESPACE },
    {
      ...windowOf(truths.native),
      from: truths.native.firstVusSample - 60_000,
    },
  );
});

afterAll(async () => {
  await prom?.stop();
});

describe.each(['k6-load-test', 'k6-load-test-classic', 'k6-runs'])('%s on real Prometheus', (uid) => {
  test('every query of every panel and variable returns data', () => {
    // GIVEN every query evaluated the way Grafana would
    const evaluated = results.get(uid)!;
    expect(evaluated.length).toBeGreaterThan(uid === 'k6-runs' ? 6 : 40);
    // THEN none comes back empty, but the reasons of an inconclusive run: these runs have none
    // (validity.prometheus.test.ts shows them for starved runs), and the Browser row: these runs have no browser
    // (browser.prometheus.test.ts writes browser samples)
    const reasons = /^(Why .*inconclusive|Browser .*)$/;
    expect(evaluated.filter((e) => reasons.test(e.query.source)).length).toBeGreaterThan(0);
    expect(
      evaluated.filter((e) => !hasData(e) && !reasons.test(e.query.source)).map((e) => `${e.query.source} / ${e.query.refId}: ${e.promql}`),
    ).toEqual([]);
  });
});

describe.each(['native', 'classic'] as const)('%s load-test dashboard against the truth', (mode) => {
  const uid = mode === 'native' ? 'k6-load-test' : 'k6-load-test-classic';

  test('total requests, failed requests, error ratio and dropped iterations equal what was sent', () => {
    const t = truths[mode];
    expect(onlyValue(find(uid, 'Total requests'))).toBe(t.totals.requests);
    expect(t.totals.requests).toBe(RUNNERS * 8 * 180);
    expect(onlyValue(find(uid, 'Failed requests'))).toBe(t.totals.failedRequests);
    expect(t.totals.failedRequests).toBeGreaterThan(0);
    expect(onlyValue(find(uid, 'Error ratio'))).toBeCloseTo(t.totals.errorRate, 12);
    expect(onlyValue(find(uid, 'Dropped iterations'))).toBe(30);
  });

  test('the per-runner panels show the 3 runners', () => {
    const duration = mode === 'classic' ? 'Request duration per runner (worst series)' : 'Request duration per runner';
    for (const title of ['VUs per runner', 'Request rate per runner', duration]) {
      expect({
        title,
        runners: find(uid, title)
          .series.map((s) => s.metric.instance_id)
          .sort(),
      }).toEqual({ title, runners: ['0', '1', '2'] });
    }
  });

  test('runner CPU and memory come from the 3 runner pods only, with their usage', () => {
    const t = truths[mode];
    const cpu = find(uid, 'Runner CPU');
    expect(cpu.series.map((s) => s.metric.pod).sort()).toEqual([0, 1, 2].map((i) => `${t.testid}-runner-${i}-x${i}b7c`));
    for (const s of cpu.series) {
      const i = Number(s.metric.pod!.split('-runner-')[1]!.split('-')[0]);
      const last = Number(s.values![s.values!.length - 1]![1]);
      expect(last).toBeCloseTo(CORES[i]!, 6);
    }
    expect(find(uid, 'Runner memory').series).toHaveLength(3);
    const throttled = find(uid, 'Runner CPU throttling').series.map((s) => Number(s.values![s.values!.length - 1]![1]));
    expect(throttled.sort((a, b) => a - b)).toEqual([0.025, 0.05, 0.075].map((x) => expect.closeTo(x, 9)));
  });

  test('the checks table shows each check at its true success ratio', () => {
    const t = truths[mode];
    const rows = find(uid, 'Checks by name').series;
    expect(rows.map((r) => r.metric.check).sort()).toEqual(['body has items', 'status is 200']);
    for (const r of rows) {
      const c = t.perCheck[r.metric.check!]!;
      expect({ check: r.metric.check, ratio: Number(r.value![1]) }).toEqual({ check: r.metric.check, ratio: expect.closeTo(c.passed / c.total, 9) });
    }
  });

  test('the requests-by-URL table covers every URL, method and status, and adds up to the total', () => {
    const rows = find(uid, 'Requests by URL', 'A').series;
    const t = truths[mode];
    expect(new Set(rows.map((r) => r.metric.name))).toEqual(new Set(URLS.map((u) => u.url)));
    expect(rows.reduce((n, r) => n + Number(r.value![1]), 0)).toBe(t.totals.requests);
    for (const r of rows) {
      expect(Number(r.value![1])).toBe(t.count({ name: r.metric.name!, method: r.metric.method!, status: r.metric.status! }));
    }
  });

  test('the pass/fail row judges over all runners with the verdict queries', () => {
    const t = truths[mode];
    // about 4% of the requests fail and a check fails 7.7% of the time: both FAIL, observed at their true values
    expect(onlyValue(find(uid, 'http_req_failed rate<0.01'))).toBe(0);
    expect(onlyValue(find(uid, 'http_req_failed rate<0.01 (observed)'))).toBeCloseTo(t.totals.errorRate, 9);
    expect(onlyValue(find(uid, 'checks rate>0.99'))).toBe(0);
    expect(onlyValue(find(uid, 'checks rate>0.99 (observed)'))).toBeCloseTo(t.totals.checksRate, 9);
  });
});

describe('native quantiles', () => {
  test('the run p95 is within the bucket error of the true p95 over all runners', () => {
    const t = truths.native;
    const truth = t.quantile(0.95);
    const shown = onlyValue(find('k6-load-test', 'Request duration p95 (run)'));
    expect(Math.abs(shown - truth) / truth).toBeLessThanOrEqual(bucketErrorBound());
  });

  test('the per-URL p95 and p99 are within the bucket error of the truth (rows with at least 500 requests)', () => {
    // Rows of a few dozen failed requests have too sparse a tail for a bucket-error bound on p99 (the rank of one
    // observation is then wider than a bucket), so the bound is checked where it is meaningful.
    const t = truths.native;
    let checked = 0;
    for (const [refId, q] of [
      ['D', 0.95],
      ['E', 0.99],
    ] as const) {
      for (const r of find('k6-load-test', 'Requests by URL', refId).series) {
        if (t.count({ name: r.metric.name!, method: r.metric.method!, status: r.metric.status! }) < 500) continue;
        checked++;
        const truth = t.quantile(q, { name: r.metric.name!, method: r.metric.method!, status: r.metric.status! });
        const shown = Number(r.value![1]);
        expect({ url: r.metric.name, status: r.metric.status, q, withinBucket: Math.abs(shown - truth) / truth <= bucketErrorBound() }).toEqual({
          url: r.metric.name,
          status: r.metric.status,
          q,
          withinBucket: true,
        });
      }
    }
    expect(checked).toBe(2 * URLS.length);
  });

  test('the p(95) pass/fail panel shows the verdict p95 (ms) within the bucket error, and its verdict', () => {
    const t = truths.native;
    const p95 = onlyValue(find('k6-load-test', 'http_req_duration p(95)<500 (observed)'));
    expect(Math.abs(p95 / 1000 - t.quantile(0.95)) / t.quantile(0.95)).toBeLessThanOrEqual(bucketErrorBound());
    expect(onlyValue(find('k6-load-test', 'http_req_duration p(95)<500'))).toBe(p95 < 500 ? 1 : 0);
  });

  test('the heatmap query returns native histograms per time step', () => {
    const heat = find('k6-load-test', 'Request duration heatmap');
    expect(heat.series).toHaveLength(1);
    expect(heat.series[0]!.histograms!.length).toBeGreaterThan(10);
  });

  test('percentile lines are ordered p50 <= p90 <= p95 <= p99 at every step', () => {
    const lines = ['A', 'B', 'C', 'D'].map((r) =>
      find('k6-load-test', 'Request duration percentiles', r).series[0]!.values!.map((v) => Number(v[1])),
    );
    for (let i = 0; i < lines[0]!.length; i++) {
      const at = lines.map((l) => l[i]!);
      expect([...at].sort((a, b) => a - b)).toEqual(at);
    }
  });
});

describe('runs dashboard', () => {
  test('lists both runs with their requests, error ratio, duration, p95 and checks', () => {
    const byRun = (refId: string) => Object.fromEntries(find('k6-runs', 'Runs', refId).series.map((s) => [s.metric.testid!, Number(s.value![1])]));
    const requests = byRun('C');
    expect(requests).toEqual({ 'dash-native': truths.native.totals.requests, 'dash-classic': truths.classic.totals.requests });
    const errors = byRun('D');
    expect(errors['dash-native']).toBeCloseTo(truths.native.totals.errorRate, 12);
    // start and end come from a subquery at $__interval resolution: each exact to one interval (15 s here); the start is
    // the first sample with active VUs, not the first k6_vus sample of the paused phase
    expect(truths.native.firstVusSample).toBeLessThan(truths.native.firstSample);
    const start = byRun('A');
    expect(start['dash-native']! - truths.native.firstSample).toBeGreaterThanOrEqual(0);
    expect(start['dash-native']! - truths.native.firstSample).toBeLessThan(15000);
    const duration = byRun('B');
    expect(Math.abs(duration['dash-native']! - (truths.native.end - truths.native.firstSample) / 1000)).toBeLessThanOrEqual(30);
    const p95 = byRun('E');
    expect(Object.keys(p95).sort()).toEqual(['dash-classic', 'dash-native']);
    expect(Math.abs(p95['dash-native']! - truths.native.quantile(0.95)) / truths.native.quantile(0.95)).toBeLessThanOrEqual(bucketErrorBound());
    const checks = byRun('F');
    expect(checks['dash-native']).toBeCloseTo(truths.native.totals.checksRate, 9);
  });

  test('the testid variable offers both runs', () => {
    const v = find('k6-runs', 'variable testid', 'var');
    expect([...new Set(v.series.map((s) => s.metric.testid))].sort()).toEqual(['dash-classic', 'dash-native']);
  });
});
