/**
 * `abortOnFail` during `loadtest run`: the test's abortOnFail thresholds evaluated over all runners once per push
 * interval from the moment the runners were resumed (constructs/src/k6/abort-thresholds.ts decides, as k6 does); the
 * first crossing stops the run through the same stop path as Ctrl-C (the run's stop Job).
 */
import {
  abortOnFailThresholds,
  abortThresholdName,
  firstAbortCrossing,
  type AbortCrossing,
  type ParsedThreshold,
  type QueryDialect,
  type ThresholdsConfig,
} from '@k6-platform/constructs/internal';
import { scalarOf, type PromQuerier } from '../prometheus/client';
import type { RunStatus } from './follow';

/** What the watch needs. */
export interface AbortWatchOptions {
  /** The thresholds that judge the run (only the abortOnFail ones are evaluated). */
  readonly thresholds: ThresholdsConfig | readonly ParsedThreshold[];
  /** The run id. */
  readonly testid: string;
  /** How runners write trends. */
  readonly trends: 'native' | 'classic';
  /** The query dialect of the backend. @default "prometheus" */
  readonly dialect?: QueryDialect;
  /** Prometheus. */
  readonly prom: PromQuerier;
  /** Milliseconds between evaluations: the runners' push interval (nothing new reaches Prometheus in between). */
  readonly intervalMs: number;
  /** The clock (unix ms); the queries are evaluated at it. */
  readonly now: () => number;
  /** When the run's objects were applied (unix ms): the window starts there, before any sample of the run. */
  readonly appliedAt: number;
}

/** One evaluation that crossed, and what it cost. */
export interface AbortDecision extends AbortCrossing {
  /** `http_req_failed rate<0.01` */
  readonly name: string;
  /** The clock when the evaluation began (unix ms). */
  readonly evaluatedAt: number;
}

/** The watch over one run: call {@link AbortWatch.onStatus} after every poll; the follower's sleep is bounded by it. */
export interface AbortWatch {
  /** Whether the test has abortOnFail thresholds at all. */
  readonly active: boolean;
  /** Evaluates when an evaluation is due (the runners resumed and the interval passed); resolves to a crossing. */
  onStatus(status: RunStatus): Promise<AbortDecision | undefined>;
  /** Milliseconds the follower may sleep from now before the next evaluation is due (`ms` when none is). */
  sleepBound(ms: number): number;
  /** The crossing, once one was seen. */
  readonly crossing: AbortDecision | undefined;
  /** Prometheus errors of evaluations (the run is followed on; an evaluation that fails decides nothing). */
  readonly errors: readonly string[];
}

/** Makes the watch of one run. */
export function abortWatch(opts: AbortWatchOptions): AbortWatch {
  const thresholds = abortOnFailThresholds(opts.thresholds);
  let startedAt: number | undefined;
  let nextDue: number | undefined;
  let crossing: AbortDecision | undefined;
  const errors: string[] = [];
  return {
    active: thresholds.length > 0,
    get crossing() {
      return crossing;
    },
    errors,
    sleepBound(ms) {
      if (nextDue === undefined || crossing !== undefined) return ms;
      return Math.max(0, Math.min(ms, nextDue - opts.now()));
    },
    async onStatus(status) {
      if (thresholds.length === 0 || crossing !== undefined) return crossing;
      const t = opts.now();
      // The run's clock starts with the resume (k6 `timeSpentInTest`): the first poll that sees the starter ready.
      if (status.starter !== 'started') return undefined;
      startedAt ??= t;
      nextDue ??= t;
      if (t < nextDue) return undefined;
      nextDue = t + opts.intervalMs;
      const scope = {
        testid: opts.testid,
        window: Math.max(1, Math.ceil((t - opts.appliedAt) / 1000)),
        elapsedMs: t - startedAt,
        trends: opts.trends,
        ...(opts.dialect !== undefined ? { dialect: opts.dialect } : {}),
      };
      try {
        const c = await firstAbortCrossing(thresholds, scope, (q) => scalarOf(opts.prom, q, t / 1000));
        if (c !== undefined) crossing = { ...c, name: abortThresholdName(c.threshold), evaluatedAt: t };
      } catch (e) {
        errors.push(e instanceof Error ? e.message : String(e));
      }
      return crossing;
    },
  };
}

/** `http_req_failed rate<0.01 (observed 0.25)`, in k6's unit (ms for time trends). */
export function crossingText(c: Pick<AbortDecision, 'name' | 'observed' | 'threshold'>): string {
  const unit = c.threshold.metricInfo.isTime ? ' ms' : '';
  return `${c.name} (observed ${String(Number(c.observed.toPrecision(6)))}${unit})`;
}
