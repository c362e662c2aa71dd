/**
 * The `--json` documents of `loadtest verdict` and `loadtest runs` (docs/cli.md, "Machine-readable output"). The shape
 * is a contract with scripts and CI: fields are only ever added; a removal or a change of meaning bumps
 * {@link JSON_SCHEMA_VERSION}. Numbers that JSON cannot hold (NaN, ±Infinity) are `null`, with `observedText` saying
 * what Prometheus answered.
 */
import type { RunSummary } from '../prometheus/runs';
import { formatObserved, VERDICT_EXIT_CODES, type Verdict, type VerdictRow, type VerdictStatus } from './verdict';

/** The `schemaVersion` of every `--json` document. */
export const JSON_SCHEMA_VERSION = 1;

/** One judged threshold in `--json` (and the name of its JUnit testcase). */
export interface ThresholdJson {
  /** `<key>: <expression>`, e.g. `http_req_duration: p(95)<500` (the JUnit testcase name). */
  readonly name: string;
  /** k6 metric name. */
  readonly metric: string;
  /** The key as written, tag filters included: `http_req_duration{scenario:api}`. */
  readonly key: string;
  /** The expression as written: `p(95)<500`. */
  readonly expression: string;
  /** The comparison operator. */
  readonly operator: string;
  /** The right-hand side, in `unit`. */
  readonly limit: number;
  /** `ms` for time trends, else null (a plain number). */
  readonly unit: 'ms' | null;
  /** The value over all runners; null when no sample matched or the answer was not finite (see `observedText`). */
  readonly observed: number | null;
  /** The value as the table prints it: `412.3 ms`, `NaN`, `no data`. */
  readonly observedText: string;
  /** Whether the threshold holds. */
  readonly pass: boolean;
  /** Why a row failed without a finite value; null otherwise. */
  readonly note: string | null;
  /** k6's `abortOnFail` of the threshold (reported, not enforced by the verdict). */
  readonly abortOnFail: boolean;
  /** The PromQL it was judged by. */
  readonly promql: string;
}

/** `loadtest verdict --json`. */
export interface VerdictJson {
  readonly schemaVersion: typeof JSON_SCHEMA_VERSION;
  readonly testid: string;
  /** The test whose thresholds judged the run; null when the run is tied to no configured test. */
  readonly test: string | null;
  readonly status: VerdictStatus;
  /** The process exit code (the same as without --json). */
  readonly exitCode: number;
  /** The Prometheus base URL, without credentials. */
  readonly prometheus: string;
  /** The run window judged; null for no-data and unreachable. */
  readonly window: { readonly start: string; readonly end: string; readonly durationSeconds: number; readonly pushIntervalSeconds: number } | null;
  readonly thresholds: readonly ThresholdJson[];
  /** The one-line reason of no-data and unreachable; null otherwise. */
  readonly message: string | null;
  /** What the text output prints as `note:` lines (how the test was found, no thresholds declared). */
  readonly notes: readonly string[];
  /**
   * The validity checks (cli/verdict/validity.ts): every reason that makes the run `inconclusive`, and the checks
   * skipped for lack of data; null when none were made (no data, unreachable, or no configured test).
   */
  readonly validity: {
    readonly reasons: readonly { readonly check: string; readonly observed: number; readonly limit: number; readonly message: string }[];
    readonly unchecked: readonly string[];
  } | null;
}

