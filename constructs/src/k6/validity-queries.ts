/**
 * The PromQL of the validity checks (pure: no I/O): whether a run's runners were starved, from the runners' own k6
 * series, cAdvisor (kubelet) and kube-state-metrics. `loadtest verdict` (cli/verdict/validity.ts) and the dashboards'
 * pass/fail row evaluate the same strings, so they cannot disagree on the same window.
 *
 * Label sets are the ones kube-prometheus-stack 88.5.3 scrapes: cAdvisor through the kubelet ServiceMonitor
 * (`namespace`, `pod`, `container`), kube-state-metrics 2.20.0 with `honorLabels: true` (its chart values
 * `prometheus.monitor.http.honorLabels`), so `namespace` and `pod` are the described pod's, not the exporter's
 * (kube-state-metrics v2.20.0 internal/store/pod.go `wrapPodFunc` adds `namespace`, `pod`, `uid`).
 */
import { K6_CONTAINER } from '../contract/k6';
import { RUN_TAGS } from '../contract/labels';
import { promqlString } from '../contract/prometheus';
import { nonRunnerPodPattern, runnerPodPattern } from '../contract/runs';

/** What the validity queries are evaluated over (at the run's end). */
export interface ValidityQueryScope {
  /** The run id (`testid` label), or a Grafana variable such as `$testid`. */
  readonly testid: string;
  /** `=` for one run, `=~` for a Grafana multi-value variable. @default "=" */
  readonly testidMatch?: '=' | '=~';
  /** The run window as a PromQL range: `60s`, or `$__range`. */
  readonly range: string;
  /** Namespace of the runner pods (cAdvisor's and kube-state-metrics' `namespace`), or a Grafana variable. */
  readonly namespace: string;
}

/**
 * Why a runner pod ended that says the platform, not the script, ended it: kube-state-metrics' terminated reasons and
 * pod status reasons. `OOMKilled` is the kubelet's reason for a container the kernel killed at its memory limit;
 * the pod reasons are kube-state-metrics v2.20.0 `podStatusReasons` minus those that only keep a pod from starting
 * (`NodeAffinity`, `SchedulingGated`, `UnexpectedAdmissionError`: a runner that never started is the runners check's),
 * and every `DisruptionTarget` condition (`kube_pod_status_disruption_reason`: preemption, taint eviction, eviction
 * API, pod GC, kubelet termination).
 */
export const RUNNER_TERMINATION = {
  containerReasons: ['OOMKilled'],
  podReasons: ['Evicted', 'NodeLost', 'PreemptionByScheduler', 'Shutdown', 'TerminationByKubelet'],
} as const;

/** The validity checks' PromQL for one scope. */
export interface ValidityQueries {
  /** Iterations the runners dropped, summed over the runners (one sample, or none). */
  readonly droppedIterations: string;
  /** Iterations the runners completed, summed over the runners. */
  readonly completedIterations: string;
  /** Dropped / (dropped + completed): 0 when nothing was dropped, empty without iterations. */
  readonly droppedShare: string;
  /** One sample per runner that wrote metrics (distinct `instance_id`). */
  readonly reportedRunners: string;
  /** Per runner pod: the share of its k6 container's CFS periods that were throttled. */
  readonly cpuThrottledShare: string;
  /** Per runner pod: the peak working set of its k6 container, bytes. */
  readonly memoryPeakBytes: string;
  /** Per runner pod with a memory limit: the peak working set as a share of cAdvisor's limit. */
  readonly memoryShare: string;
  /** Per runner pod and reason: 1 when its k6 container was OOM-killed, or the pod evicted or disrupted. */
  readonly terminatedRunners: string;
}

/** The selector of a scope's k6 series: `{testid="..."}`. */
function runSelector(scope: ValidityQueryScope): string {
  return `{${RUN_TAGS.testid}${scope.testidMatch ?? '='}${promqlString(scope.testid)}}`;
}

/** The matchers of the run's runner pods (not the starter, initializer or stop pods), without the container. */
function runnerPods(scope: ValidityQueryScope): string {
  const q = promqlString;
  return `namespace=${q(scope.namespace)}, pod=~${q(runnerPodPattern(scope.testid))}, pod!~${q(nonRunnerPodPattern(scope.testid))}`;
}

/** The validity checks' PromQL over `scope`. */
export function validityQueries(scope: ValidityQueryScope): ValidityQueries {
  const run = runSelector(scope);
  const r = scope.range;
  const k6 = `${runnerPods(scope)}, container=${promqlString(K6_CONTAINER)}`;
  const dropped = `sum(last_over_time(k6_dropped_iterations_total${run}[${r}]))`;
  const completed = `sum(last_over_time(k6_iterations_total${run}[${r}]))`;
  const reasons = (rs: readonly string[]) => promqlString(rs.join('|'));
  const overWindow = (metric: string, matchers: string) => `max by (pod, reason) (max_over_time(${metric}{${matchers}}[${r}]))`;
  return {
    droppedIterations: dropped,
    completedIterations: completed,
    // A run without dropped iterations has no counter at all: `or` gives 0 for it, over the same completed count.
    droppedShare: `(${dropped} or ${completed} * 0) / ((${dropped} or ${completed} * 0) + ${completed})`,
    reportedRunners: `count by (${RUN_TAGS.instance}) (last_over_time(k6_vus${run}[${r}]))`,
    cpuThrottledShare: `sum by (pod) (increase(container_cpu_cfs_throttled_periods_total{${k6}}[${r}])) / sum by (pod) (increase(container_cpu_cfs_periods_total{${k6}}[${r}]))`,
    memoryPeakBytes: `max by (pod) (max_over_time(container_memory_working_set_bytes{${k6}}[${r}]))`,
    // cAdvisor reports 0 for a container without a limit: such a pod has no share.
    memoryShare: `max by (pod) (max_over_time(container_memory_working_set_bytes{${k6}}[${r}])) / (max by (pod) (max_over_time(container_spec_memory_limit_bytes{${k6}}[${r}])) > 0)`,
    terminatedRunners:
      `${overWindow('kube_pod_container_status_terminated_reason', `${k6}, reason=~${reasons(RUNNER_TERMINATION.containerReasons)}`)} or ` +
      `${overWindow('kube_pod_status_reason', `${runnerPods(scope)}, reason=~${reasons(RUNNER_TERMINATION.podReasons)}`)} or ` +
      overWindow('kube_pod_status_disruption_reason', runnerPods(scope)),
  };
}
