/**
 * Integration: the comparison dashboard against a real Prometheus holding synthetic k6 runs pushed at different
 * times (test/support/k6-run.ts). The hidden `shift` variable is evaluated as Grafana would (query_result at the end of
 * the time range), then every panel with it: the baseline's curves, shifted, must equal the run's at the same time
 * since start.
 */
import { monitoringValues } from '../../constructs/src/monitoring/monitoring-stack';
import { parsePlatformConfig } from '../../constructs/src/config/platform-config';
import { pushK6Run, type K6RunOptions, type K6RunTruth } from '../../test/support/k6-run';
import { startPrometheus, type PrometheusHandle } from '../../test/support/prometheus';
import { COMPARE_CURVES, COMPARE_STATS, k6CompareDashboard } from '../src/k6-compare';
import { evaluate, type EvaluatedQuery, type TimeWindow } from './grafana-eval';
import { dashboardQueries, type VariableValues } from './queries';

const RUN: Omit<K6RunOptions, 'testid'> = {
  runners: 2,
  durationSeconds: 120,
  requestsPerSecond: 10,
  urls: [{ url: 'http://target.local/', failureFraction: 0.05 }],
  checks: [{ name: 'status is 200', failFraction: 0.03 }],
};

let prom: PrometheusHandle;
const runs: Record<string, K6RunTruth> = {};
const queries = dashboardQueries(k6CompareDashboard());
/** The end of the newest run, whole seconds (the runs' starts differ by whole seconds). */
const END = Math.floor(Date.now() / 1000) * 1000 - 60_000;
/** A full hour at least 10 minutes before END: the run cmp-hour starts a minute before it and ends a minute after. */
const HOUR = Math.floor((END - 600_000) / 3600_000) * 3600_000;

beforeAll(async () => {
  prom = await startPrometheus({ spec: monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec });
  // pushed oldest first: Prometheus refuses samples far older than its newest
  runs.base = await pushK6Run(prom.writeUrl, { ...RUN, testid: 'cmp-base', endTime: END - 2 * 3600_000 - 17_000 });
  runs.hour = await pushK6Run(prom.writeUrl, { ...RUN, testid: 'cmp-hour', endTime: HOUR + 60_000 });
  runs.double = await pushK6Run(prom.writeUrl, {
    ...RUN,
    requestsPerSecond: 20,
    testid: 'cmp-double',
    endTime: Math.max(END - 1800_000, HOUR + 120_000),
  });
  runs.same = await pushK6Run(prom.writeUrl, { ...RUN, testid: 'cmp-same', endTime: END });
}, 120_000);
afterAll(async () => prom?.stop());

/** Grafana's view of the run `testid`: its own time range. */
const windowOf = (t: K6RunTruth): TimeWindow => ({ from: t.start, to: t.end, stepSeconds: 15, rateInterval: '1m' });

/** The `shift` variable as Grafana resolves it for the pair, then every panel query with it. */
async function view(testid: string, baseline: string, shiftOverride?: string) {
  const run = Object.values(runs).find((r) => r.testid === testid)!;
  const w = windowOf(run);
  // Grafana resolves the chained variables in order, each query_result at the end of the time range
  let vars: VariableValues = { datasource: 'prometheus', testid, baseline };
  for (const name of ['testid_start', 'baseline_start', 'shift']) {
    const answer = await evaluate(
      prom,
      queries.find((q) => q.source === `variable ${name}`)!,
      vars,
      w,
    );
    expect({ name, type: answer.data.resultType }).toEqual({ name, type: 'scalar' });
    vars = { ...vars, [name]: (answer.data.result as [number, string])[1] };
  }
  if (shiftOverride !== undefined) vars = { ...vars, shift: shiftOverride };
  const shift = vars.shift!;
  const panels = new Map<string, EvaluatedQuery[]>();
  for (const q of queries.filter((x) => x.panelType !== 'variable')) {
    panels.set(q.source, [...(panels.get(q.source) ?? []), await evaluate(prom, q, vars, w)]);
  }
  return { shift: Number(shift), panels };
}

