/**
 * The time series behind the report's charts: VUs, request rate, latency percentiles, error ratio and request rate
 * per runner over the run window. Each chart is one grouped PromQL expression evaluated as a subquery
 * `(<expr>)[<window>:<step>]` at the window's end through the CLI's one client (cli/prometheus/client.ts speaks only
 * `/api/v1/query`): the answer is the same matrix a range query gives, with the client's timeouts, deadline and
 * credentials. The step is sized for about {@link TARGET_POINTS} points; Prometheus aligns subquery steps to
 * multiples of the step.
 */
import { PrometheusQueryError, promValue, type PromData } from '../prometheus/client';
import type { RunWindow } from '../verdict/verdict';
import { histogramQuantile, parseHistogram } from '../prometheus/histogram';
import type { ReportApi } from './limit';
import { selectorOf } from './summary-queries';

/** Points per chart the step aims at. */
export const TARGET_POINTS = 300;

/** One line of a chart. */
export interface ChartSeries {
  readonly label: string;
  /** `[unix ms, value]`, in time order; NaN/±Inf answers are left out (a gap). */
  readonly points: readonly (readonly [number, number])[];
}

/** One chart's data. */
export interface ChartData {
  /** Stable id (`vus`, `request-rate`, `latency`, `error-ratio`, `runner-request-rate`): the SVG's `data-chart`. */
  readonly id: string;
  readonly title: string;
  /** Unit of the y axis: '', 'req/s', 'ms', 'ratio'. */
  readonly unit: string;
  /** One sentence under the title: what is drawn and how exact it is. */
  readonly note: string;
  /** The x range: the run window (unix ms). */
  readonly start: number;
  readonly end: number;
  readonly series: readonly ChartSeries[];
}

/** A chart's query: one expression whose series are labelled by `legend` (a label name, or fixed text). */
export interface ChartQuery {
  readonly id: string;
  readonly title: string;
  readonly unit: string;
  readonly note: string;
  readonly lines: readonly ChartLine[];
}

/**
 * One expression of a chart: float series labelled `label` (plus the value of `byLabel`), or, with `quantiles`, one
 * histogram series from which each quantile becomes a line (one query for all percentiles: Prometheus would decode
 * the run's histograms once per percentile).
 */
export interface ChartLine {
  readonly expr: string;
  readonly label: string;
  readonly byLabel?: string;
  readonly quantiles?: readonly { readonly label: string; readonly q: number; readonly scale: number }[];
}

/** The step of the charts of a window: the window over {@link TARGET_POINTS}, whole seconds, at least one push interval. */
export function chartStepSeconds(window: RunWindow): number {
  const seconds = (window.end - window.start) / 1000;
  return Math.max(Math.ceil(window.pushIntervalSeconds), Math.ceil(seconds / TARGET_POINTS), 1);
}

/**
 * The chart queries of a run. `rate()` ranges cover at least three push intervals so that every evaluation sees two
 * samples of each counter.
 */
