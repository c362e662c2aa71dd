/**
 * Whether a judged run is valid: the checks of `tests[].validity` (constructs/src/config/validity.ts) over all
 * runners, from the same Prometheus the thresholds are read from. Each failed check is a reason; a run with any reason
 * is INCONCLUSIVE. A check whose data is absent (no cAdvisor series: a backend that scrapes no kubelet) is skipped and
 * said so in `unchecked`, never a reason.
 */
import {
  K6_CONTAINER,
  k6DurationSeconds,
  nonRunnerPodPattern,
  promqlString,
  quantityValue,
  RUN_TAGS,
  runnerPodPattern,
  type PlatformConfig,
  type TestConfig,
  type ValidityConfig,
} from '@k6-platform/constructs';
import { vectorSamples, type PromData } from '../prometheus/client';

/** What the checks need besides the data: the test's validity config and the plan of the run. */
export interface ValidityInput {
  readonly validity: ValidityConfig;
  /** Runners the run was planned with (`parallelism`). */
  readonly plannedRunners: number;
  /** Namespace of the runner pods (cAdvisor's `namespace` label). */
  readonly namespace: string;
  /** Memory limit of a runner's k6 container, bytes; no memory check without one. */
  readonly memoryLimitBytes?: number;
  /** The test's declared `duration`, seconds; no duration check without one. */
  readonly declaredDurationSeconds?: number;
}

/** Which check a reason comes from. */
export type ValidityCheck = 'dropped-iterations' | 'cpu-throttled' | 'memory' | 'runners' | 'duration';

/** One reason a run is not valid. */
export interface ValidityReason {
  readonly check: ValidityCheck;
  /** What was observed (a share, or a count of runners). */
  readonly observed: number;
  /** The configured limit it crossed. */
  readonly limit: number;
  /** One line for people. */
  readonly message: string;
}

/** The outcome of the checks. */
export interface Validity {
  readonly reasons: readonly ValidityReason[];
  /** Checks skipped for lack of data, with why. */
  readonly unchecked: readonly string[];
}

/** The Prometheus calls the checks make (the verdict's bounded API). */
export interface ValidityApi {
  data(expr: string, time: number): Promise<PromData>;
}

/** The {@link ValidityInput} of a configured test in an environment. */
export function validityInput(cfg: PlatformConfig, test: TestConfig): ValidityInput {
  const memory = (test.resources ?? cfg.runner.resources).limits?.memory;
  return {
    validity: test.validity,
    plannedRunners: test.parallelism,
    namespace: cfg.namespaces.loadTests,
    ...(memory !== undefined ? { memoryLimitBytes: quantityValue(memory) } : {}),
    ...(test.duration !== undefined ? { declaredDurationSeconds: k6DurationSeconds(test.duration) } : {}),
  };
}

const pct = (v: number) => `${Number((v * 100).toPrecision(3))} %`;

/**
 * Runs the checks over the window `[startMs, endMs]`, each query evaluated at its end over the whole window.
 * `abortedByThreshold`: a threshold with `abortOnFail` failed, so an early end is explained (no duration reason).
 */
export async function checkValidity(
  api: ValidityApi,
  testid: string,
  window: { readonly start: number; readonly end: number },
  input: ValidityInput,
  abortedByThreshold: boolean,
): Promise<Validity> {
  const v = input.validity;
  if (!v.enabled) return { reasons: [], unchecked: [] };
  const at = window.end / 1000;
  const w = `${Math.max(1, Math.ceil((window.end - window.start) / 1000))}s`;
  const run = `{${RUN_TAGS.testid}=${promqlString(testid)}}`;
  const byPod = async (expr: string) => vectorSamples(await api.data(expr, at), expr).filter((s) => Number.isFinite(s.value));
  const total = async (expr: string) => (await byPod(expr)).reduce((sum, s) => sum + s.value, 0);
  const reasons: ValidityReason[] = [];
  const unchecked: string[] = [];

  const dropped = await total(`sum(last_over_time(k6_dropped_iterations_total${run}[${w}]))`);
  const completed = await total(`sum(last_over_time(k6_iterations_total${run}[${w}]))`);
  const droppedShare = dropped + completed > 0 ? dropped / (dropped + completed) : 0;
  if (droppedShare > v.maxDroppedIterations) {
    reasons.push({
      check: 'dropped-iterations',
      observed: droppedShare,
      limit: v.maxDroppedIterations,
      message: `${dropped} iterations dropped (${pct(droppedShare)} of ${dropped + completed}, limit ${pct(v.maxDroppedIterations)}): the runners had no free VU to start them, so the offered load was not the declared one`,
    });
  }

  if (v.requireAllRunners) {
    const reported = (await byPod(`count by (${RUN_TAGS.instance}) (last_over_time(k6_vus${run}[${w}]))`)).length;
    if (reported < input.plannedRunners) {
      reasons.push({
        check: 'runners',
        observed: reported,
        limit: input.plannedRunners,
        message: `${reported} of ${input.plannedRunners} planned runners reported: the missing ones' share of the load was never offered`,
      });
    }
  }

  const pods = `namespace=${promqlString(input.namespace)}, pod=~${promqlString(runnerPodPattern(testid))}, pod!~${promqlString(nonRunnerPodPattern(testid))}, container=${promqlString(K6_CONTAINER)}`;
  const throttled = await byPod(
    `sum by (pod) (increase(container_cpu_cfs_throttled_periods_total{${pods}}[${w}])) / sum by (pod) (increase(container_cpu_cfs_periods_total{${pods}}[${w}]))`,
  );
  const worstCpu = throttled.sort((a, b) => b.value - a.value)[0];
  if (worstCpu === undefined) unchecked.push('CPU throttling: no cAdvisor CFS series for the runner pods');
  else if (worstCpu.value > v.maxCpuThrottled) {
    reasons.push({
      check: 'cpu-throttled',
      observed: worstCpu.value,
      limit: v.maxCpuThrottled,
      message: `runner pod ${worstCpu.metric.pod ?? '?'} was CPU-throttled in ${pct(worstCpu.value)} of its CFS periods (limit ${pct(v.maxCpuThrottled)}): k6 measured its own scheduling delays as latency`,
    });
  }

  if (input.memoryLimitBytes === undefined) unchecked.push('memory: the runners have no memory limit');
  else {
    const peaks = await byPod(`max by (pod) (max_over_time(container_memory_working_set_bytes{${pods}}[${w}]))`);
    const worst = peaks.sort((a, b) => b.value - a.value)[0];
    if (worst === undefined) unchecked.push('memory: no cAdvisor working-set series for the runner pods');
    else if (worst.value / input.memoryLimitBytes > v.maxMemory) {
      const share = worst.value / input.memoryLimitBytes;
      reasons.push({
        check: 'memory',
        observed: share,
        limit: v.maxMemory,
        message: `runner pod ${worst.metric.pod ?? '?'} peaked at ${pct(share)} of its memory limit (limit ${pct(v.maxMemory)}): near an OOM kill, the garbage collector skews the timings`,
      });
    }
  }

  if (input.declaredDurationSeconds !== undefined && !abortedByThreshold) {
    const span = (window.end - window.start) / 1000;
    const share = span / input.declaredDurationSeconds;
    if (share < v.minDuration) {
      reasons.push({
        check: 'duration',
        observed: share,
        limit: v.minDuration,
        message: `the samples span ${span} s of the declared ${input.declaredDurationSeconds} s (${pct(share)}, at least ${pct(v.minDuration)}) and no abortOnFail threshold failed: the run ended early`,
      });
    }
  }
  return { reasons, unchecked };
}
