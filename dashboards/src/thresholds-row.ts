/**
 * The pass/fail row: thresholds judged over ALL runners of a run, from the same Prometheus data the dashboards show.
 *
 * Extension point: a {@link ThresholdCheck} is an observed PromQL value plus a comparison with a limit. The generic
 * checks below cover the two thresholds most tests set (`http_req_failed: rate<X`, `http_req_duration: p(95)<Y`) with
 * the limits as dashboard variables; a verdict module that turns k6 threshold expressions into PromQL can feed its own
 * checks to {@link thresholdPanels} (one PASS/FAIL stat and one observed-value stat each) without touching the panels.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { COLOR, instantQuery, statPanel, textVariable, thresholds, UNIT } from './common';
import { counterTotal, type LatencyQueries, QUANTILES } from './load-test-panels';
import { SELECTOR } from './common';

/** Comparison operators of k6 thresholds. */
export type ThresholdOperator = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** One pass/fail criterion over all runners. */
export interface ThresholdCheck {
  /** Short name shown as the panel title prefix, e.g. `http_req_duration p(95)<$threshold_p95`. */
  readonly name: string;
  /** What the check means (panel description). */
  readonly description: string;
  /** PromQL of the observed value over the whole run (instant query at the end of the range). */
  readonly observed: string;
  /** Comparison the observed value must satisfy to pass. */
  readonly operator: ThresholdOperator;
  /** The limit: a number or a dashboard variable (`$threshold_p95`). */
  readonly limit: string;
  /** Grafana unit of the observed value. */
  readonly unit: string;
}

/** Variables holding the limits of the generic checks (editable per run in the dashboard). */
export function thresholdVariables(): dashboard.TextBoxVariableBuilder[] {
  return [
    textVariable('threshold_p95', 'p95 limit (s)', 'Limit of the generic http_req_duration p(95) check, in seconds.', '0.5'),
    textVariable('threshold_error_ratio', 'Error ratio limit', 'Limit of the generic http_req_failed rate check (0.01 = 1%).', '0.01'),
  ];
}

/** The generic checks: error ratio and p95 latency over the run, over all runners. */
export function genericThresholdChecks(l: LatencyQueries): ThresholdCheck[] {
  const total = counterTotal('k6_http_reqs_total', SELECTOR.http);
  const failed = counterTotal('k6_http_reqs_total', `${SELECTOR.http}, expected_response="false"`);
  return [
    {
      name: 'http_req_failed rate',
      description:
        'k6 threshold `http_req_failed: ["rate<$threshold_error_ratio"]` judged over all runners: failed requests / all requests over the run.',
      observed: `(${failed} or ${total} * 0) / ${total}`,
      operator: '<',
      limit: '$threshold_error_ratio',
      unit: UNIT.percent,
    },
    {
      name: 'http_req_duration p(95)',
      description: 'k6 threshold `http_req_duration: ["p(95)<$threshold_p95"]` judged over all runners (seconds).',
      observed: l.overRun('http_req_duration', QUANTILES.p95, SELECTOR.http),
      operator: '<',
      limit: '$threshold_p95',
      unit: UNIT.seconds,
    },
  ];
}

/** PromQL that is 1 when the check passes and 0 when it fails (empty when there is no data). */
export function passExpression(check: ThresholdCheck): string {
  return `(${check.observed}) ${check.operator} bool ${check.limit}`;
}

/** One PASS/FAIL stat and one observed-value stat per check. */
export function thresholdPanels(checks: readonly ThresholdCheck[]): cog.Builder<dashboard.Panel>[] {
  const panels: cog.Builder<dashboard.Panel>[] = [];
  for (const c of checks) {
    panels.push(
      statPanel({
        title: `${c.name} ${c.operator} ${c.limit}`,
        description: `${c.description} PASS when the observed value ${c.operator} ${c.limit}.`,
        unit: UNIT.passFail,
        thresholds: thresholds(COLOR.bad, [COLOR.ok, 1]),
        span: 6,
        targets: [instantQuery(passExpression(c))],
      }).mappings([
        {
          type: dashboard.MappingType.ValueToText,
          options: { '0': { text: 'FAIL', color: COLOR.bad, index: 0 }, '1': { text: 'PASS', color: COLOR.ok, index: 1 } },
        },
      ]),
      statPanel({
        title: `${c.name} observed`,
        description: `Observed value of ${c.name} over the run, over all runners.`,
        unit: c.unit,
        span: 6,
        targets: [instantQuery(c.observed)],
      }),
    );
  }
  return panels;
}
