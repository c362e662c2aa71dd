import type { RunStatus } from './follow';
import type { Colors } from '../output';
import { formatDuration, formatNumber } from '../output';
import { promqlString } from '@k6-platform/constructs/internal';
import { scalarOf, type PromQuerier } from '../prometheus/client';

/** Live figures of a run over all its runners. */
export interface RunMetrics {
  /** Virtual users now, summed over runners. */
  readonly vus?: number;
  /** HTTP requests per second over the last window. */
  readonly requestRate?: number;
  /** Share of requests with `expected_response="false"` over the last window (0..1). */
  readonly errorRate?: number;
}

/** Window of the live rates; a few push intervals (5 s by default) so a rate always has two samples. */
export const PROGRESS_WINDOW = '30s';

/** The PromQL behind the progress line (exported so the benchmark and tests run exactly these). */
export function progressQueries(testid: string): { vus: string; requestRate: string; errorRate: string } {
  const sel = `testid=${promqlString(testid)}`;
  return {
    vus: `sum(k6_vus{${sel}})`,
    requestRate: `sum(rate(k6_http_reqs_total{${sel}}[${PROGRESS_WINDOW}]))`,
    errorRate: `sum(rate(k6_http_reqs_total{${sel},expected_response="false"}[${PROGRESS_WINDOW}])) / sum(rate(k6_http_reqs_total{${sel}}[${PROGRESS_WINDOW}]))`,
  };
}

/**
 * Reads the live figures; a figure Prometheus has no data for is left out. Rejects only when Prometheus fails (the
 * caller shows "metrics unavailable" and keeps following the run).
 */
export async function runMetrics(q: PromQuerier, testid: string, time?: number): Promise<RunMetrics> {
  const qs = progressQueries(testid);
  const [vus, requestRate, errorRate] = await Promise.all([
    scalarOf(q, qs.vus, time),
    scalarOf(q, qs.requestRate, time),
    scalarOf(q, qs.errorRate, time),
  ]);
  // With requests flowing but none failed, the error numerator has no series: that is 0 %, not "no data".
  const err = errorRate ?? (requestRate !== undefined && requestRate > 0 ? 0 : undefined);
  return {
    ...(vus !== undefined ? { vus } : {}),
    ...(requestRate !== undefined ? { requestRate } : {}),
    ...(err !== undefined && Number.isFinite(err) ? { errorRate: err } : {}),
  };
}

/** The clock of a progress line: before the start, time since the run was applied; then since the start, of the total. */
export interface ProgressClock {
  /** Seconds since the run's objects were applied. */
  readonly sinceApplied: number;
  /** Seconds since the runners were resumed (the first poll that saw the starter ready); absent before. */
  readonly sinceStarted?: number;
  /** The test's declared duration in seconds (`tests[].duration`); absent when it declares none. */
  readonly totalSeconds?: number;
}

/**
 * One progress line: `runners 4/4 ready, 4 running, 0 done, 0 failed | started | 120 VUs | 250.5 req/s | 0.4% errors |
 * 1m05s / 5m00s`. Runners are running once the starter has resumed them (the ready ones then execute); the time is
 * since the start, of the declared duration, or since the run was applied while it waits to start.
 */
export function progressLine(status: RunStatus, metrics: RunMetrics | undefined, clock: ProgressClock, c: Colors): string {
  const running = status.starter === 'started' ? status.ready : 0;
  const runners = [
    `runners ${status.ready}/${status.runners} ready`,
    `${running} running`,
    `${status.done} done`,
    status.failed > 0 ? c.red(`${status.failed} failed`) : `${status.failed} failed`,
  ].join(', ');
  const starter =
    status.starter === 'started' ? c.green('started') : status.starter === 'failed' ? c.red('start failed') : c.yellow('waiting to start');
  const parts = [runners, starter];
  if (metrics === undefined) parts.push(c.dim('metrics unavailable'));
  else {
    parts.push(metrics.vus !== undefined ? `${formatNumber(metrics.vus, 0)} VUs` : c.dim('- VUs'));
    parts.push(metrics.requestRate !== undefined ? `${formatNumber(metrics.requestRate, 1)} req/s` : c.dim('- req/s'));
    if (metrics.errorRate !== undefined) {
      const pct = `${formatNumber(metrics.errorRate * 100, 2)}% errors`;
      parts.push(metrics.errorRate > 0 ? c.red(pct) : pct);
    } else parts.push(c.dim('- errors'));
  }
  parts.push(
    clock.sinceStarted === undefined
      ? `${formatDuration(clock.sinceApplied)} since applied`
      : clock.totalSeconds !== undefined
        ? `${formatDuration(clock.sinceStarted)} / ${formatDuration(clock.totalSeconds)}`
        : formatDuration(clock.sinceStarted),
  );
  return parts.join(' | ');
}
