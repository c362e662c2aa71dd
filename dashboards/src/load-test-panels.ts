/**
 * The panels of the k6 load-test dashboards, written once for both trend modes. Only latency queries differ between
 * native histograms (`k6_<trend>_seconds`, one histogram per series) and classic trend stats (`k6_<trend>_<stat>`
 * gauges): {@link LatencyQueries} hides that difference; every other query is the same in both dashboards.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import { RECORDED_HTTP_TRENDS } from '@k6-platform/constructs/internal';
import {
  COLOR,
  ERROR_RATIO_THRESHOLDS,
  heatmapPanel,
  instantQuery,
  LATENCY_THRESHOLDS,
  NONZERO_WARNING_THRESHOLDS,
  prometheusQuery,
  row,
  SELECTOR,
  statPanel,
  SUCCESS_RATIO_THRESHOLDS,
  tablePanel,
  tableQuery,
  thresholds,
  timeseriesPanel,
  UNIT,
  WINDOW_STEP,
} from './common';
import { textVariable } from './variables';
import {
  durationPerRunnerPanel,
  rateRunnerPanel,
  runnerCpuPanel,
  runnerMemoryPanel,
  runnerThrottlingPanel,
  vusPerRunnerPanel,
  zonePanels,
} from './runner-panels';
import { counterTotal, descriptionSuffix, latencyLabel, QUANTILES, type LatencyQueries } from './queries';

const HTTP_FAILED = 'expected_response="false"';

// ---------------------------------------------------------------------------------------------------------------
// Performance overview

/** Active and maximum VUs over all runners. */
export function vusPanel(l: LatencyQueries): cog.Builder<dashboard.Panel> {
  return timeseriesPanel({
    title: 'Virtual users',
    description: 'Active VUs summed over all runners (k6_vus), and the allocated maximum (k6_vus_max).',
    unit: UNIT.vus,
    span: 8,
    targets: [prometheusQuery(l.gauge('k6_vus', SELECTOR.run), 'VUs'), prometheusQuery(l.gauge('k6_vus_max', SELECTOR.run), 'VUs max')],
  });
}

/** Request rate over all runners. */
export function requestRatePanel(l: LatencyQueries): cog.Builder<dashboard.Panel> {
  return timeseriesPanel({
    title: 'Request rate',
    description: 'HTTP requests per second over all runners, and the failed ones (expected_response="false", what http_req_failed counts).',
    unit: UNIT.requestsPerSecond,
    span: 8,
    targets: [
      prometheusQuery(l.rate('k6_http_reqs_total', SELECTOR.http), 'requests'),
      prometheusQuery(l.rate('k6_http_reqs_total', `${SELECTOR.http}, ${HTTP_FAILED}`), 'failed'),
    ],
  });
}

/** Request duration at the selected quantile. */
export function durationPanel(l: LatencyQueries): cog.Builder<dashboard.Panel> {
  return timeseriesPanel({
    title: latencyLabel(l, 'Request duration at selected quantile'),
    description: 'http_req_duration at the quantile chosen in the dashboard variable, over all runners.' + descriptionSuffix(l),
    unit: UNIT.seconds,
    span: 8,
    thresholds: LATENCY_THRESHOLDS(),
    targets: [prometheusQuery(l.overTime('http_req_duration', QUANTILES.selected, SELECTOR.http), latencyLabel(l, 'http_req_duration'))],
  });
}