export function chartQueries(testid: string, window: RunWindow, trends: 'native' | 'classic'): ChartQuery[] {
  const sel = selectorOf(testid);
  const failedSel = selectorOf(testid, { expected_response: 'false' });
  const r = `${Math.max(chartStepSeconds(window), Math.ceil(3 * window.pushIntervalSeconds))}s`;
  const reqRate = `sum(rate(k6_http_reqs_total${sel}[${r}]))`;
  const quantiles = [
    ['p50', 0.5, 'med'],
    ['p95', 0.95, 'p95'],
    ['p99', 0.99, 'p99'],
  ] as const;
  const latency: ChartLine[] =
    trends === 'native'
      ? [
          {
            label: 'latency',
            expr: `sum(rate(k6_http_req_duration_seconds${sel}[${r}]))`,
            quantiles: quantiles.map(([label, q]) => ({ label, q, scale: 1000 })),
          },
        ]
      : quantiles.map(([label, , stat]) => ({ label, expr: `max(k6_http_req_duration_${stat}${sel}) * 1000` }));
  return [
    {
      id: 'vus',
      title: 'Virtual users',
      unit: '',
      note: 'k6_vus and k6_vus_max summed over all runners',
      lines: [
        { label: 'vus', expr: `sum(k6_vus${sel})` },
        { label: 'vus_max', expr: `sum(k6_vus_max${sel})` },
      ],
    },
    {
      id: 'request-rate',
      title: 'Request rate',
      unit: 'req/s',
      note: `rate of k6_http_reqs_total over ${r}, all runners`,
      lines: [{ label: 'requests', expr: reqRate }],
    },
    {
      id: 'latency',
      title: 'Request duration percentiles',
      unit: 'ms',
      note:
        trends === 'native'
          ? `quantiles of the summed native histograms of http_req_duration over ${r} windows, all runners (within the bucket error)`
          : 'highest classic percentile gauge of any runner (cumulative since the start: an upper bound)',
      lines: latency,
    },
    {
      id: 'error-ratio',
      title: 'Error ratio',
      unit: 'ratio',
      note: `requests with expected_response="false" / all requests, over ${r}`,
      lines: [{ label: 'failed', expr: `(sum(rate(k6_http_reqs_total${failedSel}[${r}])) or vector(0)) / ${reqRate}` }],
    },
    {
      id: 'runner-request-rate',
      title: 'Request rate per runner',
      unit: 'req/s',
      note: 'rate of k6_http_reqs_total by instance_id',
      lines: [{ label: 'runner', byLabel: 'instance_id', expr: `sum by (instance_id) (rate(k6_http_reqs_total${sel}[${r}]))` }],
    },
  ];
}

interface MatrixSeries {
  readonly metric?: Record<string, string>;
  readonly values?: [number, string][];
  readonly histograms?: [number, unknown][];
}

/** One line per quantile from a matrix of histograms (cli/prometheus/histogram.ts, as Prometheus 3.5 estimates them). */
function quantileSeries(data: PromData, expr: string, quantiles: NonNullable<ChartLine['quantiles']>): ChartSeries[] {
  if (data.resultType !== 'matrix' || !Array.isArray(data.result))
    throw new PrometheusQueryError(`expected a range vector (matrix), got ${String(data.resultType)}\n  query: ${expr}`);
  const hs = (data.result as MatrixSeries[]).flatMap((s) =>
    (s.histograms ?? []).map(([t, h]) => [Math.round(t * 1000), parseHistogram(h, expr)] as const),
  );
  return quantiles.map(({ label, q, scale }) => ({
    label,
    points: hs.map(([t, h]) => [t, histogramQuantile(h, q) * scale] as const).filter(([, v]) => Number.isFinite(v)),
  }));
}

/** The series of a matrix answer, in label order. */
function matrixSeries(data: PromData, expr: string, label: string, byLabel: string | undefined): ChartSeries[] {
  if (data.resultType !== 'matrix' || !Array.isArray(data.result))
    throw new PrometheusQueryError(`expected a range vector (matrix), got ${String(data.resultType)}\n  query: ${expr}`);
  const series = (data.result as MatrixSeries[]).map((s) => ({
    label: byLabel !== undefined ? `${label} ${s.metric?.[byLabel] ?? ''}`.trim() : label,
    points: (s.values ?? []).map(([t, v]) => [Math.round(t * 1000), promValue(v, expr)] as const).filter(([, v]) => Number.isFinite(v)),
  }));
  const num = (l: string) => Number(l.replace(/^\D*/, ''));
  return series.sort((a, b) => num(a.label) - num(b.label) || a.label.localeCompare(b.label));
}

/** Fetches every chart of the run; the API bounds how many queries run at once. */
export async function fetchCharts(api: ReportApi, testid: string, window: RunWindow, trends: 'native' | 'classic'): Promise<ChartData[]> {
  const step = chartStepSeconds(window);
  const range = `${Math.max(1, Math.ceil((window.end - window.start) / 1000))}s`;
  const time = window.end / 1000;
  return Promise.all(
    chartQueries(testid, window, trends).map(async (c) => {
      const lines = await Promise.all(
        c.lines.map(async (l) => {
          const expr = `(${l.expr})[${range}:${step}s]`;
          const data = await api.data(expr, time);
          return l.quantiles !== undefined ? quantileSeries(data, expr, l.quantiles) : matrixSeries(data, expr, l.label, l.byLabel);
        }),
      );
      return { id: c.id, title: c.title, unit: c.unit, note: c.note, start: window.start, end: window.end, series: lines.flat() };
    }),
  );
}
