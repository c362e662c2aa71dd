/**
 * The pass/fail row: k6 thresholds judged over ALL runners of a run, with exactly the PromQL the verdict uses
 * (constructs/src/k6/thresholds.ts `thresholdQueries`, scope `testid=~"$testid"` over `$__range`), so the dashboard and
 * `loadtest verdict` cannot disagree on the same window.
 *
 * The generated dashboards show {@link DASHBOARD_THRESHOLDS}, the thresholds most tests set. A dashboard for one
 * test's own thresholds is `thresholdPanels(thresholdChecks(test.thresholds))`: the panels are built from any k6
 * thresholds map.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import {
  thresholdQueries,
  type RunTotalsSource,
  type ThresholdOperator,
  type ThresholdQueryScope,
  type ThresholdsConfig,
} from '@k6-platform/constructs/internal';
import { COLOR, instantQuery, statPanel, thresholds, UNIT } from './common';

/** The thresholds of the generated dashboards' pass/fail row (k6 syntax; time trends in milliseconds). */
export const DASHBOARD_THRESHOLDS: Readonly<Record<string, readonly string[]>> = {
  http_req_failed: ['rate<0.01'],
  http_req_duration: ['p(95)<500', 'p(99)<1500'],
  checks: ['rate>0.99'],
};

/** The verdict's query scope in a dashboard: the selected runs over the dashboard's time range. */
export const DASHBOARD_THRESHOLD_SCOPE: ThresholdQueryScope = {
  testid: '$testid',
  testidMatch: '=~',
  window: '$__range',
  durationSeconds: '$__range_s',
};

/** One pass/fail criterion over all runners. */
export interface ThresholdCheck {
  /** The threshold as written, e.g. `http_req_duration p(95)<500`. */
  readonly name: string;
  /** How the runners' data is combined (panel description). */
  readonly description: string;
  /** PromQL of the observed value over the run (instant query at the end of the range), in k6's unit. */
  readonly observed: string;
  /** Comparison the observed value must satisfy to pass. */
  readonly operator: ThresholdOperator;
  /** The limit, in k6's unit. */
  readonly limit: number;
  /** Grafana unit of the observed value. */
  readonly unit: string;
  /** Whether the query needs native histograms (trend aggregations). */
  readonly needsNativeHistograms: boolean;
}

/**
 * The checks of a k6 thresholds map, with the verdict's queries for runners writing `trends` (the verdict's own
 * `trends` option, from `runner.nativeHistograms`), their run totals from `runTotals` (the native dashboard switches
 * them by its `source` variable, as the verdict reads the recorded run totals when they are complete).
 */
export function thresholdChecks(
  map: ThresholdsConfig = DASHBOARD_THRESHOLDS,
  trends: 'native' | 'classic' = 'native',
  runTotals: RunTotalsSource = 'raw',
): ThresholdCheck[] {
  return thresholdQueries(map, { ...DASHBOARD_THRESHOLD_SCOPE, trends, runTotals }).map((q) => {
    const info = q.threshold.metricInfo;
    const unit = info.isTime ? UNIT.milliseconds : info.type === 'rate' ? UNIT.percent : UNIT.count;
    return {
      name: `${q.threshold.key} ${q.expression}`,
      description: `k6 threshold \`${q.threshold.key}: ["${q.expression}"]\` over all runners of the run: ${q.aggregation}.`,
      observed: q.promql,
      operator: q.threshold.operator,
      limit: q.threshold.value,
      unit,
      needsNativeHistograms: info.type === 'trend' && trends === 'native',
    };
  });
}

/**
 * The checks for runs in either trend mode (the run list, which has no config to tell): a trend threshold reads the
 * native histograms and, where a run has none, the classic stat gauges; other thresholds are the same in both.
 */
export function eitherTrendsChecks(map: ThresholdsConfig = DASHBOARD_THRESHOLDS): ThresholdCheck[] {
  const classic = thresholdChecks(map, 'classic');
  return thresholdChecks(map, 'native').map((n, i) => {
    const c = classic[i]!;
    if (c.observed === n.observed) return n;
    return { ...n, description: `${n.description} Runs without native histograms: ${c.description}`, observed: `(${n.observed}) or (${c.observed})` };
  });
}

/**
 * PromQL that is 1 when the check passes and 0 when it fails; empty when there is no data or the value is not a finite
 * number (NaN: a ratio over nothing; ±Inf: a quantile beyond the last bucket), which the verdict fails. The filters
 * `< Inf > -Inf` drop those without evaluating the observed query twice.
 */
export function passExpression(check: ThresholdCheck): string {
  return `((${check.observed}) < Inf > -Inf) ${check.operator} bool ${check.limit}`;
}

/** One PASS/FAIL stat and one observed-value stat per check. */
export function thresholdPanels(checks: readonly ThresholdCheck[]): cog.Builder<dashboard.Panel>[] {
  const panels: cog.Builder<dashboard.Panel>[] = [];
  for (const c of checks) {
    panels.push(
      statPanel({
        title: c.name,
        description: `${c.description} PASS when the observed value ${c.operator} ${c.limit}; the same query decides \`loadtest verdict\`.`,
        unit: UNIT.passFail,
        thresholds: thresholds(COLOR.bad, [COLOR.ok, 1]),
        span: 3,
        targets: [instantQuery(passExpression(c))],
      })
        .mappings([
          {
            type: dashboard.MappingType.ValueToText,
            options: { '0': { text: 'FAIL', color: COLOR.bad, index: 0 }, '1': { text: 'PASS', color: COLOR.ok, index: 1 } },
          },
        ])
        .noValue('FAIL (no data, or not a finite number)'),
      statPanel({
        title: `${c.name} (observed)`,
        description: `Observed value of ${c.name} over the run, over all runners. ${c.description}`,
        unit: c.unit,
        span: 3,
        targets: [instantQuery(c.observed)],
      }),
    );
  }
  return panels;
}
