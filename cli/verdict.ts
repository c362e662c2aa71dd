/**
 * The verdict of a run over ALL its runners: each k6 threshold of the test becomes one PromQL query
 * (constructs/src/thresholds.ts) evaluated at the end of the run window found in the data itself, and compared.
 *
 * Exit codes ({@link VERDICT_EXIT_CODES}): 0 all thresholds pass, 99 any fails (k6's own code), 3 no data for the
 * testid, 4 Prometheus unreachable. Plain `fetch` against the Prometheus HTTP API.
 */
import {
  compareThreshold,
  parseThresholds,
  promqlString,
  thresholdQueries,
  type ParsedThreshold,
  type ThresholdQuery,
  type ThresholdsConfig,
} from '../constructs/src/thresholds';

/** Outcome of a verdict. */
export type VerdictStatus = 'pass' | 'fail' | 'no-data' | 'unreachable';

/** Process exit code per outcome; 99 is k6's own "thresholds have failed", 3 and 4 collide with no k6 code. */
export const VERDICT_EXIT_CODES: Readonly<Record<VerdictStatus, number>> = { pass: 0, fail: 99, 'no-data': 3, unreachable: 4 };

/** The exit code of an outcome. */
export function verdictExitCode(status: VerdictStatus): number {
  return VERDICT_EXIT_CODES[status];
}

/** One judged threshold. */
export interface VerdictRow {
  /** `<key> <expression>`, e.g. `http_req_duration{scenario:api} p(95)<500`. */
  readonly threshold: string;
  /** The query it was judged by. */
  readonly query: ThresholdQuery;
  /** Observed value in k6's unit (ms for time trends); null when no sample matched. */
  readonly observed: number | null;
  /** Whether the threshold holds (false when nothing was observed). */
  readonly pass: boolean;
  /** Why a row failed without a value, or why its value is not a number. */
  readonly note?: string;
  /**
   * k6's `abortOnFail` of the threshold (object form). Carried for reporting only: the verdict judges the finished run;
   * aborting during the run is each runner's own k6 (on its own segment).
   */
  readonly abortOnFail: boolean;
}

/** The run window the queries were evaluated over (unix ms). */
export interface RunWindow {
  /** Start of the run: one push interval before the first sample, or as given. */
  readonly start: number;
  /** Last sample, or as given: the evaluation time. */
  readonly end: number;
  /** Push interval seen in the data, seconds (5 when it cannot be told). */
  readonly pushIntervalSeconds: number;
}

/** The verdict of one run. */
export interface Verdict {
  /** Overall outcome. */
  readonly status: VerdictStatus;
  /** Process exit code of the outcome. */
  readonly exitCode: number;
  /** The run id. */
  readonly testid: string;
  /** The window judged; undefined for no-data and unreachable. */
  readonly window?: RunWindow;
  /** One row per threshold (empty for no-data and unreachable). */
  readonly rows: readonly VerdictRow[];
  /** One line for no-data and unreachable. */
  readonly message?: string;
}

/** A Prometheus query result (`data` of the HTTP API answer). */
export interface PromData {
  /** `vector`, `matrix`, `scalar` or `string`. */
  readonly resultType: string;
  /** The series, or a `[time, value]` pair for scalars. */
  readonly result: unknown;
}

/** The Prometheus API the verdict needs: instant queries. */
export interface PrometheusApi {
  /** Base URL (for messages). */
  readonly url: string;
  /** Evaluates `expr` at `timeMs` (unix ms). Throws {@link PrometheusUnreachableError} when nothing answers. */
  query(expr: string, timeMs: number): Promise<PromData>;
}

/** Nothing answered at the Prometheus URL (connection refused, DNS, timeout). */
export class PrometheusUnreachableError extends Error {
  public constructor(url: string, cause: unknown) {
    super(`Prometheus at ${url} is unreachable: ${describeCause(cause)}`);
    this.name = 'PrometheusUnreachableError';
  }
}