/** The overview stats: totals, failures, error ratio, peak RPS, run-wide p95, dropped iterations. */
export function overviewStats(l: LatencyQueries): cog.Builder<dashboard.Panel>[] {
  const total = l.total('k6_http_reqs_total', SELECTOR.http);
  const failed = l.total('k6_http_reqs_total', `${SELECTOR.http}, ${HTTP_FAILED}`);
  return [
    statPanel({
      title: 'Total requests',
      description: 'HTTP requests of the selected runs from their start to the end of the time range, over all runners.',
      unit: UNIT.count,
      targets: [instantQuery(total)],
    }),
    statPanel({
      title: 'Failed requests',
      description: 'Requests with expected_response="false" (what http_req_failed counts), from the start of the run.',
      unit: UNIT.count,
      thresholds: NONZERO_WARNING_THRESHOLDS(),
      targets: [instantQuery(`${failed} or vector(0)`)],
    }),
    statPanel({
      title: 'Error ratio',
      description: 'Failed requests / all requests over the run, over all runners (the http_req_failed rate k6 would report for the whole run).',
      unit: UNIT.percent,
      thresholds: ERROR_RATIO_THRESHOLDS(),
      targets: [instantQuery(`(${failed} or ${total} * 0) / ${total}`)],
    }),
    statPanel({
      title: 'Peak request rate',
      description: 'Highest request rate over all runners within the time range.',
      unit: UNIT.requestsPerSecond,
      targets: [instantQuery(`max_over_time(${l.rate('k6_http_reqs_total', SELECTOR.http)}[$__range:$__interval])`)],
    }),
    statPanel({
      title: latencyLabel(l, 'Request duration p95 (run)'),
      description: 'http_req_duration p95 over the whole run, over all runners.' + descriptionSuffix(l),
      unit: UNIT.seconds,
      thresholds: LATENCY_THRESHOLDS(),
      targets: [instantQuery(l.overRun('http_req_duration', QUANTILES.p95, SELECTOR.http))],
    }),
    statPanel({
      title: 'Dropped iterations',
      description:
        'Iterations k6 could not start on schedule (arrival-rate executors without a free VU). Anything above 0 means the load ' +
        'generator did not produce the configured load: raise preAllocatedVUs/maxVUs or parallelism, or check runner CPU below.',
      unit: UNIT.count,
      thresholds: NONZERO_WARNING_THRESHOLDS(),
      targets: [instantQuery(`${counterTotal('k6_dropped_iterations_total', SELECTOR.scenario)} or vector(0)`)],
    }),
  ];
}

/** Data sent and received. */
export function transferPanel(l: LatencyQueries): cog.Builder<dashboard.Panel> {
  return timeseriesPanel({
    title: 'Data transfer',
    description: 'Bytes per second sent and received by all runners (k6_data_sent_total, k6_data_received_total).',
    unit: UNIT.bytesPerSecond,
    targets: [
      prometheusQuery(l.rate('k6_data_sent_total', SELECTOR.scenario), 'sent'),
      prometheusQuery(l.rate('k6_data_received_total', SELECTOR.scenario), 'received'),
    ],
  });
}

