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
  /**
   * The runners the run was planned with, from kube-state-metrics' series of its runner Jobs (one sample, or none
   * without them): the completions of the jobs form's Indexed Job `<id>-runner` (a scheduled run's Job is named by its
   * testid), or the count of the k6-operator's Jobs `<id>-<index>`. The verdict takes the plan from the config; the
   * dashboards, which have no config, from here.
   */
  readonly plannedRunners: string;
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

/**
 * kube-state-metrics v2.20.0 internal/store/job.go: `kube_job_spec_completions` (only with `spec.completions` set) and
 * `kube_job_info`, each labelled `namespace` and `job_name` by `wrapJobFunc`. The jobs form sets `completions` to the
 * parallelism (load-test/jobs-form.ts); k6-operator v1.6.0 pkg/resources/jobs/runner.go names one Job per runner
 * `<testrun>-<index>`, index 1..parallelism.
 */
function plannedRunners(scope: ValidityQueryScope): string {
  const q = promqlString;
  const ns = `namespace=${q(scope.namespace)}`;
  const overWindow = (metric: string, jobs: string) => `max by (job_name) (max_over_time(${metric}{${ns}, job_name=~${q(jobs)}}[${scope.range}]))`;
  return (
    `sum(${overWindow('kube_job_spec_completions', `${scope.testid}-runner|${scope.testid}`)}) or ` +
    `count(${overWindow('kube_job_info', `${scope.testid}-[0-9]+`)})`
  );
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
    // A run without dropped iterations has no dropped counter at all, one that dropped every iteration no completed
    // one: `or` gives 0 for the missing one, as the verdict counts it.
    droppedShare: `(${dropped} or ${completed} * 0) / ((${dropped} or ${completed} * 0) + (${completed} or ${dropped} * 0))`,
    reportedRunners: `count by (${RUN_TAGS.instance}) (last_over_time(k6_vus${run}[${r}]))`,
    plannedRunners: plannedRunners(scope),
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
