/**
 * Integration: the Browser row of both load-test dashboards against a real Prometheus holding browser-module samples
 * written as k6's remote-write output writes them (names and types of k6 v1.7.1 k6ext/metrics.go; native histograms,
 * or classic stat gauges), with known truth; and a threshold on a web vital judged by the verdict's query.
 */
import { monitoringValues } from '../../constructs/src/monitoring/monitoring-stack';
import { parsePlatformConfig } from '../../constructs/src/config/platform-config';
import { thresholdQueries } from '../../constructs/src/k6/thresholds';
import { k6Percentile } from '../../test/support/k6-run';
import { startPrometheus, type PrometheusHandle } from '../../test/support/prometheus';
import { bucketErrorBound, NativeHistogramBuilder, pushSeries, type RemoteWriteSeries } from '../../test/support/remote-write';
import { k6LoadTestClassicDashboard, k6LoadTestDashboard } from '../src';
import { WEB_VITALS } from '../src/browser-panels';
import { evaluate, type EvaluatedQuery, onlyValue, type TimeWindow } from './grafana-eval';
import { dashboardQueries, oneRunValues } from './queries';

const RUNNERS = 2;
const PUSHES = 36;
const END = Math.floor(Date.now() / 1000) * 1000 - 60_000;
const START = END - PUSHES * 5000;

/** One observation: a series' labels (without the name) and a value in k6's unit (ms for times). */
interface Obs {
  readonly metric: string;
  readonly labels: Record<string, string>;
  readonly value: number;
  readonly step: number;
}

const rating = (v: (typeof WEB_VITALS)[number], x: number) => (x <= v.good ? 'good' : x <= v.poor ? 'needs-improvement' : 'poor');
const isTime = (metric: string) => metric !== 'browser_web_vital_cls';

/** Every observation of a run: one page load per runner and push (its six web vitals), 5 requests per load. */
function observations(testid: string): Obs[] {
  const out: Obs[] = [];
  for (let step = 1; step <= PUSHES; step++) {
    for (let r = 0; r < RUNNERS; r++) {
      const base = { testid, instance_id: String(r), scenario: 'ui' };
      WEB_VITALS.forEach((v, i) => {
        // spread over good, needs improvement and poor: a value in v's own unit (seconds, or the CLS score)
        const x = v.good * (0.4 + ((step * 7 + r * 3 + i) % 10) * 0.17);
        out.push({
          metric: v.metric,
          labels: { ...base, url: 'http://target.local/', rating: rating(v, x) },
          value: isTime(v.metric) ? x * 1000 : x,
          step,
        });
      });
      for (let q = 0; q < 5; q++) {
        const status = q < 4 ? '200' : '404';
        const labels = {
          ...base,
          url: `http://target.local/${status === '200' ? 'app.js' : 'missing.png'}`,
          method: 'GET',
          status,
          resource_type: 'Script',
        };
        out.push({ metric: 'browser_http_req_duration', labels, value: 20 + ((step * 13 + r * 5 + q * 11) % 40) * 3, step });
      }
    }
  }
  return out;
}

const key = (o: Obs) => JSON.stringify([o.metric, o.labels]);

/** The series k6 would write: a cumulative native histogram, or the classic stats, per series and push. */
function series(obs: readonly Obs[], mode: 'native' | 'classic'): RemoteWriteSeries[] {
  const groups = new Map<string, Obs[]>();
  for (const o of obs) groups.set(key(o), [...(groups.get(key(o)) ?? []), o]);
  const out: RemoteWriteSeries[] = [];
  for (const list of groups.values()) {
    const { metric, labels } = list[0]!;
    // k6 v1.7.1 remotewrite/trend.go adaptUnit: times in seconds
    const unit = (v: number) => (isTime(metric) ? v / 1000 : v);
    const upTo = (step: number) => list.filter((o) => o.step <= step).map((o) => unit(o.value));
    const steps = [...new Set(list.map((o) => o.step))];
    if (mode === 'native') {
      const h = new NativeHistogramBuilder();
      const histograms = steps.map((s) => {
        for (const o of list.filter((x) => x.step === s)) h.observe(unit(o.value));
        return h.snapshot(START + s * 5000);
      });
      out.push({ labels: { __name__: `k6_${metric}${isTime(metric) ? '_seconds' : ''}`, ...labels }, histograms });
      continue;
    }
    for (const [stat, q] of [
      ['p90', 0.9],
      ['p95', 0.95],
      ['p99', 0.99],
      ['med', 0.5],
    ] as const) {
      const samples = steps.map((s) => ({
        value: k6Percentile(
          [...upTo(s)].sort((a, b) => a - b),
          q,
        ),
        timestamp: START + s * 5000,
      }));
      out.push({ labels: { __name__: `k6_${metric}_${stat}`, ...labels }, samples });
    }
    if (metric === 'browser_http_req_duration') {
      const failed = labels.status === '404' ? 1 : 0;
      out.push({
        labels: { __name__: 'k6_browser_http_req_failed_rate', ...labels },
        samples: steps.map((s) => ({ value: failed, timestamp: START + s * 5000 })),
      });
    }
  }
  return out;
}