/** Iteration rate, dropped iteration rate and iteration duration. */
export function iterationsPanel(l: LatencyQueries): cog.Builder<dashboard.Panel> {
  return timeseriesPanel({
    title: 'Iterations',
    description:
      'Iterations per second, dropped iterations per second (should stay at 0) and iteration_duration at the selected quantile (right axis).' +
      descriptionSuffix(l),
    unit: UNIT.iterationsPerSecond,
    targets: [
      prometheusQuery(l.rate('k6_iterations_total', SELECTOR.scenario), 'iterations'),
      prometheusQuery(l.rate('k6_dropped_iterations_total', SELECTOR.scenario), 'dropped'),
      prometheusQuery(l.overTime('iteration_duration', QUANTILES.selected, SELECTOR.scenario), latencyLabel(l, 'iteration_duration')),
    ],
  }).overrideByName(latencyLabel(l, 'iteration_duration'), [
    { id: 'unit', value: UNIT.seconds },
    { id: 'custom.axisPlacement', value: 'right' },
  ]);
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP

/**
 * The request timing phases k6 measures, in request order: the list the recording rules record at the `request` level
 * (one list, so the timing panel always has a recorded series for each phase).
 */
export const HTTP_TIMINGS = RECORDED_HTTP_TRENDS;

/** All timing phases at the selected quantile. */
export function timingsPanel(l: LatencyQueries): cog.Builder<dashboard.Panel> {
  return timeseriesPanel({
    title: latencyLabel(l, 'HTTP latency timings'),
    description:
      'Each phase of the requests at the selected quantile: blocked (waiting for a connection), connecting, TLS handshaking, sending, ' +
      'waiting (time to first byte), receiving, and the total duration (sending + waiting + receiving).' +
      descriptionSuffix(l),
    unit: UNIT.seconds,
    thresholds: LATENCY_THRESHOLDS(),
    targets: HTTP_TIMINGS.map((t) => prometheusQuery(l.overTime(t, QUANTILES.selected, SELECTOR.http), latencyLabel(l, t))),
  });
}

/** p50/p90/p95/p99 together. */
export function percentilesPanel(l: LatencyQueries): cog.Builder<dashboard.Panel> {
  const qs = [QUANTILES.p50, QUANTILES.p90, QUANTILES.p95, QUANTILES.p99];
  return timeseriesPanel({
    title: latencyLabel(l, 'Request duration percentiles'),
    description: 'http_req_duration p50, p90, p95 and p99 together, over all runners.' + descriptionSuffix(l),
    unit: UNIT.seconds,
    thresholds: LATENCY_THRESHOLDS(),
    targets: qs.map((q) => prometheusQuery(l.overTime('http_req_duration', q, SELECTOR.http), latencyLabel(l, q.label))),
  });
}

/** Latency heatmap straight from the native histogram (native mode only). */
export function heatmapLatencyPanel(l: LatencyQueries): cog.Builder<dashboard.Panel> {
  return heatmapPanel({
    title: 'Request duration heatmap',
    description:
      'Distribution of http_req_duration per time step, drawn from the native histogram buckets Prometheus returns ' +
      '(no client-side bucketing): bands show modes, outliers show as sparse cells far above. One column a minute at ' +
      'least: each holds the requests of its own minute, none counted in two columns.',
    unit: UNIT.seconds,
    targets: [
      prometheusQuery(l.histogramRate('http_req_duration', SELECTOR.http), 'http_req_duration')
        .format(prometheus.PromQueryFormat.Heatmap)
        .interval(WINDOW_STEP),
    ],
  });
}

/** Duration split by expected_response (the upstream native dashboard queried `waiting` here under a duration legend). */
export function durationByExpectedPanel(l: LatencyQueries): cog.Builder<dashboard.Panel> {
  return timeseriesPanel({
    title: latencyLabel(l, 'Request duration by expected_response'),
    description:
      'http_req_duration at the selected quantile, successful (expected_response="true") and failed requests apart: fast failures ' +
      'pull the overall quantile down.' +
      descriptionSuffix(l),
    unit: UNIT.seconds,
    thresholds: LATENCY_THRESHOLDS(),
    targets: [
      prometheusQuery(
        l.overTime('http_req_duration', QUANTILES.selected, SELECTOR.http, ['expected_response']),
        latencyLabel(l, 'duration expected_response={{expected_response}}'),
      ),
    ],
  });
}

/** Request rate split by expected_response. */
export function rateByExpectedPanel(l: LatencyQueries): cog.Builder<dashboard.Panel> {
  return timeseriesPanel({
    title: 'Request rate by expected_response',
    description: 'Requests per second, successful (expected_response="true") and failed apart.',
    unit: UNIT.requestsPerSecond,
    targets: [prometheusQuery(l.rate('k6_http_reqs_total', SELECTOR.http, ['expected_response']), 'expected_response={{expected_response}}')],
  });
}

/** Failed requests per second by HTTP status (0 = no response: timeout, connection refused, DNS). */
export function errorsByStatusPanel(l: LatencyQueries): cog.Builder<dashboard.Panel> {
  return timeseriesPanel({
    title: 'Errors by status code',
    description: 'Failed requests per second by HTTP status; status 0 means no response at all (timeout, connection refused, DNS error).',
    unit: UNIT.requestsPerSecond,
    thresholds: thresholds(COLOR.bad),
    targets: [prometheusQuery(l.rate('k6_http_reqs_total', `${SELECTOR.http}, ${HTTP_FAILED}`, ['status']), 'status {{status}}')],
  });
}

/** Requests by URL: count, min, max, p95, p99 by name, method and status. */
export function requestsByUrlPanel(l: LatencyQueries): cog.Builder<dashboard.Panel> {
  const by = ['name', 'method', 'status'];
  return tablePanel({
    title: 'Requests by URL',
    description:
      'Per name (URL), method and status over the run: request count and http_req_duration min, max, p95 and p99.' +
      (l.mode === 'native' ? ' With native histograms min and max are bucket bounds (within about 9%).' : '') +
      descriptionSuffix(l),
    unit: UNIT.seconds,
    thresholds: LATENCY_THRESHOLDS(),
    height: 10,
    targets: [
      tableQuery(l.total('k6_http_reqs_total', SELECTOR.http, by)),
      tableQuery(l.extreme('http_req_duration', 'min', SELECTOR.http, by)),
      tableQuery(l.extreme('http_req_duration', 'max', SELECTOR.http, by)),
      tableQuery(l.overRun('http_req_duration', QUANTILES.p95, SELECTOR.http, by)),
      tableQuery(l.overRun('http_req_duration', QUANTILES.p99, SELECTOR.http, by)),
    ],
    // min and max are exact in both modes (the smallest min, the largest max); classic percentiles are the worst series'
    columns: { 'Value #A': 'requests', 'Value #B': 'min', 'Value #C': 'max', 'Value #D': latencyLabel(l, 'p95'), 'Value #E': latencyLabel(l, 'p99') },
    columnUnits: { requests: UNIT.count },
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Checks

/**
 * Pass ratio of checks over all runners, by `by`. k6 writes no per-check counter, only each runner's cumulative pass
 * ratio per check (a Rate): each ratio is weighted by that runner's iterations of the same scenario (the number of
 * evaluations when a check runs once per iteration, the usual script shape), as the verdict does. `overRun` takes
 * each series' value at the end of the range; otherwise the value at each step.
 */
export function checksRatio(l: LatencyQueries, sel: string, by: readonly string[], overRun: boolean): string {
  return `${l.derived('k6_checks_weighted', sel, by, overRun)} / ${l.derived('k6_checks_weight', sel, by, overRun)}`;
}

const CHECKS_WEIGHTING =
  "k6 sends each runner's cumulative pass ratio per check; ratios are weighted by the runner's iterations of the same scenario, " +
  'which makes the result passed / all evaluations when each check runs once per iteration (the verdict weighs them the same way).';

/** Success ratio by check over the run. */
export function checksTablePanel(l: LatencyQueries): cog.Builder<dashboard.Panel> {
  return tablePanel({
    title: 'Checks by name',
    description: 'Success ratio of each check over the run, over all runners. ' + CHECKS_WEIGHTING,
    unit: UNIT.percent,
    thresholds: SUCCESS_RATIO_THRESHOLDS(),
    span: 12,
    targets: [tableQuery(checksRatio(l, SELECTOR.scenario, ['check'], true))],
    columns: { 'Value #A': 'success ratio' },
  });
}

/** Check success ratio over time. */
export function checksOverTimePanel(l: LatencyQueries): cog.Builder<dashboard.Panel> {
  return timeseriesPanel({
    title: 'Checks success ratio over time',
    description: 'Success ratio of each check from the start of the run up to each point in time (k6 Rates are cumulative). ' + CHECKS_WEIGHTING,
    unit: UNIT.percent,
    thresholds: SUCCESS_RATIO_THRESHOLDS(),
    targets: [prometheusQuery(checksRatio(l, SELECTOR.scenario, ['check'], false), '{{check}}')],
  });
}

/** Variables of the runner row: where runner pods live. */
export function runnerVariables(defaultNamespace: string): dashboard.TextBoxVariableBuilder[] {
  return [textVariable('runner_namespace', 'Runner namespace', 'Namespace of the runner pods (the platform load-test namespace).', defaultNamespace)];
}

/** The rows of a load-test dashboard, in order. */
export function loadTestRows(l: LatencyQueries): { title: string; panels: cog.Builder<dashboard.Panel>[] }[] {
  return [
    {
      title: 'Performance overview',
      panels: [vusPanel(l), requestRatePanel(l), durationPanel(l), ...overviewStats(l), transferPanel(l), iterationsPanel(l)],
    },
    {
      title: 'HTTP',
      panels: [
        timingsPanel(l),
        percentilesPanel(l),
        ...(l.mode === 'native' ? [heatmapLatencyPanel(l)] : []),
        durationByExpectedPanel(l),
        rateByExpectedPanel(l),
        errorsByStatusPanel(l),
        requestsByUrlPanel(l),
      ],
    },
    { title: 'Checks', panels: [checksTablePanel(l), checksOverTimePanel(l)] },
    {
      title: 'Runners and zones',
      panels: [
        vusPerRunnerPanel(l),
        rateRunnerPanel(l),
        durationPerRunnerPanel(l),
        runnerCpuPanel(),
        runnerThrottlingPanel(),
        runnerMemoryPanel(),
        ...zonePanels(l),
      ],
    },
  ];
}

/** Adds rows and their panels to a dashboard builder (panels flow left to right, wrapping at 24 columns). */
export function addRows(
  builder: dashboard.DashboardBuilder,
  rows: { title: string; panels: cog.Builder<dashboard.Panel>[] }[],
): dashboard.DashboardBuilder {
  let b = builder;
  for (const r of rows) {
    b = b.withRow(row(r.title));
    for (const p of r.panels) b = b.withPanel(p);
  }
  return b;
}
