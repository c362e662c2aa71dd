/**
 * `abortOnFail` judged over ALL runners while the run goes (pure: no I/O; the caller brings the Prometheus query).
 *
 * Runners run with `--no-thresholds`, so no runner aborts on its own segment: the platform evaluates the test's
 * `abortOnFail` thresholds over every runner's data, in `loadtest run` (cli/run/abort-watch.ts). The `crossed`
 * expression (a 0/1 value) is for a watcher that can only compare numbers, such as a shell script in the cluster.
 *
 * k6 v1.7.1, what this reproduces:
 * - internal/metrics/engine/engine.go `StartThresholdCalculations`: thresholds are evaluated every 2 s
 *   (`thresholdsRate`) over everything the metric's sink holds since the start; a metric whose sink is empty is
 *   skipped (`ignoreEmptySinks`): no data is a pass, never an abort.
 * - metrics/thresholds.go `runAll`: a failing threshold with `abortOnFail` aborts when it has no `delayAbortEval`, or
 *   when `delayAbortEval < timeSpentInTest` (strictly: at exactly the delay it does not abort yet); `timeSpentInTest`
 *   is the run's duration so far (`ExecutionState.GetCurrentTestRunDuration`, from the start of the run).
 * - the abort error carries `exitcodes.ThresholdsHaveFailed` (99) and the abort reason `AbortedByThreshold`: k6 has no
 *   separate exit code for an abort on a threshold (errext/exitcodes/codes.go; `ScriptAborted` 108 is `test.abort()`).
 *
 * The platform evaluates once per push interval rather than every 2 s: a runner's samples reach Prometheus only once
 * per push, so a shorter interval would re-read the same data.
 */
import { K6_THRESHOLDS_FAILED_EXIT_CODE } from '../contract/k6';
import { compareThreshold, parseThresholds, type ParsedThreshold, type ThresholdOperator, type ThresholdsConfig } from './threshold-grammar';
import { thresholdQuery, type QueryDialect } from './threshold-queries';

/** k6 v1.7.1 internal/metrics/engine/engine.go `thresholdsRate`: how often k6 itself evaluates thresholds. */
export const K6_THRESHOLDS_RATE_MS = 2000;

/**
 * The exit code of a run aborted by an `abortOnFail` threshold: k6 v1.7.1 internal/metrics/engine/engine.go wraps the
 * abort in `errext.WithExitCodeIfNone(err, exitcodes.ThresholdsHaveFailed)`, the same 99 as failed thresholds at the end.
 */
export const K6_THRESHOLD_ABORT_EXIT_CODE = K6_THRESHOLDS_FAILED_EXIT_CODE;

/** Where and how the runners' data is read. */
export interface AbortScope {
  /** The run id (`testid` label). */
  readonly testid: string;
  /**
   * Range that holds every sample of the run: seconds (at least the time since the run's objects were applied) or a
   * PromQL duration. A run id is unique, so a longer range adds nothing.
   */
  readonly window: number | string;
  /** Seconds since the run started (k6's `timeSpentInTest`; counter `rate` divides by it), or a PromQL expression. */
  readonly elapsedSeconds: number | string;
  /** How runners write trends. @default "native" */
  readonly trends?: 'native' | 'classic';
  /** The query dialect of the backend. @default "prometheus" */
  readonly dialect?: QueryDialect;
}

/** One `abortOnFail` threshold as PromQL. */
export interface AbortQuery {
  /** The threshold. */
  readonly threshold: ParsedThreshold;
  /** Its value over all runners, in k6's unit (the verdict's query). */
  readonly observed: string;
  /** 1 when the threshold fails, 0 when it passes, no sample when there is no data yet (k6: empty sink, no abort). */
  readonly crossed: string;
}

/** A threshold that crossed: the run is to be stopped. */
export interface AbortCrossing {
  /** The threshold. */
  readonly threshold: ParsedThreshold;
  /** Its value over all runners when it crossed, in k6's unit. */
  readonly observed: number;
  /** Milliseconds since the run started at the evaluation that crossed. */
  readonly elapsedMs: number;
}

/** The operator under which a threshold fails: the negation of the one it must hold. */
const FAILS_WHEN: Readonly<Record<ThresholdOperator, string>> = { '<': '>=', '<=': '>', '>': '<=', '>=': '<', '==': '!=', '!=': '==' };

/** The `abortOnFail` thresholds of a test, in the order declared (thresholds as in the config, or parsed). */
export function abortOnFailThresholds(thresholds: ThresholdsConfig | readonly ParsedThreshold[]): ParsedThreshold[] {
  const parsed = Array.isArray(thresholds) ? (thresholds as readonly ParsedThreshold[]) : parseThresholds(thresholds as ThresholdsConfig);
  return parsed.filter((t) => t.abortOnFail);
}

/** Whether a failing `abortOnFail` threshold aborts the run at `elapsedMs` into it (k6 `runAll`: delay < time spent). */
export function abortDue(t: ParsedThreshold, elapsedMs: number): boolean {
  return t.delayAbortEvalMs === undefined || t.delayAbortEvalMs < elapsedMs;
}

/** The PromQL of each `abortOnFail` threshold over all runners. */
export function abortQueries(thresholds: ThresholdsConfig | readonly ParsedThreshold[], scope: AbortScope): AbortQuery[] {
  return abortOnFailThresholds(thresholds).map((t) => {
    const q = thresholdQuery(t, {
      testid: scope.testid,
      window: scope.window,
      durationSeconds: scope.elapsedSeconds,
      ...(scope.trends !== undefined ? { trends: scope.trends } : {}),
      ...(scope.dialect !== undefined ? { dialect: scope.dialect } : {}),
    });
    return { threshold: t, observed: q.promql, crossed: `(${q.promql}) ${FAILS_WHEN[t.operator]} bool ${String(t.value)}` };
  });
}

/** `http_req_failed{scenario:api} rate<0.01` */
export function abortThresholdName(t: ParsedThreshold): string {
  return `${t.key} ${t.expression}`;
}

/**
 * Evaluates the `abortOnFail` thresholds that are due at `elapsedMs` into the run and returns the first one (in the
 * order declared) that fails, or undefined. `observe` runs one PromQL expression and gives its single value, undefined
 * for no sample. No sample or NaN (nothing observed yet) passes, as k6 skips an empty sink.
 */
export async function firstAbortCrossing(
  thresholds: ThresholdsConfig | readonly ParsedThreshold[],
  scope: Omit<AbortScope, 'elapsedSeconds'> & { readonly elapsedMs: number },
  observe: (promql: string) => Promise<number | undefined>,
): Promise<AbortCrossing | undefined> {
  const due = abortOnFailThresholds(thresholds).filter((t) => abortDue(t, scope.elapsedMs));
  if (due.length === 0) return undefined;
  const elapsedSeconds = Math.max(1, Math.ceil(scope.elapsedMs / 1000));
  for (const q of abortQueries(due, { ...scope, elapsedSeconds })) {
    const observed = await observe(q.observed);
    if (observed === undefined || Number.isNaN(observed)) continue;
    if (!compareThreshold(observed, q.threshold.operator, q.threshold.value)) {
      return { threshold: q.threshold, observed, elapsedMs: scope.elapsedMs };
    }
  }
  return undefined;
}
