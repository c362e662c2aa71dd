/**
 * The verdict of a run over ALL its runners: each k6 threshold of the test becomes one PromQL query
 * (constructs/src/k6/thresholds.ts) evaluated at the end of the run window found in the data itself, and compared.
 *
 * Exit codes ({@link VERDICT_EXIT_CODES}): 0 all thresholds pass, 99 any fails (k6's own code), 3 no data for the
 * testid, 4 Prometheus unreachable (including no complete answer within the verdict's one timeout). An answer that is
 * not what the query must return (wrong result type, malformed) throws {@link PrometheusQueryError}. Queries go through
 * the CLI's one Prometheus client (cli/prometheus/client.ts).
 */
import {
  compareThreshold,
  parseThresholds,
  thresholdQueries,
  type ParsedThreshold,
  type QueryDialect,
  type ThresholdQuery,
  type ThresholdsConfig,
} from '@k6-platform/constructs/internal';
import { K6_THRESHOLDS_FAILED_EXIT_CODE, promqlString } from '@k6-platform/constructs/internal';
import {
  prometheusClient,
  PrometheusQueryError,
  PrometheusUnreachableError,
  promValue,
  vectorSamples,
  type PromData,
  type PrometheusClient,
} from '../prometheus/client';
import type { PrometheusAuth } from '../prometheus/auth';
import { completeRecordedTotals, recordedTotalsWindow } from './recorded-totals';
import { checkValidity, type Validity, type ValidityInput } from './validity';

/** Outcome of a verdict. */
export type VerdictStatus = 'pass' | 'fail' | 'inconclusive' | 'no-data' | 'unreachable';

/**
 * Process exit code per outcome; 99 is k6's own "thresholds have failed"; 3, 4 and 5 collide with no k6 code (k6
 * v1.7.1 errext/exitcodes/codes.go uses 1 and 97-110).
 */
export const VERDICT_EXIT_CODES: Readonly<Record<VerdictStatus, number>> = {
  pass: 0,
  fail: K6_THRESHOLDS_FAILED_EXIT_CODE,
  inconclusive: 5,
  'no-data': 3,
  unreachable: 4,
};

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
  /** Observed value in k6's unit (ms for time trends); null when no sample matched; NaN/±Infinity as answered (the row fails). */
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
  /** The validity checks, when the verdict was asked to make them; any reason makes the run inconclusive. */
  readonly validity?: Validity;
}

/** The Prometheus API the verdict needs: any answer's `data` (cli/prometheus/client.ts {@link prometheusClient}). */
export type PrometheusApi = Pick<PrometheusClient, 'url' | 'data'>;

export { PrometheusUnreachableError, PrometheusQueryError, type PromData };

/** A {@link PrometheusApi} over the HTTP API, `timeoutMs` per request (connect to the last byte of the body). */
export function prometheusApi(baseUrl: string, timeoutMs = 10_000): PrometheusApi {
  return prometheusClient(baseUrl, { timeoutMs });
}

/** Default of {@link VerdictOptions.timeoutMs}: the whole verdict (window search and every threshold query). */
export const DEFAULT_VERDICT_TIMEOUT_MS = 60_000;

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
   * The query dialect of the backend holding the run (`monitoring.backend.kind`).
   * @default "prometheus"
   */
  readonly dialect?: QueryDialect;
  /**
   * "Now" for the search (unix ms).
   * @default - Date.now()
   */
  readonly now?: number;
  /**
   * Milliseconds the whole verdict may take (window search and every threshold query together); when it runs out the
   * verdict is `unreachable` (exit 4). The CLI's `--timeout` / `LOADTEST_TIMEOUT`.
   * @default 60000
   */
  readonly timeoutMs?: number;
  /**
   * Credentials for a Prometheus given by URL (cli/prometheus/auth.ts); never printed.
   * @default - the URL's `user:pass@` as basic auth, else none
   */
  readonly auth?: PrometheusAuth;
  /**
   * Check that the runners were not starved (cli/verdict/validity.ts); a run that fails a check is `inconclusive`
   * (exit 5), whatever its thresholds say. @default - no checks
   */
  readonly validity?: ValidityInput;
}

/**
 * Finds the run window from the data: a range-vector query returns the raw samples of the testid's `k6_vus`,
 * `k6_iterations_total` and `k6_http_reqs_total`. The run starts with its first sample of work (iterations, requests,
 * or `k6_vus` > 0), not with the first `k6_vus` sample: k6 v1.7.1 (internal/execution/scheduler.go
 * `emitVUsAndVUsMax`) writes `k6_vus` from VU initialisation on, 0 while a `--paused` run waits for its start. The
 * window begins one push interval before that sample (the push covers the interval before it; the interval is the
 * smallest gap between samples of a series) and ends with the last sample. Undefined when the testid has no samples;
 * `{ idle: true }` when it has `k6_vus` samples but no work (paused and never started).
 */
