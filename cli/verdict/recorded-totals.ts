/**
 * The verdict over the recorded run totals: the recording rules' `<level>:k6_<trend>_seconds:increase` series
 * (constructs/src/monitoring/recording-rules.ts `runIncrementExpr`), summed over the run, are the run's merged
 * histogram without reading every runner's series. A threshold reads them only when they are complete for its filters:
 * their observation count equals the run's `k6_http_reqs_total` over the same filters (k6 counts one request and one
 * `http_req_duration` observation per HTTP request, with the same tags and time: k6 v1.7.1 lib/netext/httpext/tracer.go
 * `Trail.SaveSamples`). A run from before the rules, a Prometheus without them, an evaluation missed or not yet
 * made, or a series counted twice all fail that check, and the threshold reads the raw series as before.
 */
import {
  hasRecordedRunHistogram,
  k6DurationSeconds,
  promqlString,
  RECORDING_RULE_INTERVAL,
  recordedRunIncrement,
  runHistogramLevel,
  type ParsedThreshold,
} from '@k6-platform/constructs/internal';
import { PrometheusQueryError } from '../prometheus/client';
import type { PrometheusApi } from './verdict';

/** A run window as the verdict found it (unix ms). */
export interface TotalsWindow {
  readonly start: number;
  readonly end: number;
}

/**
 * Where and over what the recorded totals of a run are read: evaluations are one interval apart, so the increment
 * holding the run's last push is stamped at most one interval after it.
 */
export function recordedTotalsWindow(window: TotalsWindow): { readonly at: number; readonly seconds: number } {
  const at = window.end + k6DurationSeconds(RECORDING_RULE_INTERVAL) * 1000;
  return { at, seconds: Math.ceil((at - window.start) / 1000) };
}

const filterKey = (t: ParsedThreshold): string => JSON.stringify(Object.entries(t.filters).sort(([a], [b]) => a.localeCompare(b)));

/** The completeness check of one threshold's filters: a sample when the recorded count equals the request count. */
export function completenessQuery(t: ParsedThreshold, testid: string, seconds: number): string {
  const sel = `{${[`testid=${promqlString(testid)}`, ...Object.entries(t.filters).map(([k, v]) => `${k}=${promqlString(v)}`)].join(',')}}`;
  const recorded = `histogram_count(sum(sum_over_time(${recordedRunIncrement(t.metric, runHistogramLevel(t))}${sel}[${seconds}s])))`;
  return `${recorded} == sum(last_over_time(k6_http_reqs_total${sel}[${seconds}s]))`;
}

/**
 * Whether a check answers one sample. A backend that refuses the query (one without native-histogram functions) holds
 * no run totals either: the thresholds read raw series, whose query then says what the backend lacks. An unreachable
 * backend is the verdict's outcome, not a failed check: that error goes on.
 */
async function holds(api: PrometheusApi, query: string, at: number): Promise<boolean> {
  try {
    const data = await api.data(query, at / 1000);
    return data.resultType === 'vector' && (data.result as unknown[]).length === 1;
  } catch (e) {
    if (e instanceof PrometheusQueryError) return false;
    throw e;
  }
}

/**
 * Which thresholds may read the recorded totals (by index in `thresholds`): one completeness check per distinct filter
 * set of the thresholds that have them.
 */
export async function completeRecordedTotals(
  api: PrometheusApi,
  thresholds: readonly ParsedThreshold[],
  testid: string,
  window: TotalsWindow,
): Promise<ReadonlySet<number>> {
  const { at, seconds } = recordedTotalsWindow(window);
  const checked = new Map<string, boolean>();
  const complete = new Set<number>();
  for (const [i, t] of thresholds.entries()) {
    if (t.metricInfo.type !== 'trend' || !hasRecordedRunHistogram(t)) continue;
    const key = filterKey(t);
    if (!checked.has(key)) checked.set(key, await holds(api, completenessQuery(t, testid, seconds), at));
    if (checked.get(key) === true) complete.add(i);
  }
  return complete;
}
