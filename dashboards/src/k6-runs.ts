/**
 * "k6 runs": one table row per run (testid) in the time range: start, duration, total requests, error ratio, p95 and
 * checks pass ratio, each run linking to its load-test dashboard with the testid set; below it one row per run with
 * its verdict (PASS / FAIL / INCONCLUSIVE, the queries of the load-test dashboard's pass/fail row) and why.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import {
  baseDashboard,
  type DashboardDefinition,
  ERROR_RATIO_THRESHOLDS,
  finalizeDashboard,
  LATENCY_THRESHOLDS,
  NEUTRAL_THRESHOLDS,
  row,
  SUCCESS_RATIO_THRESHOLDS,
  tablePanel,
  tableQuery,
  UNIT,
} from './common';
import { datasourceVariable, testidVariable } from './variables';
import { K6_LOAD_TEST_UID } from './k6-load-test';
import { K6_LOAD_TEST_CLASSIC_UID } from './k6-load-test-classic';
import { K6_COMPARE_UID } from './k6-compare';
import { checksRatio, runnerVariables } from './load-test-panels';
import { nativeLatency } from './queries';
import { DEFAULT_RUNNER_NAMESPACE } from './k6-load-test';
import { eitherTrendsChecks } from './thresholds-row';
import { DASHBOARD_RUN_SELECTOR, reasonsPanel, validityChecks, verdictPanel } from './validity-row';

/** Fixed uid of the dashboard. */
export const K6_RUNS_UID = 'k6-runs';

const RUN = 'testid=~"$testid"';
/**
 * Start of a run: its first k6_vus sample with active VUs (every k6 run sends k6_vus, HTTP or not). Not the first k6_vus
 * sample: k6 v1.7.1 (internal/execution/scheduler.go emitVUsAndVUsMax) writes it from VU initialisation on, 0 while a
 * `--paused` run waits for the starter. The same rule as `loadtest runs` and the verdict (cli/prometheus/runs.ts).
 */
const firstSeen = `min by (testid) (min_over_time((timestamp(k6_vus{${RUN}}) and k6_vus{${RUN}} > 0)[$__range:$__interval]))`;
/** Last sample time of a run, from k6_vus. */
const lastSeen = `max by (testid) (max_over_time(timestamp(k6_vus{${RUN}})[$__range:$__interval]))`;
const total = `sum by (testid) (last_over_time(k6_http_reqs_total{${RUN}}[$__range]))`;
const failed = `sum by (testid) (last_over_time(k6_http_reqs_total{${RUN}, expected_response="false"}[$__range]))`;

/** The run-list queries, by column (exported for tests). */
export const RUN_COLUMNS = {
  start: `${firstSeen} * 1000`,
  duration: `${lastSeen} - ${firstSeen}`,
  requests: total,
  'error ratio': `(${failed} or ${total} * 0) / ${total}`,
  // Native runs have the histogram; classic runs the p95 gauge (when their trend stats include p(95)).
  p95:
    `histogram_quantile(0.95, sum by (testid) (increase(k6_http_req_duration_seconds{${RUN}}[$__range]))) ` +
    `or max by (testid) (last_over_time(k6_http_req_duration_p95{${RUN}}[$__range]))`,
  'checks pass': checksRatio(nativeLatency, RUN, ['testid'], true),
} as const;

/** Link from a run row to its dashboard (time range kept). */
export function runLink(uid: string, title: string): { title: string; url: string } {
  return { title, url: `/d/${uid}/?var-testid=\${__value.raw}&\${__url_time_range}` };
}

/** Builds the runs dashboard. */
export function k6RunsDashboard(): dashboard.Dashboard {
  const names = Object.keys(RUN_COLUMNS);
  const columns = Object.fromEntries(names.map((n, i) => [`Value #${String.fromCharCode(65 + i)}`, n]));
  const runsTable = tablePanel({
    title: 'Runs',
    description:
      'One row per k6 run (testid) seen in the time range: start, duration, total requests, error ratio (failed / all requests), ' +
      "http_req_duration p95 over all runners (classic runs: the worst series' p95 gauge, an upper bound), and the checks pass ratio (passed / all evaluations over all runners). Click a testid to open its dashboard.",
    unit: UNIT.count,
    thresholds: NEUTRAL_THRESHOLDS(),
    height: 16,
    targets: Object.values(RUN_COLUMNS).map((expr) => tableQuery(expr)),
    columns,
    columnUnits: {
      start: UNIT.dateTime,
      duration: UNIT.seconds,
      requests: UNIT.count,
      'error ratio': UNIT.percent,
      p95: UNIT.seconds,
      'checks pass': UNIT.percent,
    },
  })
    .sortBy([new common.TableSortByFieldStateBuilder().displayName('start').desc(true)])
    .overrideByName('testid', [
      {
        id: 'links',
        value: [
          runLink(K6_LOAD_TEST_UID, 'Open in k6 load test'),
          runLink(K6_LOAD_TEST_CLASSIC_UID, 'Open in k6 load test (classic trend stats)'),
          runLink(K6_COMPARE_UID, 'Compare with a baseline'),
        ],
      },
    ])
    .overrideByName('error ratio', [
      { id: 'thresholds', value: ERROR_RATIO_THRESHOLDS().build() },
      { id: 'custom.cellOptions', value: { type: 'color-background' } },
    ])
    .overrideByName('p95', [
      { id: 'thresholds', value: LATENCY_THRESHOLDS().build() },
      { id: 'custom.cellOptions', value: { type: 'color-background' } },
    ])
    .overrideByName('checks pass', [
      { id: 'thresholds', value: SUCCESS_RATIO_THRESHOLDS().build() },
      { id: 'custom.cellOptions', value: { type: 'color-background' } },
    ]);

  return finalizeDashboard(
    baseDashboard({
      uid: K6_RUNS_UID,
      title: 'k6 runs',
      description: 'Every k6 run (testid) in the time range, with its headline numbers and a link to its dashboard.',
      from: 'now-7d',
      refresh: '1m',
    })
      .variables([datasourceVariable(), testidVariable(), ...runnerVariables(DEFAULT_RUNNER_NAMESPACE)])
      .withPanel(runsTable)
      // Grafana repeats the row once per selected run, `$testid` then one run: the verdict's single-run queries apply.
      .withRow(row('Run $testid').repeat('testid'))
      .withPanel(verdictPanel(eitherTrendsChecks(), validityChecks(), DASHBOARD_RUN_SELECTOR, 'Verdict of $testid'))
      .withPanel(reasonsPanel(validityChecks(), 'Why $testid is inconclusive'))
      .build(),
  );
}

/** Registry entry. */
export const k6Runs: DashboardDefinition = { uid: K6_RUNS_UID, build: k6RunsDashboard };
