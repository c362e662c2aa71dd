/**
 * Whether a judged run is valid: the checks of `tests[].validity` (constructs/src/config/validity.ts) over all
 * runners, from the same Prometheus the thresholds are read from. Each failed check is a reason; a run with any reason
 * is INCONCLUSIVE. A check whose data is absent (no cAdvisor series: a backend that scrapes no kubelet) is skipped and
 * said so in `unchecked`, never a reason. cAdvisor series are matched to the run's runner pods by the contract's pod
 * naming and the k6 container's name, `k6` in both forms (the jobs form's K6_CONTAINER; k6-operator v1.6.0
 * pkg/resources/jobs/runner.go names its runner container "k6" too).
 */
import {
  k6DurationSeconds,
  quantityValue,
  validityQueries,
  type PlatformConfig,
  type TestConfig,
  type ValidityConfig,
  type ValidityQueries,
} from '@k6-platform/constructs/internal';
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
  /**
   * Runners `loadtest run` saw fail in their pods' status (OOM-killed, evicted, crashed), one line each (`runner 2
   * (x-runner-2-abcde): k6 exited 137 (...): OOMKilled`): each is a reason. The
   * pods' status is the authority while they exist; kube-state-metrics' series of them may miss a pod deleted between
   * two scrapes.
   */
  readonly runnerFailures?: readonly string[];
}

/** Which check a reason comes from. */
export type ValidityCheck = 'dropped-iterations' | 'cpu-throttled' | 'memory' | 'runners' | 'runner-terminated' | 'duration';

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

/** What each check needs: the run's queries over the window, and the queries' samples at the window's end. */
interface CheckContext {
  readonly input: ValidityInput;
  readonly window: { readonly start: number; readonly end: number };
  /** The checks' PromQL over the whole window (constructs/src/k6/validity-queries.ts, shared with the dashboards). */
  readonly queries: ValidityQueries;
  /** The finite samples of an instant query at the window's end. */
  readonly samples: (expr: string) => Promise<{ readonly metric: Record<string, string>; readonly value: number }[]>;
}

/** The sample with the highest value (the worst runner pod), or undefined when the query found none. */
async function worstOf(c: CheckContext, expr: string) {
  return (await c.samples(expr)).reduce<Awaited<ReturnType<CheckContext['samples']>>[number] | undefined>(
    (worst, s) => (worst === undefined || s.value > worst.value ? s : worst),
    undefined,
  );
}

/** Adds a reason, or why the check could not be made, to the outcome. */
type Check = (c: CheckContext, out: { reasons: ValidityReason[]; unchecked: string[] }) => Promise<void>;

const droppedIterations: Check = async (c, out) => {
  const limit = c.input.validity.maxDroppedIterations;
  // each query sums over the runners itself: one sample, or none when no runner wrote the counter
  const total = async (expr: string) => (await c.samples(expr))[0]?.value ?? 0;
  const dropped = await total(c.queries.droppedIterations);
  const completed = await total(c.queries.completedIterations);
  const share = dropped + completed > 0 ? dropped / (dropped + completed) : 0;
  if (share <= limit) return;
  out.reasons.push({
    check: 'dropped-iterations',
    observed: share,
    limit,
    message: `${dropped} iterations dropped (${pct(share)} of ${dropped + completed}, limit ${pct(limit)}): the runners had no free VU to start them, so the offered load was not the declared one`,
  });
};

const runnersReported: Check = async (c, out) => {
  if (!c.input.validity.requireAllRunners) return;
  const reported = (await c.samples(c.queries.reportedRunners)).length;
  if (reported >= c.input.plannedRunners) return;
  out.reasons.push({
    check: 'runners',
    observed: reported,
    limit: c.input.plannedRunners,
    message: `${reported} of ${c.input.plannedRunners} planned runners reported: the missing ones' share of the load was never offered`,
  });
};

const cpuThrottled: Check = async (c, out) => {
  const limit = c.input.validity.maxCpuThrottled;
  const worst = await worstOf(c, c.queries.cpuThrottledShare);
  if (worst === undefined) out.unchecked.push('CPU throttling: no cAdvisor CFS series for the runner pods');
  else if (worst.value > limit) {
    out.reasons.push({
      check: 'cpu-throttled',
      observed: worst.value,
      limit,
      message: `runner pod ${worst.metric.pod ?? '?'} was CPU-throttled in ${pct(worst.value)} of its CFS periods (limit ${pct(limit)}): k6 measured its own scheduling delays as latency`,
    });
  }
};