let prom: PrometheusHandle;
const obs = { native: observations('browser-native'), classic: observations('browser-classic') };
const results = new Map<string, EvaluatedQuery[]>();
const w: TimeWindow = { from: START, to: END, stepSeconds: 15, rateInterval: '1m' };

beforeAll(async () => {
  prom = await startPrometheus({ spec: monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec });
  await pushSeries(prom.writeUrl, [...series(obs.native, 'native'), ...series(obs.classic, 'classic')]);
  for (const [mode, d] of [
    ['native', k6LoadTestDashboard()],
    ['classic', k6LoadTestClassicDashboard()],
  ] as const) {
    const vars = oneRunValues(`browser-${mode}`);
    const out: EvaluatedQuery[] = [];
    for (const q of dashboardQueries(d).filter((x) => x.source.startsWith('Browser'))) out.push(await evaluate(prom, q, vars, w));
    results.set(mode, out);
  }
}, 120_000);
afterAll(async () => prom?.stop());

const find = (mode: string, title: string, refId = 'A') => results.get(mode)!.find((e) => e.query.source === title && e.query.refId === refId)!;

describe.each(['native', 'classic'] as const)('the Browser row, %s', (mode) => {
  test('every browser panel has data', () => {
    const all = results.get(mode)!;
    expect(all.length).toBeGreaterThanOrEqual(WEB_VITALS.length + 4);
    expect(all.filter((e) => !e.series.some((s) => s.value !== undefined || (s.values?.length ?? 0) > 0)).map((e) => e.query.source)).toEqual([]);
  });

  test('each web vital stat is its p75 over all page loads (native: within the bucket error; classic: the worst series p90)', () => {
    const relativeErrors = WEB_VITALS.map((v) => {
      const title = mode === 'native' ? `Browser ${v.label} p75` : `Browser ${v.label} p90 (worst series)`;
      const shown = onlyValue(find(mode, title));
      const truth =
        mode === 'native'
          ? k6Percentile(
              afterFirstPush(v.metric).sort((a, b) => a - b),
              0.75,
            )
          : worstSeriesP90(v.metric);
      return { vital: v.label, error: Math.abs(shown - truth) / truth };
    });
    // native quantiles are exact to a bucket; classic shows the gauge k6 wrote
    const bound = mode === 'native' ? bucketErrorBound() : 1e-9;
    expect(relativeErrors.filter((e) => !(e.error <= bound))).toEqual([]);
  });
});

/**
 * The native observations `increase` over the run counts: each series' first push is its starting point, not counted
 * (docs/dashboards.md, "How the numbers are computed"); a web vital's series per rating starts with its first sample.
 */
function afterFirstPush(metric: string): number[] {
  const list = obs.native.filter((x) => x.metric === metric);
  const first = new Map<string, number>();
  for (const o of list) first.set(key(o), Math.min(first.get(key(o)) ?? Infinity, o.step));
  return list.filter((o) => o.step > first.get(key(o))!).map((o) => (isTime(metric) ? o.value / 1000 : o.value));
}

/** The highest p90 of any classic series of a metric (what the classic stat shows). */
function worstSeriesP90(metric: string): number {
  const bySeries = new Map<string, number[]>();
  for (const o of obs.classic.filter((x) => x.metric === metric))
    bySeries.set(key(o), [...(bySeries.get(key(o)) ?? []), isTime(metric) ? o.value / 1000 : o.value]);
  return Math.max(
    ...[...bySeries.values()].map((l) =>
      k6Percentile(
        l.sort((a, b) => a - b),
        0.9,
      ),
    ),
  );
}

describe('failed browser requests', () => {
  test('native: 404s per second by status, at the rate they were sent (2 runners x 1 per 5 s)', () => {
    const e = find('native', 'Browser failed requests');
    expect(e.series.map((s) => s.metric.status)).toEqual(['404']);
    const inside = e.series[0]!.values!.filter(([t]) => t * 1000 >= START + 75_000).map(([, v]) => Number(v));
    expect(inside.length).toBeGreaterThan(1);
    expect(inside).toEqual(inside.map(() => expect.closeTo((RUNNERS * 1) / 5, 9)));
  });

  test("classic: k6's failed ratio per URL, 1 for the missing image, 0 for the script", () => {
    const e = find('classic', 'Browser failed request ratio by URL (worst series)');
    const last = Object.fromEntries(e.series.map((s) => [s.metric.url, Number(s.values!.at(-1)![1])]));
    expect(last).toEqual({ 'http://target.local/missing.png': 1, 'http://target.local/app.js': 0 });
  });
});

test('a threshold on a web vital is typed as the browser module registers it: the verdict reads the seconds histogram, in ms', async () => {
  const [q] = thresholdQueries({ browser_web_vital_lcp: ['p(75)<2500'] }, { testid: 'browser-native', window: PUSHES * 5 + 5 });
  expect(q!.promql).toContain('k6_browser_web_vital_lcp_seconds');
  const data = await prom.query(q!.promql, START + PUSHES * 5000);
  const shown = Number((data.result as { value: [number, string] }[])[0]!.value[1]);
  const truth =
    k6Percentile(
      afterFirstPush('browser_web_vital_lcp').sort((a, b) => a - b),
      0.75,
    ) * 1000;
  expect(Math.abs(shown - truth) / truth).toBeLessThanOrEqual(bucketErrorBound());
});
