/**
 * `npx tsx dashboards/compare-reference.ts`: runs our panel queries and the reference dashboards' queries (grafana.com
 * 18030 native / 19665 classic, as described in k6's documentation) on the same synthetic run with known
 * truth, and prints what each returns and how long Prometheus takes (median of 5). Output goes to docs/dashboards.md by
 * hand. Never run by the tests (no wall-time assertions anywhere).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { monitoringValues } from '@k6-platform/constructs/internal';
import { parsePlatformConfig } from '@k6-platform/constructs/internal';
import { pushK6Run, type K6RunOptions } from '../test/support/k6-run';
import { startPrometheus, type PromSeriesResult, type PrometheusHandle } from '../test/support/prometheus';
import { substituteVariables } from './test/queries';

/**
 * The compared queries, ours and the reference's, with `$testid`, `$__range` and `$__rate_interval` left for
 * substitution. Kept as data (reference-queries.json) so bench/recording-rules.ts times the same strings without
 * importing the dashboards.
 */
interface Pair {
  readonly what: string;
  readonly ours: string;
  readonly reference: string;
  /** Instant at the end of the range (stats) or at `lateBy` ms after the run's end. */
  readonly lateBy?: number;
}

const PAIRS = (JSON.parse(readFileSync(path.join(__dirname, 'reference-queries.json'), 'utf8')) as { pairs: Pair[] }).pairs;

/** The truth of each pair, in the order of reference-queries.json. */
const TRUTHS: ((t: Awaited<ReturnType<typeof pushK6Run>>) => string)[] = [
  (t) => String(t.totals.requests),
  (t) => String(t.totals.requests),
  (t) => t.totals.errorRate.toFixed(5),
  (t) => t.quantile(0.95).toFixed(4),
  (t) => t.quantile(0.95, { failed: false }).toFixed(4),
  (t) => t.totals.checksRate.toFixed(5),
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
    for (const [i, p] of PAIRS.entries()) {
      const at = truth.end + (p.lateBy ?? 0);
      const vars = { testid: 'compare', __range: `${Math.round((at - truth.start) / 1000)}s`, __rate_interval: '1m' };
      const ours = await timed(prom, substituteVariables(p.ours, vars), at);
      const ref = await timed(prom, substituteVariables(p.reference, vars), at);
      rows.push(`| ${p.what} | ${TRUTHS[i]!(truth)} | ${show(ours.result)} | ${show(ref.result)} | ${ours.ms.toFixed(1)} | ${ref.ms.toFixed(1)} |`);
    }
    process.stdout.write(`${rows.join('\n')}\n`);
  } finally {
    await prom.stop();
  }
}

void main();
