/**
 * The validity checks and the overall verdict of the pass/fail row: whether the runners were starved, with exactly the
 * PromQL `loadtest verdict` evaluates (constructs/src/k6/validity-queries.ts `validityQueries`) and the limits of
 * `tests[].validity` as their defaults (constructs/src/config/validity.ts), and the run's PASS / FAIL / INCONCLUSIVE
 * decided as cli/verdict/verdict.ts decides it: any validity reason makes the run INCONCLUSIVE, whatever its
 * thresholds say; otherwise PASS when every threshold holds (a threshold without data fails).
 *
 * Two checks need what only the config knows. The planned runner count comes from kube-state-metrics' series of the
 * run's runner Jobs (`plannedRunners`): without them the check is not made here. The declared `duration` is nowhere
 * in Prometheus: the early-end check is made by `loadtest verdict` only ({@link runSpanPanel}).
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  validityQueries,
  validitySchema,
  type ValidityConfig,
  type ValidityQueries,
  type ValidityQueryScope,
} from '@k6-platform/constructs/internal';
import { COLOR, instantQuery, statPanel, thresholds, UNIT } from './common';
import { passExpression, type ThresholdCheck } from './thresholds-row';

/** The verdict's validity scope in a dashboard: the selected runs over the time range, runner pods in `$runner_namespace`. */
export const DASHBOARD_VALIDITY_SCOPE: ValidityQueryScope = {
  testid: '$testid',
  testidMatch: '=~',
  range: '$__range',
  namespace: '$runner_namespace',
};

/** The limits the dashboards judge by: the defaults of `tests[].validity`. */
export const DASHBOARD_VALIDITY: ValidityConfig = validitySchema.parse({});

/** One validity check as the dashboards show it. */
export interface ValidityPanelCheck {
  /** The verdict's name of the check (cli/verdict/validity.ts `ValidityCheck`). */
  readonly check: 'dropped-iterations' | 'runners' | 'runner-terminated' | 'cpu-throttled' | 'memory';
  /** Panel title. */
  readonly title: string;
  /** What is observed, how it is limited, and what a crossing means. */
  readonly description: string;
  /** PromQL of the observed value: one sample without labels, or none when the data is absent. */
  readonly observed: string;
  /** Grafana unit of the observed value. */
  readonly unit: string;
  /** PromQL that is 1 when the check makes the run inconclusive, 0 when not, empty when the check cannot be made. */
  readonly inconclusive: string;
  /** PromQL with one sample per offending runner pod (or the run) when the check fails, none otherwise, and its legend. */
  readonly reason: { readonly expr: string; readonly legend: string };
}

const pct = (v: number) => `${Number((v * 100).toPrecision(3))} %`;