export async function findRunWindow(
  api: PrometheusApi,
  testid: string,
  options: VerdictOptions = {},
): Promise<RunWindow | { readonly idle: true } | undefined> {
  const now = options.now ?? Date.now();
  const range = options.searchRange ?? '30d';
  const sel = `{testid=${promqlString(testid)}}[${range}]`;
  let firstWork = Infinity;
  let first = Infinity;
  let last = -Infinity;
  let gap = Infinity;
  for (const metric of ['k6_vus', 'k6_iterations_total', 'k6_http_reqs_total'] as const) {
    const data = await api.data(`${metric}${sel}`, now / 1000);
    if (data.resultType !== 'matrix')
      throw new PrometheusQueryError(`expected a range vector (matrix), got ${String(data.resultType)}\n  query: ${metric}${sel}`);
    for (const s of data.result as { values?: [number, string][] }[]) {
      const values = (s.values ?? []).map(([t, v]) => [Math.round(t * 1000), Number(v)] as const);
      if (values.length === 0) continue;
      first = Math.min(first, values[0]![0]);
      last = Math.max(last, values[values.length - 1]![0]);
      for (let i = 1; i < values.length; i++) gap = Math.min(gap, values[i]![0] - values[i - 1]![0]);
      const work = metric === 'k6_vus' ? values.find(([, v]) => v > 0) : values[0];
      if (work !== undefined) firstWork = Math.min(firstWork, work[0]);
    }
  }
  if (first === Infinity) return undefined;
  if (firstWork === Infinity) return { idle: true };
  const pushIntervalSeconds = gap === Infinity ? 5 : gap / 1000;
  return { start: firstWork - pushIntervalSeconds * 1000, end: last, pushIntervalSeconds };
}

/** One row of the table: a threshold, what its query observed, and whether that passes. */
function verdictRow(query: ReturnType<typeof thresholdQueries>[number], observed: number | null): VerdictRow {
  const threshold = `${query.threshold.key} ${query.expression}`;
  const abortOnFail = query.threshold.abortOnFail;
  if (observed !== null && !Number.isFinite(observed)) {
    // NaN (0/0: e.g. a rate over no events) or ±Inf (e.g. a quantile beyond the last bucket): shown, and a failure.
    return { threshold, query, observed, pass: false, note: `the query answered ${formatNumber(observed)}, not a finite number`, abortOnFail };
  }
  if (observed === null) {
    return { threshold, query, observed: null, pass: false, note: 'no samples for this metric and filters in the run window', abortOnFail };
  }
  return { threshold, query, observed, pass: compareThreshold(observed, query.threshold.operator, query.threshold.value), abortOnFail };
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
  const timeoutMs = options.timeoutMs ?? DEFAULT_VERDICT_TIMEOUT_MS;
  const deadline = AbortSignal.timeout(timeoutMs);
  const deadlineName = `the verdict timeout of ${Number((timeoutMs / 1000).toFixed(3))}s`;
  const api = boundedApi(
    typeof prometheus === 'string'
      ? prometheusClient(prometheus, { timeoutMs, deadline, deadlineName, ...(options.auth !== undefined ? { auth: options.auth } : {}) })
      : prometheus,
    deadline,
    deadlineName,
  );
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
      if (found !== undefined && 'idle' in found) {
        return done('no-data', {
          rows: [],
          message: `testid ${JSON.stringify(testid)} has k6_vus samples but no iterations, requests or active VUs in Prometheus at ${api.url}: the run never started (paused?)`,
        });
      }
      if (found !== undefined) window = { ...found, start: start ?? found.start, end: end ?? found.end };
    }
    if (window === undefined) {
      return done('no-data', { rows: [], message: `no data for testid ${JSON.stringify(testid)} in Prometheus at ${api.url}` });
    }
    const rows = await thresholdRows(api, parsed, testid, window, options);
    const status = rows.every((r) => r.pass) ? 'pass' : 'fail';
    if (options.validity === undefined) return done(status, { window, rows });
    const aborted = rows.some((r) => r.abortOnFail && !r.pass);
    const validity = await checkValidity(api, testid, window, options.validity, aborted);
    return done(validity.reasons.length > 0 ? 'inconclusive' : status, { window, rows, validity });
  } catch (e) {
    if (e instanceof PrometheusUnreachableError) return done('unreachable', { rows: [], message: e.message });
    throw e;
  }
}

