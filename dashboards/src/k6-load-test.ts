/**
 * "k6 load test": the default dashboard of a run, for native-histogram trends (k6_<trend>_seconds). Parity with the
 * reference "k6 Prometheus (Native Histograms)" dashboard (grafana.com 18030), plus a latency heatmap, p50/p90/p95/p99
 * together, errors by status, a per-runner view, runner CPU/memory and a pass/fail row.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { DEFAULT_NAMESPACES } from '@k6-platform/constructs/internal';
import { baseDashboard, type DashboardDefinition, finalizeDashboard } from './common';
import { adhocVariable, customVariable, datasourceVariable, nameVariable, scenarioVariable, testidVariable, zoneVariable } from './variables';
import { addRows, loadTestRows, runnerVariables } from './load-test-panels';
import { recordedLatency, SOURCE_GUARDS, sourceVariable } from './recorded-queries';
import { thresholdChecks, thresholdPanels } from './thresholds-row';
import { passFailPanels } from './validity-row';
import { browserRow, nativeBrowser } from './browser-panels';

/** Fixed uid of the dashboard (links from the runs dashboard use it). */
export const K6_LOAD_TEST_UID = 'k6-load-test';

/** Options of {@link k6LoadTestDashboard}. */
export interface LoadTestDashboardOptions {
  /**
   * Namespace of the runner pods (default of the runner_namespace variable).
   * @default "k6"
   */
  readonly runnerNamespace?: string;
}

/** Default load-test namespace (the platform config's `namespaces.loadTests` default). */
export const DEFAULT_RUNNER_NAMESPACE = DEFAULT_NAMESPACES.loadTests;

/** The quantile variable of native mode: any number in [0, 1]; the list offers the usual ones. */
export function quantileVariable(): dashboard.CustomVariableBuilder {
  return customVariable({
    name: 'quantile',
    label: 'Quantile',
    description: 'Quantile of the latency panels (0.99 = p99), computed from the merged native histograms.',
    values: ['0.5', '0.75', '0.9', '0.95', '0.99', '0.999'],
    current: '0.99',
  }).allowCustomValue(true);
}

/** Builds the native-histogram load-test dashboard. */
export function k6LoadTestDashboard(options: LoadTestDashboardOptions = {}): dashboard.Dashboard {
  const builder = baseDashboard({
    uid: K6_LOAD_TEST_UID,
    title: 'k6 load test',
    description:
      'One or more k6 runs (testid) with native-histogram trends, over all runners. Reads the platform recording rules; pick ' +
      'Series = raw for runs recorded before the rules existed or a Prometheus without them.',
  }).variables([
    datasourceVariable(),
    testidVariable(),
    zoneVariable(),
    scenarioVariable(),
    nameVariable(),
    quantileVariable(),
    sourceVariable(),
    adhocVariable(),
    ...runnerVariables(options.runnerNamespace ?? DEFAULT_RUNNER_NAMESPACE),
  ]);
  const rows = loadTestRows(recordedLatency);
  const checks = thresholdChecks(undefined, 'native', SOURCE_GUARDS);
  rows.push({ title: 'Pass / fail (all runners): verdict, thresholds, validity', panels: passFailPanels(checks, thresholdPanels(checks)) });
  return finalizeDashboard(addRows(builder, rows).withRow(browserRow(nativeBrowser)).build());
}

/** Registry entry. */
export const k6LoadTest: DashboardDefinition = { uid: K6_LOAD_TEST_UID, build: () => k6LoadTestDashboard() };
