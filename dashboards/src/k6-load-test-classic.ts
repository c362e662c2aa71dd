/**
 * "k6 load test (classic trend stats)": the same dashboard for runs with native histograms off, where each trend
 * arrives as one gauge per stat (`k6_http_req_duration_p95`, `_min`, ...). Parity with the reference "k6 Prometheus"
 * dashboard (grafana.com 19665). No heatmap (there are no buckets).
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { baseDashboard, type DashboardDefinition, finalizeDashboard } from './common';
import { adhocVariable, customVariable, datasourceVariable, nameVariable, scenarioVariable, testidVariable, zoneVariable } from './variables';
import { CLASSIC_TREND_STATS } from '@k6-platform/constructs/internal';
import { DEFAULT_RUNNER_NAMESPACE, type LoadTestDashboardOptions } from './k6-load-test';
import { addRows, loadTestRows, runnerVariables } from './load-test-panels';
import { classicLatency } from './queries';
import { DASHBOARD_THRESHOLDS, thresholdChecks, thresholdPanels } from './thresholds-row';
import { passFailPanels } from './validity-row';
import { browserRow, classicBrowser } from './browser-panels';

/** Fixed uid of the dashboard. */
export const K6_LOAD_TEST_CLASSIC_UID = 'k6-load-test-classic';

/**
 * The trend stats the runners must send for every panel to have data (`K6_PROMETHEUS_RW_TREND_STATS`; k6's default is
 * `p(99)` only).
 */
export { CLASSIC_TREND_STATS };

/** The stat variable of classic mode (the gauges that exist). */
export function quantileStatVariable(): dashboard.CustomVariableBuilder {
  return customVariable({
    name: 'quantile_stat',
    label: 'Stat',
    description: `Trend stat of the latency panels (needs K6_PROMETHEUS_RW_TREND_STATS=${CLASSIC_TREND_STATS} on the runners).`,
    values: ['p99', 'p95', 'p90', 'med'],
    current: 'p99',
  });
}

/** Builds the classic-stats load-test dashboard. */
export function k6LoadTestClassicDashboard(options: LoadTestDashboardOptions = {}): dashboard.Dashboard {
  const builder = baseDashboard({
    uid: K6_LOAD_TEST_CLASSIC_UID,
    title: 'k6 load test (classic trend stats)',
    description:
      `One or more k6 runs (testid) with classic trend stats (K6_PROMETHEUS_RW_TREND_STATS=${CLASSIC_TREND_STATS}). Percentile ` +
      'panels show the worst series, an upper bound of the true percentile; the "k6 load test" dashboard (native histograms) shows true ones.',
  }).variables([
    datasourceVariable(),
    testidVariable(),
    zoneVariable(),
    scenarioVariable(),
    nameVariable(),
    quantileStatVariable(),
    adhocVariable(),
    ...runnerVariables(options.runnerNamespace ?? DEFAULT_RUNNER_NAMESPACE),
  ]);
  const rows = loadTestRows(classicLatency);
  // The verdict of runners writing classic stats (`loadtest verdict` with runner.nativeHistograms false): trend
  // percentiles are the worst series' gauge, an upper bound.
  const checks = thresholdChecks(DASHBOARD_THRESHOLDS, 'classic');
  rows.push({
    title: 'Pass / fail (all runners; trend percentiles are worst-series upper bounds): verdict, thresholds, validity',
    panels: passFailPanels(checks, thresholdPanels(checks)),
  });
  return finalizeDashboard(addRows(builder, rows).withRow(browserRow(classicBrowser)).build());
}

/** Registry entry. */
export const k6LoadTestClassic: DashboardDefinition = { uid: K6_LOAD_TEST_CLASSIC_UID, build: () => k6LoadTestClassicDashboard() };
