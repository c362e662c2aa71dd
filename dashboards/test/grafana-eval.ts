/**
 * Runs dashboard queries against a real Prometheus the way Grafana does: variables and built-in intervals substituted,
 * panel targets as range queries over the run (or instant queries at its end for stats and tables).
 */
import type { PrometheusHandle, PromQueryData, PromSeriesResult } from '../../test/support/prometheus';
import { type DashboardQuery, substituteVariables, type VariableValues } from './queries';

/** The time window of a dashboard view. */
export interface TimeWindow {
  /** Unix ms. */
  readonly from: number;
  /** Unix ms. */
  readonly to: number;
  /** Range-query step in seconds (Grafana's $__interval for the panel width). */
  readonly stepSeconds: number;
  /** Grafana's $__rate_interval: max($__interval + scrape interval, 4 x scrape interval), scrape interval 15 s. */
  readonly rateInterval: string;
}

/** A query's answer plus how long Prometheus took. */
export interface EvaluatedQuery {
  readonly query: DashboardQuery;
  /** The PromQL sent. */
  readonly promql: string;
  readonly data: PromQueryData;
  /** Series returned (float or histogram). */
  readonly series: PromSeriesResult[];
  /** Wall time of the HTTP call in ms. */
  readonly ms: number;
}

/** The built-in interval variables Grafana would set for this window. */
export function builtinVariables(w: TimeWindow): VariableValues {
  const rangeSeconds = Math.round((w.to - w.from) / 1000);
  return {
    __range: `${rangeSeconds}s`,
    __range_s: String(rangeSeconds),
    __interval: `${w.stepSeconds}s`,
    __rate_interval: w.rateInterval,
  };
}

/** Evaluates one query: instant at `to`, or a range query over the window. */
export async function evaluate(prom: PrometheusHandle, q: DashboardQuery, vars: VariableValues, w: TimeWindow): Promise<EvaluatedQuery> {
  const promql = substituteVariables(q.expr, { ...vars, ...builtinVariables(w) });
  const t0 = performance.now();
  const data = q.instant ? await prom.query(promql, w.to) : await prom.queryRange(promql, w.from, w.to, w.stepSeconds);
  const ms = performance.now() - t0;
  const series = Array.isArray(data.result) && data.resultType !== 'scalar' ? (data.result as PromSeriesResult[]) : [];
  return { query: q, promql, data, series, ms };
}

/** The single float value of an instant result with one series. */
export function onlyValue(e: EvaluatedQuery): number {
  if (e.series.length !== 1 || e.series[0]!.value === undefined) {
    throw new Error(
      `${e.query.source}/${e.query.refId}: expected one float sample, got ${JSON.stringify(e.data.result).slice(0, 400)} for ${e.promql}`,
    );
  }
  return Number(e.series[0]!.value[1]);
}

/** Whether a result holds at least one sample (float or histogram). */
export function hasData(e: EvaluatedQuery): boolean {
  return e.series.some((s) => s.value !== undefined || s.histogram !== undefined || (s.values?.length ?? 0) > 0 || (s.histograms?.length ?? 0) > 0);
}