/** One row of `loadtest runs --json`. */
export interface RunJson {
  readonly testid: string;
  /** The run's test; null when unknown or ambiguous (`testSource` says why). */
  readonly test: string | null;
  /** `label`, `prefix` (no test label; the longest test name prefixing the testid), `none`, or `conflict` (several labels). */
  readonly testSource: RunSummary['testSource'];
  /** First sample of work (ISO 8601, UTC); the first k6_vus sample when the run never started. */
  readonly start: string;
  /** Last sample (ISO 8601, UTC). */
  readonly end: string;
  readonly durationSeconds: number;
  readonly runners: number;
  /** False when the run only wrote k6_vus (paused, never started). */
  readonly started: boolean;
  /** The verdict; null when the run was not judged (`notJudged` says why). */
  readonly verdict: { readonly status: VerdictStatus; readonly exitCode: number } | null;
  /** `not-started`, `no-test` (unknown, ambiguous or unconfigured test), `no-thresholds`, `skipped` (--no-verdict); null when judged. */
  readonly notJudged: 'not-started' | 'no-test' | 'no-thresholds' | 'skipped' | null;
}

/** `loadtest runs --json`. */
export interface RunsJson {
  readonly schemaVersion: typeof JSON_SCHEMA_VERSION;
  /** The Prometheus base URL, without credentials. */
  readonly prometheus: string;
  /** The `--since` window. */
  readonly since: string;
  /** Newest first. */
  readonly runs: readonly RunJson[];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** `<key>: <expression>`: how a threshold is named in JUnit and `--json`. */
export function thresholdName(row: VerdictRow): string {
  return `${row.query.threshold.key}: ${row.query.expression}`;
}

/** One row as {@link ThresholdJson}. */
export function thresholdJson(row: VerdictRow): ThresholdJson {
  const t = row.query.threshold;
  return {
    name: thresholdName(row),
    metric: t.metric,
    key: t.key,
    expression: t.expression,
    operator: t.operator,
    limit: t.value,
    unit: t.metricInfo.isTime ? 'ms' : null,
    observed: row.observed !== null && Number.isFinite(row.observed) ? row.observed : null,
    observedText: formatObserved(row),
    pass: row.pass,
    note: row.note ?? null,
    abortOnFail: row.abortOnFail,
    promql: row.query.promql,
  };
}

/** The status of a verdict exit code (for judges that report only the code). */
export function statusOfExitCode(code: number): VerdictStatus | undefined {
  return (Object.keys(VERDICT_EXIT_CODES) as VerdictStatus[]).find((s) => VERDICT_EXIT_CODES[s] === code);
}

/** The `verdict --json` document. */
export function verdictJson(input: {
  readonly testid: string;
  readonly test: string | undefined;
  readonly prometheus: string;
  readonly exitCode: number;
  readonly verdict: Verdict | undefined;
  readonly notes: readonly string[];
}): VerdictJson {
  const v = input.verdict;
  const w = v?.window;
  return {
    schemaVersion: JSON_SCHEMA_VERSION,
    testid: input.testid,
    test: input.test ?? null,
    status: v?.status ?? statusOfExitCode(input.exitCode) ?? 'fail',
    exitCode: input.exitCode,
    prometheus: input.prometheus,
    window:
      w === undefined
        ? null
        : { start: iso(w.start), end: iso(w.end), durationSeconds: (w.end - w.start) / 1000, pushIntervalSeconds: w.pushIntervalSeconds },
    thresholds: (v?.rows ?? []).map(thresholdJson),
    message: v?.message ?? null,
    validity: v?.validity ?? null,
    notes: input.notes,
  };
}

/** One row of `runs --json`. */
export function runJson(r: RunSummary, verdictCode: number | undefined, notJudged: RunJson['notJudged']): RunJson {
  const status = verdictCode === undefined ? undefined : statusOfExitCode(verdictCode);
  return {
    testid: r.testid,
    test: r.test ?? null,
    testSource: r.testSource,
    start: iso(r.start * 1000),
    end: iso(r.end * 1000),
    durationSeconds: r.end - r.start,
    runners: r.runners,
    started: r.started,
    verdict: verdictCode === undefined ? null : { status: status ?? 'fail', exitCode: verdictCode },
    notJudged,
  };
}

/** A document as printed: pretty JSON and one newline, nothing else on stdout. */
export function jsonText(doc: VerdictJson | RunsJson): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}