const memoryNearLimit: Check = async (c, out) => {
  const limit = c.input.validity.maxMemory;
  const bytes = c.input.memoryLimitBytes;
  if (bytes === undefined) return void out.unchecked.push('memory: the runners have no memory limit');
  const worst = await worstOf(c, c.queries.memoryPeakBytes);
  if (worst === undefined) return void out.unchecked.push('memory: no cAdvisor working-set series for the runner pods');
  const share = worst.value / bytes;
  if (share <= limit) return;
  out.reasons.push({
    check: 'memory',
    observed: share,
    limit,
    message: `runner pod ${worst.metric.pod ?? '?'} peaked at ${pct(share)} of its memory limit (limit ${pct(limit)}): near an OOM kill, the garbage collector skews the timings`,
  });
};

/**
 * Runner pods Kubernetes ended: OOM-killed, evicted, preempted or disrupted (kube-state-metrics; see
 * `RUNNER_TERMINATION`). An empty answer is no reason: kube-state-metrics only has series of pods that ended that
 * way, so "none found" and "no kube-state-metrics" read alike, and the runners check still counts who reported. Its
 * series live as long as the pod (a pod deleted between two scrapes leaves none): `loadtest run` reads the pods
 * themselves ({@link ValidityInput.runnerFailures}).
 */
const runnersTerminated: Check = async (c, out) => {
  const byPod = new Map<string, string[]>();
  for (const s of await c.samples(c.queries.terminatedRunners)) {
    if (s.value <= 0) continue;
    const pod = s.metric.pod ?? '?';
    byPod.set(pod, [...(byPod.get(pod) ?? []), s.metric.reason ?? '?']);
  }
  if (byPod.size === 0) return;
  const list = [...byPod].map(([pod, reasons]) => `${pod} (${[...new Set(reasons)].sort().join(', ')})`).sort();
  out.reasons.push({
    check: 'runner-terminated',
    observed: byPod.size,
    limit: 0,
    message: `${byPod.size} runner pod(s) ended by Kubernetes, not by the script: ${list.join('; ')}: their share of the load stopped early`,
  });
};

/** A failed runner seen by `loadtest run` in the pod's own status. */
function runnerFailureReason(line: string, planned: number): ValidityReason {
  return { check: 'runner-terminated', observed: 1, limit: 0, message: `${line}: one of ${planned} runners' share of the load stopped early` };
}

/** An early end: only when a duration is declared and no abortOnFail threshold explains it (see {@link checkValidity}). */
function endedEarly(c: CheckContext, out: { reasons: ValidityReason[] }): void {
  const declared = c.input.declaredDurationSeconds;
  if (declared === undefined) return;
  const limit = c.input.validity.minDuration;
  const span = (c.window.end - c.window.start) / 1000;
  const share = span / declared;
  if (share >= limit) return;
  out.reasons.push({
    check: 'duration',
    observed: share,
    limit,
    message: `the samples span ${span} s of the declared ${declared} s (${pct(share)}, at least ${pct(limit)}) and no abortOnFail threshold failed: the run ended early`,
  });
}

/**
 * Runs the checks over the window `[start, end]` (unix ms), each query evaluated at its end over the whole window.
 * `abortedByThreshold`: a threshold with `abortOnFail` failed, so an early end is explained (no duration reason).
 */
export async function checkValidity(
  api: ValidityApi,
  testid: string,
  window: { readonly start: number; readonly end: number },
  input: ValidityInput,
  abortedByThreshold: boolean,
): Promise<Validity> {
  if (!input.validity.enabled) return { reasons: [], unchecked: [] };
  const range = `${Math.max(1, Math.ceil((window.end - window.start) / 1000))}s`;
  const c: CheckContext = {
    input,
    window,
    queries: validityQueries({ testid, range, namespace: input.namespace }),
    samples: async (expr) => vectorSamples(await api.data(expr, window.end / 1000), expr).filter((s) => Number.isFinite(s.value)),
  };
  const out = { reasons: [] as ValidityReason[], unchecked: [] as string[] };
  for (const check of [droppedIterations, runnersReported, runnersTerminated, cpuThrottled, memoryNearLimit]) await check(c, out);
  for (const f of input.runnerFailures ?? []) out.reasons.push(runnerFailureReason(f, input.plannedRunners));
  if (!abortedByThreshold) endedEarly(c, out);
  return out;
}