/** The innermost message of a fetch failure (`connect ECONNREFUSED 127.0.0.1:9090`, `The operation was aborted due to timeout`). */
function describeCause(cause: unknown): string {
  let e = cause as { message?: unknown; cause?: unknown; code?: unknown } | undefined;
  while (e !== undefined && e !== null && typeof e === 'object' && e.cause !== undefined && e.cause !== null) e = e.cause as typeof e;
  if (e !== undefined && e !== null && typeof e === 'object') {
    const message = typeof e.message === 'string' && e.message !== '' ? e.message : undefined;
    return message ?? (typeof e.code === 'string' ? e.code : String(cause));
  }
  return String(cause);
}

/** A {@link PrometheusApi} over the HTTP API with plain fetch (POST /api/v1/query), `timeoutMs` per request. */
export function prometheusApi(baseUrl: string, timeoutMs = 10_000): PrometheusApi {
  const url = baseUrl.replace(/\/+$/, '');
  return {
    url,
    async query(expr, timeMs) {
      let res: Response;
      try {
        res = await fetch(`${url}/api/v1/query`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ query: expr, time: (timeMs / 1000).toFixed(3) }).toString(),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (e) {
        throw new PrometheusUnreachableError(url, e);
      }
      const body = (await res.json().catch(() => undefined)) as { status?: string; data?: PromData; error?: string } | undefined;
      if (body?.status !== 'success' || body.data === undefined) {
        throw new Error(`Prometheus query failed (HTTP ${res.status}): ${body?.error ?? 'not a Prometheus API answer'}\n  query: ${expr}`);
      }
      return body.data;
    },
  };
}

/** Options of {@link evaluateVerdict}. */
export interface VerdictOptions {
  /**
   * Start of the run window (unix ms or Date).
   * @default - one push interval before the testid's first sample
   */
  readonly start?: number | Date;
  /**
   * End of the run window (unix ms or Date).
   * @default - the testid's last sample
   */
  readonly end?: number | Date;
  /**
   * How far back from `now` to look for the run's samples when the window is found from the data.
   * @default "30d"
   */
  readonly searchRange?: string;
  /**
   * How the runners wrote trends (`runner.nativeHistograms` of the platform config).
   * @default "native"
   */
  readonly trends?: 'native' | 'classic';
  /**
   * "Now" for the search (unix ms).
   * @default - Date.now()
   */
  readonly now?: number;
}

/** Series that every k6 runner writes, in the order tried to find the run window. */
const WINDOW_METRICS = ['k6_vus', 'k6_iterations_total', 'k6_http_reqs_total'] as const;

/**
 * Finds the run window from the data: first and last raw sample of the testid's `k6_vus` series (a range-vector
 * query returns the raw samples), falling back to iterations and requests. Undefined when the testid has no data.
 */
export async function findRunWindow(api: PrometheusApi, testid: string, options: VerdictOptions = {}): Promise<RunWindow | undefined> {
  const now = options.now ?? Date.now();
  for (const metric of WINDOW_METRICS) {
    const data = await api.query(`${metric}{testid=${promqlString(testid)}}[${options.searchRange ?? '30d'}]`, now);
    const series = (data.result ?? []) as { values?: [number, string][] }[];
    let first = Infinity;
    let last = -Infinity;
    let gap = Infinity;
    for (const s of series) {
      const ts = (s.values ?? []).map(([t]) => Math.round(t * 1000));
      if (ts.length === 0) continue;
      first = Math.min(first, ts[0]!);
      last = Math.max(last, ts[ts.length - 1]!);
      for (let i = 1; i < ts.length; i++) gap = Math.min(gap, ts[i]! - ts[i - 1]!);
    }
    if (first === Infinity) continue;
    const pushIntervalSeconds = gap === Infinity ? 5 : gap / 1000;
    return { start: first - pushIntervalSeconds * 1000, end: last, pushIntervalSeconds };
  }
  return undefined;
}

/**
 * Judges a run: finds its window (unless given), evaluates every threshold's query over all runners at the window's
 * end and compares. Never throws for an unreachable Prometheus or a testid without data: those are outcomes.
 */
