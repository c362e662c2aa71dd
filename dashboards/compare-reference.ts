/**
 * `npx tsx dashboards/compare-reference.ts`: runs our panel queries and the reference dashboards' queries (grafana.com
 * 18030 native / 19665 classic, as described in k6's documentation) on the same synthetic run with known
 * truth, and prints what each returns and how long Prometheus takes (median of 5). Output goes to docs/dashboards.md by
 * hand. Never run by the tests (no wall-time assertions anywhere).
 */
import { monitoringValues } from '@k6-platform/constructs/internal';
import { parsePlatformConfig } from '@k6-platform/constructs/internal';
import { pushK6Run, type K6RunOptions } from '../test/support/k6-run';
import { startPrometheus, type PromSeriesResult, type PrometheusHandle } from '../test/support/prometheus';
import { substituteVariables } from './test/queries';

interface Pair {
  readonly what: string;
  readonly truth: (t: Awaited<ReturnType<typeof pushK6Run>>) => string;
  readonly ours: string;
  readonly reference: string;
  /** Instant at the end of the range (stats) or at `lateBy` ms after the run's end. */
  readonly lateBy?: number;
}

const SEL = 'testid=~"$testid"';
const HTTP = 'testid=~"$testid", scenario=~".*", name=~".*"';

const PAIRS: Pair[] = [
  {
    what: 'Total requests (stat, viewed at the end of the run)',
    truth: (t) => String(t.totals.requests),
    ours: `sum (last_over_time(k6_http_reqs_total{${HTTP}}[$__range]))`,
    reference: `sum(k6_http_reqs_total{${SEL}})`,
  },
  {
    what: 'Total requests (stat, viewed 10 min after the run)',
    truth: (t) => String(t.totals.requests),
    ours: `sum (last_over_time(k6_http_reqs_total{${HTTP}}[$__range]))`,
    reference: `sum(k6_http_reqs_total{${SEL}})`,
    lateBy: 600_000,
  },
  {
    what: 'Error ratio over the run',
    truth: (t) => t.totals.errorRate.toFixed(5),
    ours: `(sum (last_over_time(k6_http_reqs_total{${HTTP}, expected_response="false"}[$__range])) or sum (last_over_time(k6_http_reqs_total{${HTTP}}[$__range])) * 0) / sum (last_over_time(k6_http_reqs_total{${HTTP}}[$__range]))`,
    reference: `avg(k6_http_req_failed_rate{${SEL}})`,
  },
  {
    what: 'http_req_duration p95 over the run (s)',
    truth: (t) => t.quantile(0.95).toFixed(4),
    ours: `histogram_quantile(0.95, sum (increase(k6_http_req_duration_seconds{${HTTP}}[$__range])))`,
    reference: `histogram_quantile(0.95, sum by (le) (rate(k6_http_req_duration_seconds{${SEL}}[$__rate_interval])))`,
  },
  {
    what: 'Duration by expected_response="true", p95 (s) (upstream queries waiting here)',
    truth: (t) => t.quantile(0.95, { failed: false }).toFixed(4),
    ours: `histogram_quantile(0.95, sum by (expected_response) (increase(k6_http_req_duration_seconds{${HTTP}, expected_response="true"}[$__range])))`,
    reference: `histogram_quantile(0.95, sum by (le, expected_response) (increase(k6_http_req_waiting_seconds{${SEL}, expected_response="true"}[$__range])))`,
  },
  {
    what: 'Checks pass ratio over the run',
    truth: (t) => t.totals.checksRate.toFixed(5),
    ours:
      `sum (last_over_time(k6_checks_rate{${SEL}}[$__range]) * on (testid, instance_id, scenario) group_left sum by (testid, instance_id, scenario) (last_over_time(k6_iterations_total{${SEL}}[$__range]))) / ` +
      `sum ((last_over_time(k6_checks_rate{${SEL}}[$__range]) * 0 + 1) * on (testid, instance_id, scenario) group_left sum by (testid, instance_id, scenario) (last_over_time(k6_iterations_total{${SEL}}[$__range])))`,
    reference: `avg(k6_checks_rate{${SEL}})`,
  },
];

const RUN: K6RunOptions = {
  testid: 'compare',
  runners: 3,
  scenarios: ['browse', 'api'],
  urls: [
    { url: 'http://target.local/api/items', failureFraction: 0.1 },
    { url: 'http://target.local/api/users', failureFraction: 0.02 },
    { url: 'http://target.local/' },
    { url: 'http://target.local/login', method: 'POST', failureFraction: 0.05 },
  ],
  durationSeconds: 600,
  requestsPerSecond: [20, 20, 8],
  latency: [{ medianMs: 80 }, { medianMs: 90 }, { medianMs: 300 }],
  checks: [{ name: 'status is 200' }, { name: 'body has items', failFraction: [0.01, 0.02, 0.2] }],
};

function show(result: PromSeriesResult[]): string {
  if (result.length === 0) return '(no data)';
  const v = result.map((r) => Number(r.value?.[1]));
  return v.map((x) => (Number.isInteger(x) ? String(x) : x.toFixed(5))).join(', ');
}

async function timed(prom: PrometheusHandle, expr: string, at: number): Promise<{ result: PromSeriesResult[]; ms: number }> {
  const times: number[] = [];
  let result: PromSeriesResult[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    result = (await prom.query(expr, at)).result as PromSeriesResult[];
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { result, ms: times[2]! };
}

async function main(): Promise<void> {
  const prom = await startPrometheus({ spec: monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec, lookbackDelta: '5m' });
  try {
    const end = Date.now() - 660_000;
    const truth = await pushK6Run(prom.writeUrl, { ...RUN, endTime: end });
    const rows = ['| what | truth | ours | reference | ours ms | reference ms |', '|---|---|---|---|---|---|'];
    for (const p of PAIRS) {
      const at = truth.end + (p.lateBy ?? 0);
      const vars = { testid: 'compare', __range: `${Math.round((at - truth.start) / 1000)}s`, __rate_interval: '1m' };
      const ours = await timed(prom, substituteVariables(p.ours, vars), at);
      const ref = await timed(prom, substituteVariables(p.reference, vars), at);
      rows.push(`| ${p.what} | ${p.truth(truth)} | ${show(ours.result)} | ${show(ref.result)} | ${ours.ms.toFixed(1)} | ${ref.ms.toFixed(1)} |`);
    }
    process.stdout.write(`${rows.join('\n')}\n`);
  } finally {
    await prom.stop();
  }
}

void main();