/** The validity checks of `queries` judged by `limits` (a check switched off is left out). */
export function validityChecks(
  queries: ValidityQueries = validityQueries(DASHBOARD_VALIDITY_SCOPE),
  limits = DASHBOARD_VALIDITY,
): ValidityPanelCheck[] {
  if (!limits.enabled) return [];
  const share = (
    check: 'dropped-iterations' | 'cpu-throttled' | 'memory',
    title: string,
    perPod: string | undefined,
    total: string,
    limit: number,
    why: string,
  ) => ({
    check,
    title: `${title} (limit ${pct(limit)})`,
    description: `${why} INCONCLUSIVE above ${pct(limit)} (the default of tests[].validity); no data: not checked (as loadtest verdict skips it).`,
    observed: total,
    unit: UNIT.percent,
    inconclusive: `(${total}) > bool ${limit}`,
    reason: perPod === undefined ? { expr: `(${total}) > ${limit}`, legend: title } : { expr: `${perPod} > ${limit}`, legend: `{{pod}}: ${title}` },
  });
  const reported = `count(${queries.reportedRunners})`;
  const terminated = `count(count by (pod) (${queries.terminatedRunners} > 0))`;
  const checks: ValidityPanelCheck[] = [
    share(
      'dropped-iterations',
      'Dropped iterations',
      undefined,
      queries.droppedShare,
      limits.maxDroppedIterations,
      'Dropped / (dropped + completed) iterations over all runners: k6 drops an iteration when an arrival-rate executor has no free VU, so the offered load was not the declared one.',
    ),
    ...(limits.requireAllRunners
      ? [
          {
            check: 'runners' as const,
            title: 'Runners reported',
            description:
              "Distinct runners (instance_id) that wrote metrics, against the runners planned: the completions of the run's runner Job or the count of the k6-operator's runner Jobs (kube-state-metrics kube_job_spec_completions / kube_job_info). INCONCLUSIVE when fewer reported. Without those kube-state-metrics series the plan is unknown here: checked by loadtest verdict (which reads parallelism from the config).",
            observed: reported,
            unit: UNIT.count,
            inconclusive: `${reported} < bool (${queries.plannedRunners})`,
            reason: { expr: `${reported} < (${queries.plannedRunners})`, legend: 'runners reported, fewer than planned' },
          },
        ]
      : []),
    {
      check: 'runner-terminated',
      title: 'Runner pods ended by Kubernetes',
      description:
        'Runner pods whose k6 container was OOM-killed, or that were evicted, preempted or disrupted (kube-state-metrics). INCONCLUSIVE when any: their share of the load stopped early. None found reads as 0 (kube-state-metrics only has series of pods that ended that way).',
      observed: `${terminated} or vector(0)`,
      unit: UNIT.count,
      inconclusive: `(${terminated} or vector(0)) > bool 0`,
      reason: { expr: `${queries.terminatedRunners} > 0`, legend: '{{pod}}: ended by Kubernetes ({{reason}})' },
    },
    share(
      'cpu-throttled',
      'CPU throttled, worst runner',
      queries.cpuThrottledShare,
      `max(${queries.cpuThrottledShare})`,
      limits.maxCpuThrottled,
      "Share of the CFS periods in which the most throttled runner pod's k6 container was throttled (cAdvisor): k6 then measures its own scheduling delays as latency.",
    ),
    share(
      'memory',
      'Memory, worst runner',
      queries.memoryShare,
      `max(${queries.memoryShare})`,
      limits.maxMemory,
      "Peak working set of the worst runner pod's k6 container as a share of its memory limit (cAdvisor container_spec_memory_limit_bytes; loadtest verdict divides by the limit in the config, the same value on the pod): near the limit the garbage collector skews the timings and the next spike is an OOM kill.",
    ),
  ];
  return checks;
}

/** PromQL that is 1 when any check makes the run inconclusive, else 0 (a check that cannot be made counts as passed). */
export function inconclusiveExpression(checks: readonly ValidityPanelCheck[]): string {
  return checks.length === 0 ? 'vector(0)' : `clamp_max(${checks.map((c) => `(${c.inconclusive} or vector(0))`).join(' + ')}, 1)`;
}

/** The overall verdict's values: Grafana maps them to text. */
export const VERDICT_VALUE = { fail: 0, pass: 1, inconclusive: 2 } as const;

/**
 * PromQL of the overall verdict (see {@link VERDICT_VALUE}): 2 when any validity check fails, else 1 when every
 * threshold holds, else 0; empty when the selected runs have no k6 samples in the range (the verdict's no-data).
 */
export function verdictExpression(thresholdChecks: readonly ThresholdCheck[], checks: readonly ValidityPanelCheck[], testidSelector: string): string {
  const pass = thresholdChecks.length === 0 ? 'vector(1)' : thresholdChecks.map((t) => `(${passExpression(t)} or vector(0))`).join(' * ');
  const hasData = `count(last_over_time(k6_vus{${testidSelector}}[$__range]))`;
  return `((vector(${VERDICT_VALUE.inconclusive}) and on () (${inconclusiveExpression(checks)} > 0)) or (${pass})) and on () ${hasData}`;
}

const RESULT_MAPPINGS: dashboard.ValueMap = {
  type: dashboard.MappingType.ValueToText,
  options: {
    [String(VERDICT_VALUE.fail)]: { text: 'FAIL', color: COLOR.bad, index: 0 },
    [String(VERDICT_VALUE.pass)]: { text: 'PASS', color: COLOR.ok, index: 1 },
    [String(VERDICT_VALUE.inconclusive)]: { text: 'INCONCLUSIVE', color: COLOR.warn, index: 2 },
  },
};

/** The overall PASS / FAIL / INCONCLUSIVE stat. */
export function verdictPanel(
  thresholdChecks: readonly ThresholdCheck[],
  checks: readonly ValidityPanelCheck[],
  testidSelector: string,
  title = 'Verdict',
): ReturnType<typeof statPanel> {
  return statPanel({
    title,
    description:
      'The run as `loadtest verdict` judges it over all runners: INCONCLUSIVE when any validity check below fails (the runners were starved, so the result measures them, not the system), whatever the thresholds say; otherwise PASS when every threshold of the row holds and FAIL when any fails (a threshold without data fails). ' +
      'The same queries as the verdict, over the time range: judge a run with its own time range (open it from the k6 runs list). The early-end check needs the declared duration and is made by loadtest verdict only.',
    unit: UNIT.passFail,
    thresholds: thresholds(COLOR.bad, [COLOR.ok, VERDICT_VALUE.pass], [COLOR.warn, VERDICT_VALUE.inconclusive]),
    span: 6,
    targets: [instantQuery(verdictExpression(thresholdChecks, checks, testidSelector))],
  }).mappings([RESULT_MAPPINGS]);
}