export async function evaluateVerdict(
  prometheus: PrometheusApi | string,
  testid: string,
  thresholds: ThresholdsConfig | readonly ParsedThreshold[],
  options: VerdictOptions = {},
): Promise<Verdict> {
  const api = typeof prometheus === 'string' ? prometheusApi(prometheus) : prometheus;
  const parsed = Array.isArray(thresholds) ? (thresholds as readonly ParsedThreshold[]) : parseThresholds(thresholds as ThresholdsConfig);
  const done = (status: VerdictStatus, rest: Omit<Verdict, 'status' | 'exitCode' | 'testid'>): Verdict => ({
    status,
    exitCode: verdictExitCode(status),
    testid,
    ...rest,
  });
  try {
    const ms = (d: number | Date | undefined) => (d instanceof Date ? d.getTime() : d);
    let window: RunWindow | undefined;
    const [start, end] = [ms(options.start), ms(options.end)];
    if (start !== undefined && end !== undefined) {
      window = { start, end, pushIntervalSeconds: 5 };
    } else {
      const found = await findRunWindow(api, testid, options);
      if (found !== undefined) window = { ...found, start: start ?? found.start, end: end ?? found.end };
    }
    if (window === undefined) {
      return done('no-data', { rows: [], message: `no data for testid ${JSON.stringify(testid)} in Prometheus at ${api.url}` });
    }
    const durationSeconds = (window.end - window.start) / 1000;
    const queries = thresholdQueries(parsed, { testid, window: durationSeconds, durationSeconds, trends: options.trends ?? 'native' });
    const rows: VerdictRow[] = [];
    for (const query of queries) {
      const data = await api.query(query.promql, window.end);
      const observed = singleNumber(data);
      const threshold = `${query.threshold.key} ${query.expression}`;
      if (observed === null) {
        rows.push({
          threshold,
          query,
          observed: null,
          pass: false,
          note: 'no samples for this metric and filters in the run window',
          abortOnFail: query.threshold.abortOnFail,
        });
      } else {
        rows.push({
          threshold,
          query,
          observed,
          pass: compareThreshold(observed, query.threshold.operator, query.threshold.value),
          abortOnFail: query.threshold.abortOnFail,
        });
      }
    }
    return done(rows.every((r) => r.pass) ? 'pass' : 'fail', { window, rows });
  } catch (e) {
    if (e instanceof PrometheusUnreachableError) return done('unreachable', { rows: [], message: e.message });
    throw e;
  }
}

/** The one number of a one-sample vector or scalar; null for an empty vector or NaN. */
function singleNumber(data: PromData): number | null {
  let raw: string | undefined;
  if (data.resultType === 'scalar') raw = (data.result as [number, string])[1];
  else {
    const result = data.result as { value?: [number, string] }[];
    if (result.length > 1) throw new Error(`expected one sample, got ${result.length}: ${JSON.stringify(result).slice(0, 300)}`);
    raw = result[0]?.value?.[1];
  }
  if (raw === undefined) return null;
  const n = Number(raw);
  return Number.isNaN(n) ? null : n;
}

/** Formats an observed value in k6's unit: `412.3 ms`, `0.0123`, `5400`. */
export function formatObserved(row: VerdictRow): string {
  if (row.observed === null) return 'no data';
  const v = row.observed;
  const n = Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(1) : Number(v.toPrecision(4)).toString();
  return row.query.threshold.metricInfo.isTime ? `${n} ms` : n;
}

/** The verdict as a plain-text table (threshold, observed, result) plus a summary line. */
export function formatVerdict(v: Verdict): string {
  if (v.status === 'no-data' || v.status === 'unreachable') return `verdict: ${v.status.toUpperCase()}: ${v.message ?? ''}`;
  const header = ['THRESHOLD', 'OBSERVED', 'RESULT'];
  const cells = v.rows.map((r) => [r.threshold, formatObserved(r), r.pass ? 'pass' : 'FAIL']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) =>
    c
      .map((x, i) => x.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const failed = v.rows.filter((r) => !r.pass).length;
  const summary =
    v.status === 'pass'
      ? `verdict: PASS (${v.rows.length} thresholds over all runners)`
      : `verdict: FAIL (${failed} of ${v.rows.length} thresholds failed)`;
  return [line(header), ...cells.map(line), summary].join('\n');
}