/**
 * Every threshold's row: its query evaluated at the window's end over the window, or, for a trend whose recorded run
 * totals are complete (cli/verdict/recorded-totals.ts), over those at the end of their own window.
 */
async function thresholdRows(
  api: PrometheusApi,
  parsed: readonly ParsedThreshold[],
  testid: string,
  window: RunWindow,
  options: VerdictOptions,
): Promise<VerdictRow[]> {
  const durationSeconds = (window.end - window.start) / 1000;
  const scope = { testid, durationSeconds, trends: options.trends ?? 'native', dialect: options.dialect ?? 'prometheus' } as const;
  const queries = thresholdQueries(parsed, { ...scope, window: durationSeconds });
  // A window given by hand may end mid-run, where the increment holding its end reaches up to one evaluation beyond it:
  // the recorded totals serve only the whole run, as found from the data.
  const wholeRun = options.start === undefined && options.end === undefined;
  const readsRecorded = wholeRun && scope.trends === 'native' && scope.dialect === 'prometheus';
  const complete = readsRecorded ? await completeRecordedTotals(api, parsed, testid, window) : new Set<number>();
  const totals = recordedTotalsWindow(window);
  const recorded = complete.size > 0 ? thresholdQueries(parsed, { ...scope, window: totals.seconds, runTotals: 'recorded' }) : [];
  const rows: VerdictRow[] = [];
  for (const [i, raw] of queries.entries()) {
    const [query, at] = complete.has(i) ? [recorded[i]!, totals.at] : [raw, window.end];
    const data = await api.data(query.promql, at / 1000);
    rows.push(verdictRow(query, singleNumber(data, query.promql)));
  }
  return rows;
}

/**
 * The one number of a one-sample vector or a scalar (NaN and ±Infinity included); null for an empty vector. Any other
 * answer is an error: a matrix or string, several samples, a malformed sample.
 */
function singleNumber(data: PromData, expr: string): number | null {
  if (data.resultType === 'scalar') {
    const r = data.result as unknown;
    if (!Array.isArray(r) || typeof r[1] !== 'string')
      throw new PrometheusQueryError(`malformed scalar answer ${JSON.stringify(r)}\n  query: ${expr}`);
    return promValue(r[1] as string, expr);
  }
  if (data.resultType !== 'vector')
    throw new PrometheusQueryError(`expected an instant vector or a scalar, got ${String(data.resultType)}\n  query: ${expr}`);
  const samples = vectorSamples(data, expr);
  if (samples.length > 1)
    throw new PrometheusQueryError(`expected one sample, got ${samples.length}: ${JSON.stringify(data.result).slice(0, 300)}\n  query: ${expr}`);
  return samples[0]?.value ?? null;
}

/** `NaN`, `+Inf`, `-Inf` as Prometheus writes them, other numbers as they are. */
function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** An API whose every call also ends when the verdict's deadline passes (for APIs given as objects). */
function boundedApi(api: PrometheusApi, deadline: AbortSignal, deadlineName: string): PrometheusApi {
  return {
    url: api.url,
    data: (expr, time) =>
      new Promise<PromData>((resolve, reject) => {
        const expired = () => reject(new PrometheusUnreachableError(api.url, `no complete answer within ${deadlineName}`));
        if (deadline.aborted) return expired();
        deadline.addEventListener('abort', expired, { once: true });
        api.data(expr, time).then(
          (d) => {
            deadline.removeEventListener('abort', expired);
            resolve(d);
          },
          (e: unknown) => {
            deadline.removeEventListener('abort', expired);
            reject(e instanceof Error ? e : new Error(String(e)));
          },
        );
      }),
  };
}

/** Formats an observed value in k6's unit: `412.3 ms`, `0.0123`, `5400`. */
export function formatObserved(row: VerdictRow): string {
  if (row.observed === null) return 'no data';
  const v = row.observed;
  if (!Number.isFinite(v)) return formatNumber(v);
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
  if (v.status === 'inconclusive') {
    const reasons = v.validity?.reasons ?? [];
    const thresholds = failed === 0 ? `all ${v.rows.length} thresholds held` : `${failed} of ${v.rows.length} thresholds failed`;
    const summary = `verdict: INCONCLUSIVE (${thresholds}, but the runners were starved: the result measures them, not the system)`;
    return [line(header), ...cells.map(line), summary, ...reasons.map((r) => `  reason: ${r.message}`)].join('\n');
  }
  const summary =
    v.status === 'pass'
      ? `verdict: PASS (${v.rows.length} thresholds over all runners)`
      : `verdict: FAIL (${failed} of ${v.rows.length} thresholds failed)`;
  return [line(header), ...cells.map(line), summary].join('\n');
}