/** Every failing check's reason, one value per offending pod (or the run), named by its legend. */
export function reasonsPanel(checks: readonly ValidityPanelCheck[], title = 'Why inconclusive'): ReturnType<typeof statPanel> {
  return (
    statPanel({
      title,
      description:
        'The validity checks that make the run INCONCLUSIVE, each with its observed value and the runner pod it concerns. Empty: no check failed (or its data is absent: see each check).',
      unit: UNIT.count,
      thresholds: thresholds(COLOR.bad),
      span: 18,
      targets: checks.map((c) => instantQuery(c.reason.expr, c.reason.legend)),
    })
      // refIds follow the targets' order (common.ts finalizeDashboard): each reason in its check's unit
      .textMode(common.BigValueTextMode.ValueAndName)
      .noValue('none: the runners were not starved')
      .overrides(
        checks.map((c, i) => ({
          matcher: { id: 'byFrameRefID', options: String.fromCharCode(65 + i) },
          properties: [{ id: 'unit', value: c.unit }],
        })),
      )
  );
}

/** One OK / INCONCLUSIVE stat and one observed-value stat per check. */
export function validityPanels(checks: readonly ValidityPanelCheck[]): cog.Builder<dashboard.Panel>[] {
  return checks.flatMap((c) => [
    statPanel({
      title: c.title,
      description: `${c.description} The same query decides \`loadtest verdict\`.`,
      unit: UNIT.passFail,
      thresholds: thresholds(COLOR.ok, [COLOR.bad, 1]),
      span: 3,
      targets: [instantQuery(c.inconclusive)],
    })
      .mappings([
        {
          type: dashboard.MappingType.ValueToText,
          options: { '0': { text: 'OK', color: COLOR.ok, index: 0 }, '1': { text: 'INCONCLUSIVE', color: COLOR.bad, index: 1 } },
        },
      ])
      .noValue('not checked (no data)'),
    statPanel({
      title: `${c.title} (observed)`,
      description: `Observed value of: ${c.description}`,
      unit: c.unit,
      span: 3,
      targets: [instantQuery(c.observed)],
    }),
  ]);
}

/**
 * The early-end check needs the declared duration, which only the config holds: the row shows the samples' span (what
 * the verdict compares with it) and says the check is made by `loadtest verdict`.
 */
export function runSpanPanel(testidSelector: string): ReturnType<typeof statPanel> {
  const sel = `{${testidSelector}}`;
  const first = `min(min_over_time((timestamp(k6_vus${sel}) and k6_vus${sel} > 0)[$__range:$__interval]))`;
  const last = `max(max_over_time(timestamp(k6_vus${sel})[$__range:$__interval]))`;
  return statPanel({
    title: 'Run span (early end: checked by loadtest verdict)',
    description: `From the first sample with active VUs to the last sample, to one $__interval. The early-end check compares the span with the test's declared \`duration\`, which only the config holds: \`loadtest verdict\` reports a run INCONCLUSIVE when it spans less than ${pct(DASHBOARD_VALIDITY.minDuration)} of it (and no abortOnFail threshold failed), while this row can show PASS or FAIL.`,
    unit: UNIT.seconds,
    span: 6,
    targets: [instantQuery(`${last} - ${first}`)],
  });
}

/** The selector of the selected runs' k6 series. */
export const DASHBOARD_RUN_SELECTOR = 'testid=~"$testid"';

/**
 * The pass/fail row of a load-test dashboard: the overall verdict and its reasons, each threshold, each validity
 * check, and the note on the early-end check.
 */
export function passFailPanels(checks: readonly ThresholdCheck[], panels: cog.Builder<dashboard.Panel>[]): cog.Builder<dashboard.Panel>[] {
  const validity = validityChecks();
  return [
    verdictPanel(checks, validity, DASHBOARD_RUN_SELECTOR),
    reasonsPanel(validity),
    ...panels,
    ...validityPanels(validity),
    runSpanPanel(DASHBOARD_RUN_SELECTOR),
  ];
}
