/**
 * `loadtest report` against the verdict on the same data: 1 h x 10 runners x 10 URLs of native-histogram data
 * (test/support/k6-run.ts) in one Prometheus (`PROMETHEUS_BIN`, else Debian's 2.42). Times, median of 3 after a
 * warm-up, interleaved: the verdict alone (cli/verdict `evaluateVerdict`: window search and every threshold of
 * bench/thresholds.ts), and the whole report (cli/report `buildReport`: the same verdict, then every metric of the
 * summary and every chart's subquery, at most 6 queries in flight). Target: the report within 2x the verdict.
 * Prints its figures; `benchReport` returns them (bench/index.ts wires it). Run alone: `npx tsx bench/report.ts`.
 */
import * as os from 'node:os';
import { monitoringValues, parsePlatformConfig } from '@k6-platform/constructs/internal';
import { table } from '../cli/output';
import { prometheusClient } from '../cli/prometheus/client';
import { buildReport } from '../cli/report/report';
import { evaluateVerdict } from '../cli/verdict/verdict';
import { pushK6Run, type SyntheticUrl } from '../test/support/k6-run';
import { startPrometheus } from '../test/support/prometheus';
import { machine, median, ms, timeMs } from './machine';
import { BENCH_THRESHOLDS } from './thresholds';

/** The report may take this many times the verdict's time on the same data. */
export const REPORT_TARGET_PER_VERDICT = 2;
const URLS: SyntheticUrl[] = Array.from({ length: 10 }, (_, i) => ({ url: `http://target.local/api/${i}`, name: `api-${i}`, failureFraction: 0.01 }));
const TESTID = 'bench-report';
const REPEATS = 3;

/** What the bench measured. */
export interface ReportBenchFigures {
  readonly prometheus: string;
  readonly pushMs: number;
  readonly verdictMs: number;
  readonly reportMs: number;
  /** Queries the report made (verdict included), and the summary's metrics and the charts' points. */
  readonly queries: number;
  readonly metrics: number;
  readonly chartPoints: number;
  readonly loadAverage: readonly number[];
  /** The printed figures. */
  readonly text: string;
}

/** Runs the bench and prints its table. */
export async function benchReport(log: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Promise<ReportBenchFigures> {
  const prom = await startPrometheus({ spec: monitoringValues(parsePlatformConfig({})).prometheus.prometheusSpec });
  try {
    const version = ((await (await fetch(`${prom.url}/api/v1/status/buildinfo`)).json()) as { data: { version: string } }).data.version;
    const now = Date.now();
    const pushMs = await timeMs(() =>
      pushK6Run(prom.writeUrl, { testid: TESTID, runners: 10, urls: URLS, durationSeconds: 3600, pausedSeconds: 0, endTime: now - 5000 }),
    );
    let queries = 0;
    const took = new Map<string, number>();
    const base = prometheusClient(prom.url, { timeoutMs: 120_000 });
    const counted = {
      url: base.url,
      data: async (e: string, t?: number) => {
        queries++;
        const t0 = Date.now();
        const d = await base.data(e, t);
        took.set(e, Date.now() - t0);
        return d;
      },
    };
    const verdict = () => evaluateVerdict(counted, TESTID, BENCH_THRESHOLDS, { now, timeoutMs: 300_000 });
    const report = () =>
      buildReport({ prometheus: counted, testid: TESTID, thresholds: BENCH_THRESHOLDS, trends: 'native', now: new Date(now), timeoutMs: 300_000 });
    const warm = await report();
    const load: number[] = [];
    const [v, r]: [number[], number[]] = [[], []];
    for (let i = 0; i < REPEATS; i++) {
      v.push(await timeMs(verdict));
      queries = 0;
      took.clear();
      r.push(await timeMs(report));
      load.push(os.loadavg()[0]!);
    }
    const verdictMs = median(v);
    const reportMs = median(r);
    const figures = {
      prometheus: version,
      pushMs,
      verdictMs,
      reportMs,
      queries,
      metrics: Object.keys(warm.summary.metrics).length,
      chartPoints: warm.charts.reduce((n, c) => n + c.series.reduce((m, s) => m + s.points.length, 0), 0),
      loadAverage: load,
    };
    const ratio = reportMs / verdictMs;
    const text = [
      `Prometheus ${version}; 1 h x 10 runners x 10 URLs pushed in ${ms(pushMs)}; 1-min load average during the runs: ${load.map((x) => x.toFixed(1)).join(' / ')}`,
      table(
        ['WHAT', 'MEDIAN', 'RUNS'],
        [
          ['verdict (window + every threshold of bench/thresholds.ts)', ms(verdictMs), v.map(ms).join(', ')],
          [
            `report (verdict + ${figures.metrics} summary metrics + 5 charts, ${figures.chartPoints} points, ${queries} queries)`,
            ms(reportMs),
            r.map(ms).join(', '),
          ],
        ],
      ).trimEnd(),
      `report / verdict: ${ratio.toFixed(2)}x; target <= ${REPORT_TARGET_PER_VERDICT}x ${ratio <= REPORT_TARGET_PER_VERDICT ? 'met' : 'NOT met'}`,
      'slowest queries of the last report (wall time, concurrent ones overlap):',
      ...[...took]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6)
        .map(([e, t]) => `  ${ms(t)}  ${e.length > 110 ? `${e.slice(0, 107)}...` : e}`),
    ].join('\n');
    log(text);
    return { ...figures, text };
  } finally {
    await prom.stop();
  }
}

if (require.main === module) {
  const m = machine();
  process.stdout.write(`machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, node ${m.node}\n`);
  benchReport().catch((e: unknown) => {
    process.stderr.write(`${String(e)}\n`);
    process.exitCode = 1;
  });
}