const curve = (e: EvaluatedQuery) => (e.series[0]?.values ?? []).map(([t, v]) => [t, Number(v)] as const);
const column = (e: EvaluatedQuery) => Object.fromEntries(e.series.map((s) => [s.metric.stat!, Number(s.value![1])]));

describe('k6 run vs baseline on real Prometheus', () => {
  test('shift is the difference of the two starts (first sample with active VUs), in milliseconds', async () => {
    expect((await view('cmp-same', 'cmp-base')).shift).toBe(runs.same!.firstSample - runs.base!.firstSample);
    // a baseline newer than the run: a negative offset
    expect((await view('cmp-base', 'cmp-same')).shift).toBe(runs.base!.firstSample - runs.same!.firstSample);
    expect(runs.same!.firstSample - runs.base!.firstSample).toBe(2 * 3600_000 + 17_000);
    // a run across a full hour (the start search goes by whole hours, then by seconds)
    expect(runs.hour!.firstSample).toBeLessThan(HOUR);
    expect((await view('cmp-hour', 'cmp-base')).shift).toBe(runs.hour!.firstSample - runs.base!.firstSample);
    expect((await view('cmp-same', 'cmp-hour')).shift).toBe(runs.same!.firstSample - runs.hour!.firstSample);
    // a run against itself: 1 ms, as Prometheus 2.42 refuses a zero offset
    expect((await view('cmp-same', 'cmp-same')).shift).toBe(1);
  });

  test.each([
    ['an older baseline', 'cmp-same', 'cmp-base'],
    ['a newer baseline', 'cmp-base', 'cmp-same'],
  ])('two identical runs, %s: every aligned curve equals the run at every step', async (_what, testid, baseline) => {
    const { panels } = await view(testid, baseline);
    for (const title of Object.keys(COMPARE_CURVES)) {
      const [run, base] = panels.get(title)!;
      expect({ title, points: curve(run!).length > 5 }).toEqual({ title, points: true });
      expect({ title, baseline: curve(base!) }).toEqual({ title, baseline: curve(run!) });
    }
    // AND the table: the same numbers, no change
    const [a, b, change] = panels.get('Run vs baseline')!;
    expect(Object.keys(column(a!)).sort()).toEqual(Object.keys(COMPARE_STATS).sort());
    expect(column(b!)).toEqual(column(a!));
    expect(column(change!)).toEqual(Object.fromEntries(Object.keys(COMPARE_STATS).map((k) => [k, 0])));
    expect(column(a!).requests).toBe(runs.same!.totals.requests);
    expect(column(a!)['error ratio %']).toBeCloseTo(runs.same!.totals.errorRate * 100, 9);
  });

  test('without the shift the baseline has no data in the run window (the alignment is what matches them)', async () => {
    const { panels } = await view('cmp-same', 'cmp-base', '1');
    expect(curve(panels.get('Request rate')![1]!)).toEqual([]);
  });

  test('double the load: twice the request rate at every step, +100 % requests in the table', async () => {
    const { panels } = await view('cmp-double', 'cmp-base');
    const [run, base] = panels.get('Request rate')!;
    // steps whose rate window holds the series' first push are extrapolated from each series' own first sample (a
    // failed-request series starts later than its total): compared once the window is inside the run
    const inside = (c: ReturnType<typeof curve>) => c.filter(([t]) => t * 1000 >= runs.double!.firstSample + 75_000);
    const r = inside(curve(run!));
    expect(r.length).toBeGreaterThan(2);
    expect(inside(curve(base!)).map(([t, v]) => [t, v * 2])).toEqual(r.map(([t, v]) => [t, expect.closeTo(v, 9)]));
    const [a, b, change] = panels.get('Run vs baseline')!;
    expect([column(a!).requests, column(b!).requests]).toEqual([runs.double!.totals.requests, runs.base!.totals.requests]);
    expect(column(change!).requests).toBeCloseTo(1, 12);
    expect(column(b!)['peak VUs']).toBe(column(a!)['peak VUs']);
  });
});
