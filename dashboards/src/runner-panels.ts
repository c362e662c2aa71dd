/**
 * The runner panels of the k6 load-test dashboards: load per runner (`instance_id`) and the runner pods' CPU, throttling
 * and memory from cAdvisor, so a saturated load generator is told apart from a slow target.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { nonRunnerPodPattern, runnerPodPattern } from '@k6-platform/constructs/internal';
import { COLOR, LATENCY_THRESHOLDS, prometheusQuery, SELECTOR, thresholds, timeseriesPanel, UNIT, WINDOW_STEP } from './common';
import { descriptionSuffix, latencyLabel, QUANTILES, type LatencyQueries } from './queries';

/**
 * A runner: `instance_id`, its index, which in a run spread over several clusters is `<zone>-<index>` (each cluster
 * numbers its runners from 0), so it names one runner across the zones too.
 */
const RUNNER = ['instance_id'];
const RUNNER_LEGEND = 'runner {{instance_id}}';

/** VUs per runner (`instance_id`). */
export function vusPerRunnerPanel(l: LatencyQueries): cog.Builder<dashboard.Panel> {
  return timeseriesPanel({
    title: 'VUs per runner',
    description: 'Active VUs of each runner (instance_id). Runners of one run should carry equal shares; a line that drops alone is a sick runner.',
    unit: UNIT.vus,
    span: 8,
    targets: [prometheusQuery(l.gauge('k6_vus', SELECTOR.run, RUNNER), RUNNER_LEGEND)],
  });
}

/** Request rate per runner. */
export function rateRunnerPanel(l: LatencyQueries): cog.Builder<dashboard.Panel> {
  return timeseriesPanel({
    title: 'Request rate per runner',
    description: 'HTTP requests per second of each runner (instance_id). A runner far below the others is saturated or failing.',
    unit: UNIT.requestsPerSecond,
    span: 8,
    targets: [prometheusQuery(l.rate('k6_http_reqs_total', SELECTOR.http, RUNNER), RUNNER_LEGEND)],
  });
}

/** Latency per runner: the same target seen slower by one runner points at the runner, not the target. */
export function durationPerRunnerPanel(l: LatencyQueries): cog.Builder<dashboard.Panel> {
  return timeseriesPanel({
    title: latencyLabel(l, 'Request duration per runner'),
    description:
      'http_req_duration at the selected quantile per runner, one point a minute at least (one line a runner). If one runner ' +
      'sees much higher latency than the others, the runner (CPU, network) is the bottleneck, not the target.' +
      descriptionSuffix(l),
    unit: UNIT.seconds,
    span: 8,
    thresholds: LATENCY_THRESHOLDS(),
    targets: [
      prometheusQuery(l.overTime('http_req_duration', QUANTILES.selected, SELECTOR.http, RUNNER), latencyLabel(l, RUNNER_LEGEND)).interval(
        WINDOW_STEP,
      ),
    ],
  });
}

/**
 * cAdvisor selector of the runner containers. cAdvisor series carry namespace, pod and container but no pod labels
 * (the runner pods' `k6.platform/run-id` label is not on them), so runners are matched by namespace and by the pod
 * names of a run ({@link runnerPodPattern} and {@link nonRunnerPodPattern}, the naming functions of the contract).
 * `container!=""` drops the pod-level cgroup series and `container!="POD"` the pause container.
 */
export const RUNNER_CONTAINER_SELECTOR = `namespace="$runner_namespace", pod=~"${runnerPodPattern('$testid')}", pod!~"${nonRunnerPodPattern('$testid')}", container!="", container!="POD"`;

/** Runner pod CPU usage (cores). */
export function runnerCpuPanel(): cog.Builder<dashboard.Panel> {
  return timeseriesPanel({
    title: 'Runner CPU',
    description:
      'CPU cores used by each runner pod (cAdvisor container_cpu_usage_seconds_total, collected by kube-prometheus-stack). Usage at ' +
      'the CPU limit means the load generator is saturated: latencies and dropped iterations then say more about the runner than about ' +
      'the target. Pods are matched by namespace (variable runner_namespace) and by their name, which starts with the testid.',
    unit: UNIT.cores,
    span: 8,
    thresholds: thresholds(COLOR.ok, [COLOR.warn, 0.8], [COLOR.bad, 0.95]),
    targets: [prometheusQuery(`sum by (pod) (rate(container_cpu_usage_seconds_total{${RUNNER_CONTAINER_SELECTOR}}[$__rate_interval]))`, '{{pod}}')],
  });
}

/** Runner pod CPU throttling. */
export function runnerThrottlingPanel(): cog.Builder<dashboard.Panel> {
  return timeseriesPanel({
    title: 'Runner CPU throttling',
    description:
      'Share of CFS periods in which each runner pod was throttled at its CPU limit (cAdvisor). Sustained throttling skews k6 timings: ' +
      'give the runners more CPU or more parallelism.',
    unit: UNIT.percent,
    span: 8,
    thresholds: thresholds(COLOR.ok, [COLOR.warn, 0.05], [COLOR.bad, 0.25]),
    targets: [
      prometheusQuery(
        `sum by (pod) (rate(container_cpu_cfs_throttled_periods_total{${RUNNER_CONTAINER_SELECTOR}}[$__rate_interval])) / ` +
          `sum by (pod) (rate(container_cpu_cfs_periods_total{${RUNNER_CONTAINER_SELECTOR}}[$__rate_interval]))`,
        '{{pod}}',
      ),
    ],
  });
}

/** Runner pod memory. */
export function runnerMemoryPanel(): cog.Builder<dashboard.Panel> {
  return timeseriesPanel({
    title: 'Runner memory',
    description:
      'Working-set memory of each runner pod (cAdvisor container_memory_working_set_bytes, what the OOM killer looks at). Growth ' +
      'with VUs is normal; reaching the limit kills the runner.',
    unit: UNIT.bytes,
    span: 8,
    targets: [prometheusQuery(`sum by (pod) (container_memory_working_set_bytes{${RUNNER_CONTAINER_SELECTOR}})`, '{{pod}}')],
  });
}

/** The zones of a run spread over several clusters: load and latency per zone, so one region's share shows. */
export function zonePanels(l: LatencyQueries): cog.Builder<dashboard.Panel>[] {
  const zone = ['zone'];
  return [
    timeseriesPanel({
      title: 'VUs per zone',
      description: 'Active VUs of each zone (the cluster a run spread over several ran in; empty for a run in one cluster).',
      unit: UNIT.vus,
      span: 8,
      targets: [prometheusQuery(l.gauge('k6_vus', SELECTOR.run, zone), 'zone {{zone}}')],
    }),
    timeseriesPanel({
      title: 'Request rate per zone',
      description: 'HTTP requests per second of each zone: the split between the clusters (loadtest run --split) as the target saw it.',
      unit: UNIT.requestsPerSecond,
      span: 8,
      targets: [prometheusQuery(l.rate('k6_http_reqs_total', SELECTOR.http, zone), 'zone {{zone}}')],
    }),
    timeseriesPanel({
      title: latencyLabel(l, 'Request duration per zone'),
      description:
        'http_req_duration at the selected quantile per zone: a zone far slower than the others is farther from the target, or its ' +
        'runners are saturated.' +
        descriptionSuffix(l),
      unit: UNIT.seconds,
      span: 8,
      thresholds: LATENCY_THRESHOLDS(),
      targets: [prometheusQuery(l.overTime('http_req_duration', QUANTILES.selected, SELECTOR.http, zone), latencyLabel(l, 'zone {{zone}}'))],
    }),
  ];
}
