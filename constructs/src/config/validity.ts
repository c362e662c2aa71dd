import { z } from 'zod';

/**
 * When a run's result is not valid (`tests[].validity`): a run whose runners were starved measures the runners, not
 * the system under test, so the verdict reports it INCONCLUSIVE with the reason instead of PASS or FAIL. Each limit
 * is a share (0..1) of something the runners' own metrics or cAdvisor show; the defaults and why:
 *
 * - `maxDroppedIterations` 0.01: k6 drops an iteration only when an arrival-rate executor has no free VU to start it
 *   (k6 `dropped_iterations`); a few at a ramp are noise, a sustained 1 % means the offered load was not the declared
 *   one.
 * - `maxCpuThrottled` 0.25: the share of CFS periods in which a runner's k6 container was throttled (cAdvisor
 *   `container_cpu_cfs_throttled_periods_total / container_cpu_cfs_periods_total`). Throttled in a quarter of its
 *   periods, k6 measures its own scheduling delays as latency.
 * - `maxMemory` 0.9: the runner's peak working set (cAdvisor `container_memory_working_set_bytes`, what the OOM killer
 *   compares) against its memory limit: above 90 % the garbage collector runs constantly and the next spike is an
 *   OOM kill.
 * - `requireAllRunners` true: every planned runner (`parallelism`) must have reported (distinct `instance_id` in the
 *   run's samples); a missing runner means a missing share of the load.
 * - `minDuration` 0.9: with `duration` declared, a run whose samples span less than 90 % of it ended early (a runner
 *   failed, or the run was stopped), unless a threshold with `abortOnFail` failed.
 */
const share = (what: string) => {
  const error = `must be a number from 0 to 1 (a share of ${what})`;
  return z.number({ error }).min(0, { error }).max(1, { error });
};

/** Schema of `tests[].validity`. */
export const validitySchema = z.strictObject({
  /** Judge validity at all; false reports PASS or FAIL from the thresholds alone. @default true */
  enabled: z.boolean({ error: 'must be true or false' }).default(true),
  /** Highest share of dropped iterations (dropped / (dropped + completed)). @default 0.01 */
  maxDroppedIterations: share('iterations').default(0.01),
  /** Highest share of CFS periods a runner's k6 container may be throttled in. @default 0.25 */
  maxCpuThrottled: share('CFS periods').default(0.25),
  /** Highest peak working set of a runner's k6 container as a share of its memory limit. @default 0.9 */
  maxMemory: share('the memory limit').default(0.9),
  /** Every planned runner must have reported. @default true */
  requireAllRunners: z.boolean({ error: 'must be true or false' }).default(true),
  /** Shortest span of the samples as a share of the declared `duration` (no check without one). @default 0.9 */
  minDuration: share('the declared duration').default(0.9),
});

/** `tests[].validity` as parsed (defaults filled in). */
export type ValidityConfig = z.output<typeof validitySchema>;
